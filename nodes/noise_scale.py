"""ComfyUI's σ → the schedules' σ_edm, per model-sampling type (maths in guidance/noise_scale.py)."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from ..guidance.noise_scale import flow_to_edm
from ._api import model_sampling


def is_flow(sampling: Any) -> bool:
    """True for models whose x_σ = (1 − σ)·x0 + σ·ε (ComfyUI's CONST family: SD3, Flux, Wan, …)."""
    return isinstance(sampling, model_sampling.CONST)


def schedule_sigma(sampling: Any, sigma: Tensor) -> Tensor:
    """σ_edm for ComfyUI's σ of the model whose ``model_sampling`` object is ``sampling``."""
    if is_flow(sampling):
        return flow_to_edm(sigma, float(getattr(sampling, "noise_scale", 1.0)))
    return sigma
