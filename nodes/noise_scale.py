"""ComfyUI's σ → the schedules' σ_edm, per model-sampling type (maths in guidance/noise_scale.py).

A ComfyUI ``model_sampling`` object mixes a σ table (``ModelSamplingDiscrete``, ``…Flow``,
``…Flux``, …) with a prediction type that owns ``noise_scaling`` — how x_σ is made from a
clean latent and noise. That owner fixes the noise kind:

| owner of ``noise_scaling`` | x_σ | σ_edm | model types |
| --- | --- | --- | --- |
| ``EPS`` | x0 + σ·ε | σ | EPS, V_PREDICTION(_EDM, _CONTINUOUS), EDM, X0, IMG_TO_IMG, STABLE_CASCADE, LCM |
| ``V_PREDICTION_DDPM`` (0.33) | x0 + σ·ε | σ | V_PREDICTION_DDPM (CogVideoX) |
| ``COSMOS_RFLOW`` | x0 + σ·ε | σ | FLOW_COSMOS (its σ is already EDM's) |
| ``CONST`` | (1 − σ)·x0 + σ·k·ε | k·σ/(1 − σ) | FLOW, FLUX, FLOW_AV; k = ``noise_scale`` (0.33), else 1 |
| ``IMG_TO_IMG_FLOW`` (0.33) | x0 (no noise) | σ/(1 − σ) | IMG_TO_IMG_FLOW: samples on CONST's flow σ |
| ``EDMNoiseScaling`` (this pack) | x0 + σ·ε | σ | EDM2 models (``nodes/edm2/model.py``) |

A prediction type missing from the table (a newer ComfyUI, a custom node) is measured from its
own ``noise_scaling`` (σ_edm = b/a for x_σ = a·x0 + b·ε), with a warning once.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import torch
from torch import Tensor

from ..guidance.noise_scale import ratio_to_edm, to_edm
from ..guidance.precision import as_working_float

log = logging.getLogger(__name__)

NOISE_KIND_OF_OWNER = {
    "EPS": "ve",
    "V_PREDICTION_DDPM": "ve",
    "COSMOS_RFLOW": "ve",
    "CONST": "flow",
    "IMG_TO_IMG_FLOW": "flow",
    "EDMNoiseScaling": "ve",  # this pack's EDM2 models
}
_warned: set[str] = set()


def noise_scaling_owner(sampling: Any) -> type | None:
    """The class in ``sampling``'s MRO that defines ``noise_scaling`` (None if none does)."""
    return next((c for c in type(sampling).__mro__ if "noise_scaling" in vars(c)), None)


def noise_kind(sampling: Any) -> str | None:
    """``"ve"`` or ``"flow"`` for a known prediction type, None for one to measure."""
    owner = noise_scaling_owner(sampling)
    return None if owner is None else NOISE_KIND_OF_OWNER.get(owner.__name__)


def noise_multiplier(sampling: Any) -> float:
    """k in x_σ = (1 − σ)·x0 + σ·k·ε (CONST's ``noise_scale`` on ComfyUI 0.33; 1 before)."""
    return float(getattr(sampling, "noise_scale", 1.0))


def is_flow(sampling: Any) -> bool:
    """True for models whose x_σ = (1 − σ)·x0 + σ·k·ε (SD3, Flux, Wan, Lumina2, Qwen-Image, …)."""
    return noise_kind(sampling) == "flow"


def measured_sigma(sampling: Any, sigma: Tensor) -> Tensor:
    """σ_edm = b/a read off ``noise_scaling(σ, ε, x0)``: x0 = 1, ε = 0 gives a; x0 = 0, ε = 1 gives b."""
    s = as_working_float(sigma).reshape(-1)  # [B], float32 (float64 only where σ is: MPS has none)
    one = torch.ones(s.shape[0], 1, dtype=s.dtype, device=s.device)  # on σ's device (CUDA samplers)
    zero = torch.zeros_like(one)
    signal = sampling.noise_scaling(s, zero.clone(), one.clone())[:, 0]  # a, [B]
    noise = sampling.noise_scaling(s, one.clone(), zero.clone())[:, 0]  # b, [B]
    return ratio_to_edm(signal, noise).reshape(torch.as_tensor(sigma).shape)


def schedule_sigma(sampling: Any, sigma: Tensor) -> Tensor:
    """σ_edm for ComfyUI's σ of the model whose ``model_sampling`` object is ``sampling``."""
    kind = noise_kind(sampling)
    if kind is not None:
        return to_edm(kind, sigma, noise_multiplier(sampling))
    name = type(sampling).__name__
    if name not in _warned:
        _warned.add(name)
        owner = noise_scaling_owner(sampling)
        log.warning(
            "Autoguidance: unknown model-sampling type %s (noise_scaling from %s): schedules use σ_edm "
            "measured from its noise_scaling",
            name,
            getattr(owner, "__name__", None),
        )
    return measured_sigma(sampling, sigma)


def sigma_range(sampling: Any) -> dict[str, Any]:
    """The model's σ range in σ_edm; ``sigma_edm_max`` is None where the top σ is pure noise
    (a flow model's σ = 1, σ_edm = +inf)."""
    ends = torch.tensor([float(sampling.sigma_min), float(sampling.sigma_max)], dtype=torch.float64)
    lo, hi = schedule_sigma(sampling, ends).tolist()
    return {"sigma_edm_min": lo, "sigma_edm_max": hi if math.isfinite(hi) else None}
