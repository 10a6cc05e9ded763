"""One noise scale for every model family: the noise-to-signal ratio σ_edm.

Schedules (guidance intervals, ramps, knots) are written in σ_edm, EDM's σ: the ratio of the
noise's to the signal's scale in x_σ = s·(x0 + σ_edm·ε). For EPS, V and EDM models ComfyUI's
σ already is σ_edm. Flow models (SD3, Flux, Wan, …) use x_σ = (1 − σ)·x0 + σ·ε with σ ∈ [0, 1],
so σ_edm = σ / (1 − σ) (σ = 1, pure noise, maps to +inf). With a noise multiplier k
(x_σ = (1 − σ)·x0 + σ·k·ε), σ_edm = k·σ / (1 − σ).
"""

from __future__ import annotations

import torch
from torch import Tensor


def flow_to_edm(sigma: Tensor, noise_scale: float = 1.0) -> Tensor:
    """σ_edm = k·σ / (1 − σ) for a flow model's σ ∈ [0, 1]; on σ's device and dtype."""
    return sigma * noise_scale / (1 - sigma)


def edm_to_flow(sigma_edm: Tensor, noise_scale: float = 1.0) -> Tensor:
    """The inverse map: σ = σ_edm / (k + σ_edm); +inf maps to 1."""
    s = torch.as_tensor(sigma_edm)
    return torch.where(torch.isinf(s), torch.ones_like(s), s / (noise_scale + s))
