"""EDM sampling (Karras et al. 2022, Algorithm 2) for any denoiser.

Noise levels (eq. 5): σ_i = (σ_max^(1/ρ) + i/(N−1)·(σ_min^(1/ρ) − σ_max^(1/ρ)))^ρ for
i < N, then σ_N = 0. Each step is a Heun (2nd-order) step of the probability-flow ODE
dx/dσ = (x − D(x; σ))/σ, with an Euler step into σ = 0; optional churn adds noise
first (γ = min(S_churn/N, √2 − 1) for σ ∈ [S_min, S_max]).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import pairwise

import torch
from torch import Tensor


def karras_sigmas(
    num_steps: int,
    sigma_min: float = 0.002,
    sigma_max: float = 80.0,
    rho: float = 7.0,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> Tensor:
    """The N + 1 noise levels σ_0 = σ_max > … > σ_{N−1} = σ_min > σ_N = 0 (EDM eq. 5)."""
    if int(num_steps) < 1:
        raise ValueError(f"karras_sigmas: num_steps must be at least 1 (got {num_steps})")
    if not 0 < sigma_min < sigma_max:
        raise ValueError(
            "karras_sigmas: need 0 < sigma_min < sigma_max "
            f"(got sigma_min={sigma_min}, sigma_max={sigma_max})"
        )
    if rho <= 0:
        raise ValueError(f"karras_sigmas: rho must be positive (got {rho}); EDM uses 7")
    i = torch.arange(num_steps, dtype=dtype, device=device)
    lo, hi = sigma_min ** (1 / rho), sigma_max ** (1 / rho)
    frac = i / (num_steps - 1) if num_steps > 1 else i
    t = (hi + frac * (lo - hi)) ** rho
    return torch.cat([t, torch.zeros_like(t[:1])])


def heun_sample(
    denoiser: Callable[[Tensor, Tensor], Tensor],
    noise: Tensor,
    sigmas: Tensor,
    *,
    S_churn: float = 0.0,
    S_min: float = 0.0,
    S_max: float = math.inf,
    S_noise: float = 1.0,
    dtype: torch.dtype = torch.float32,
    generator: torch.Generator | None = None,
    callback: Callable[[int, Tensor], None] | None = None,
) -> Tensor:
    """Sample with EDM's Heun solver from ``x = noise·σ_0`` down the given σ steps.

    ``noise`` is unit Gaussian [B, ...]; ``denoiser(x, sigma [B])`` returns D(x; σ). Calls
    the denoiser 2N − 1 times for N steps (no correction on the step into σ = 0).
    """
    sigmas = sigmas.to(dtype=dtype, device=noise.device)
    num_steps = len(sigmas) - 1
    gamma_max = min(S_churn / max(num_steps, 1), math.sqrt(2) - 1)

    def d(x: Tensor, sigma: Tensor) -> Tensor:
        return denoiser(x, sigma.expand(x.shape[0])).to(dtype)

    x_next = noise.to(dtype) * sigmas[0]
    for i, (t_cur, t_next) in enumerate(pairwise(sigmas)):
        x_cur = x_next
        gamma = gamma_max if S_churn > 0 and S_min <= float(t_cur) <= S_max else 0.0
        t_hat = t_cur + gamma * t_cur
        x_hat = x_cur
        if gamma > 0:
            eps = torch.randn(x_cur.shape, generator=generator, dtype=dtype, device=x_cur.device)
            x_hat = x_cur + (t_hat**2 - t_cur**2).sqrt() * S_noise * eps
        d_cur = (x_hat - d(x_hat, t_hat)) / t_hat
        x_next = x_hat + (t_next - t_hat) * d_cur
        if i < num_steps - 1:
            d_prime = (x_next - d(x_next, t_next)) / t_next
            x_next = x_hat + (t_next - t_hat) * (0.5 * d_cur + 0.5 * d_prime)
        if callback is not None:
            callback(i, x_next)
    return x_next
