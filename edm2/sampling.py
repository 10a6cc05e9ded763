"""``sample``: EDM2 generation with optional guidance, on the guidance core.

With ``guide`` and ``guidance`` = w this is the official ``edm_sampler``: each evaluation is
D0(x; σ, c).lerp(D1(x; σ, c), w) = w·D1 + (1 − w)·D0, a 32-step Heun solver from σ_max = 80
to σ_min = 0.002 with ρ = 7. ``schedule`` replaces the constant w by any w(σ) (e.g. a guidance
interval); wherever w(σ) = 1 the guide is not evaluated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import torch
from torch import Tensor, nn

from ..guidance import Schedule, guided_denoiser, heun_sample, karras_sigmas

# EDM's noise levels and data scale (Karras et al. 2022, Table 1), used by every EDM2 model.
SIGMA_MIN, SIGMA_MAX, RHO, SIGMA_DATA = 0.002, 80.0, 7.0, 0.5


def _bind(net: nn.Module, class_labels: Tensor | None) -> Callable[..., Tensor]:
    def denoise(x: Tensor, sigma: Tensor, labels: Tensor | None = class_labels) -> Tensor:
        return cast(Tensor, net(x, sigma, labels if getattr(net, "label_dim", 0) else None))

    return denoise


def sample(
    net: nn.Module,
    noise: Tensor,  # [B, C, H, W] unit Gaussian
    class_labels: Tensor | None = None,  # [B, label_dim] (one-hot) or None
    guide: nn.Module | None = None,  # D0: weaker conditional (autoguidance) or unconditional (CFG)
    guidance: float = 1.0,  # w
    num_steps: int = 32,
    sigma_min: float = SIGMA_MIN,
    sigma_max: float = SIGMA_MAX,
    rho: float = RHO,
    schedule: Schedule | dict[str, Any] | None = None,  # w(σ); replaces ``guidance`` when given
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """Generate from ``noise`` with EDM's Heun sampler; returns x at σ = 0 in ``dtype``."""
    main = _bind(net, class_labels)
    denoiser = main
    weight = schedule if schedule is not None else guidance
    if guide is not None and (schedule is not None or guidance != 1):
        denoiser = guided_denoiser(main, _bind(guide, class_labels), weight)
    sigmas = karras_sigmas(
        num_steps, sigma_min, sigma_max, rho, dtype=dtype, device=noise.device
    )  # as official
    with torch.no_grad():
        return heun_sample(denoiser, noise, sigmas, dtype=dtype)
