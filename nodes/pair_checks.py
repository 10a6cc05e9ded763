"""Checks on a main/guide model pair, run before any sampling or loading to the device.

Autoguidance mixes D1 (main) and D0 (guide) predictions of the *same* x at the *same* σ, so
both models must share the latent space (format and channels) and the noise-level scale.
"""

from __future__ import annotations

import math
from typing import Any


def describe(patcher: Any) -> str:
    """A short human name for a model: its family and latent format, e.g. 'SDXL (latent SDXL, 4 ch)'."""
    model = patcher.model
    family = type(getattr(model, "model_config", model)).__name__
    fmt = model.latent_format
    return f"{family} (latent {type(fmt).__name__}, {fmt.latent_channels} ch)"


def _sigma_range(patcher: Any) -> tuple[float, float]:
    ms = patcher.get_model_object("model_sampling")
    return float(ms.sigma_min), float(ms.sigma_max)


def pair_problem(main: Any, guide: Any) -> str | None:
    """What makes ``guide`` unusable with ``main`` (None when they are compatible)."""
    m_fmt, g_fmt = main.model.latent_format, guide.model.latent_format
    if m_fmt.latent_channels != g_fmt.latent_channels:
        return f"different latent channels ({m_fmt.latent_channels} vs {g_fmt.latent_channels})"
    if type(m_fmt) is not type(g_fmt):
        return f"different latent formats ({type(m_fmt).__name__} vs {type(g_fmt).__name__})"
    m_lo, m_hi = _sigma_range(main)
    g_lo, g_hi = _sigma_range(guide)
    if not (math.isclose(m_lo, g_lo, rel_tol=0.05) and math.isclose(m_hi, g_hi, rel_tol=0.05)):
        return (
            f"different noise-level ranges (σ in [{m_lo:.4g}, {m_hi:.4g}] vs [{g_lo:.4g}, {g_hi:.4g}]): "
            "they are different model types"
        )
    return None


def check_pair(node: str, main: Any, guide: Any) -> None:
    """Raise a ``ValueError`` naming both models and what differs, prefixed by the node's name."""
    problem = pair_problem(main, guide)
    if problem is not None:
        raise ValueError(
            f"{node}: main model {describe(main)} and guide model {describe(guide)} have {problem}. "
            "Pick a guide of the same family as the main model (same latent space, e.g. SDXL with SDXL)."
        )


def check_conditioning(node: str, socket: str, model: Any, conditioning: Any) -> None:
    """Reject conditioning made for another kind of model (e.g. text embeddings into EDM2)."""
    accepts = getattr(model.model, "accepts_conditioning", None)
    if accepts is None or conditioning is None:
        return
    problem = accepts(conditioning)
    if problem:
        raise ValueError(f"{node}: '{socket}' does not fit {describe(model)}: {problem}")
