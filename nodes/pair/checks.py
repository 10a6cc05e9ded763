"""Checks on a main/guide model pair, run before any sampling or loading to the device.

Autoguidance mixes D1 (main) and D0 (guide) predictions of the *same* x at the *same* σ, so
both models must share the latent space (latent format and channels) and the meaning of σ
(the noise kind: x_σ = x0 + σ·ε, or flow's (1 − σ)·x0 + σ·k·ε with the same k). Nothing
else needs to match: different architectures of one latent space (SD3.5 Large guided by
SD3.5 Medium, Flux guided by a smaller Flux) are what the paper recommends, and a flow
model's shift only changes *which* σ a sampler visits, not what x_σ is (Flux with shift
1.15 and a guide at shift 3 are a valid pair).
"""

from __future__ import annotations

import logging
import math
from typing import Any

from .. import _api
from ..noise_scale import noise_kind, noise_multiplier, sigma_range

log = logging.getLogger(__name__)

NOISE_KIND_NAMES = {"ve": "x = x0 + σ·noise", "flow": "flow matching", None: "a custom noise schedule"}


def describe(patcher: Any) -> str:
    """A short human name for a model, e.g. 'Flux (latent Flux, 16 ch, flow matching)'."""
    model, sampling = patcher.model, patcher.get_model_object("model_sampling")
    family = type(getattr(model, "model_config", model)).__name__  # its config class: 'SDXL', 'Flux', …
    fmt = model.latent_format
    kind = NOISE_KIND_NAMES.get(noise_kind(sampling), "a custom noise schedule")
    return f"{family} (latent {type(fmt).__name__}, {fmt.latent_channels} ch, {kind})"


def _noise_problem(main: Any, guide: Any) -> str | None:
    m, g = main.get_model_object("model_sampling"), guide.get_model_object("model_sampling")
    m_kind, g_kind = noise_kind(m), noise_kind(g)
    if m_kind != g_kind:
        return (
            f"different noise parameterisations ({NOISE_KIND_NAMES.get(m_kind)} vs "
            f"{NOISE_KIND_NAMES.get(g_kind)}): the same σ means different noise levels"
        )
    if m_kind == "flow" and not math.isclose(noise_multiplier(m), noise_multiplier(g), rel_tol=1e-6):
        return f"different noise multipliers ({noise_multiplier(m):g} vs {noise_multiplier(g):g})"
    return None


def pair_problem(main: Any, guide: Any) -> str | None:
    """What makes ``guide`` unusable with ``main`` (None when they are compatible)."""
    m_fmt, g_fmt = main.model.latent_format, guide.model.latent_format
    if m_fmt.latent_channels != g_fmt.latent_channels:
        return f"different latent channels ({m_fmt.latent_channels} vs {g_fmt.latent_channels})"
    if type(m_fmt) is not type(g_fmt):
        return f"different latent formats ({type(m_fmt).__name__} vs {type(g_fmt).__name__})"
    return _noise_problem(main, guide)


def warn_uncovered_range(main: Any, guide: Any) -> None:
    """Log when a σ-as-is guide (SD, SDXL, EDM) was trained on a narrower σ range than the main samples.

    Flow models are trained on every σ ∈ [0, 1]: their σ tables only reflect the shift.
    """
    m_sampling, g_sampling = main.get_model_object("model_sampling"), guide.get_model_object("model_sampling")
    if noise_kind(m_sampling) != "ve":
        return
    m, g = sigma_range(m_sampling), sigma_range(g_sampling)
    m_hi, g_hi = m["sigma_edm_max"] or math.inf, g["sigma_edm_max"] or math.inf
    if m_hi > 1.05 * g_hi or m["sigma_edm_min"] < g["sigma_edm_min"] / 1.05:
        log.warning(
            "Autoguidance: the guide %s covers σ_edm [%.4g, %.4g], the main model %s samples [%.4g, %.4g]; "
            "outside its range the guide sees noise levels it was not trained on",
            describe(guide),
            g["sigma_edm_min"],
            g_hi,
            describe(main),
            m["sigma_edm_min"],
            m_hi,
        )


def check_pair(node: str, main: Any, guide: Any) -> None:
    """Raise a ``ValueError`` naming both models and what differs, prefixed by the node's name."""
    problem = pair_problem(main, guide)
    if problem is not None:
        raise ValueError(
            f"{node}: main model {describe(main)} and guide model {describe(guide)} have {problem}. "
            "Pick a guide of the same family as the main model (same latent space, e.g. SDXL with SDXL)."
        )
    warn_uncovered_range(main, guide)


def check_conditioning(node: str, socket: str, model: Any, conditioning: Any) -> None:
    """Reject conditioning made for another kind of model (e.g. text embeddings into EDM2)."""
    accepts = getattr(model.model, "accepts_conditioning", None)
    if accepts is None or conditioning is None:
        return
    problem = accepts(conditioning)
    if problem:
        raise ValueError(f"{node}: '{socket}' does not fit {describe(model)}: {problem}")


def check_text_width(node: str, main: Any, guide: Any, guide_positive: Any) -> None:
    """A guide that reads another text encoder's embeddings (another width, e.g. Flux.2 Klein 4B under
    Klein 9B) cannot take the main model's prompt: refuse it before sampling without ``guide_positive``."""
    main_width, guide_width = _api.context_width(main.model), _api.context_width(guide.model)
    if guide_positive is not None or None in (main_width, guide_width) or main_width == guide_width:
        return
    raise ValueError(
        f"{node}: the guide {describe(guide)} reads text embeddings {guide_width} wide, the main model "
        f"{describe(main)} {main_width} wide: they use different text encoders, so the main model's "
        "prompt cannot drive the guide. Encode the prompt with the guide's own text encoder and connect "
        "it to 'guide_positive'."
    )
