"""A small EDM2 training loop (Karras et al. 2024, "Analyzing and Improving the Training
Dynamics of Diffusion Models", Sec. 2-3 and eq. 21).

Loss with learned per-σ uncertainty u(σ) (the network's logvar head):
    L = E_σ,y,n [ λ(σ)/exp(u(σ)) · ‖D(y + σn; σ, c) − y‖² + u(σ) ],   λ(σ) = (σ² + σ_d²)/(σ·σ_d)²,
ln σ ~ N(P_mean, P_std²). Adam (β = 0.9, 0.99) with the inverse-square-root learning-rate decay
α(t) = α_ref / √max(t/t_ref, 1) after a linear ramp-up, forced weight normalisation (training
mode of ``MPConv``) and a power-function EMA of the weights, β(t) = (1 − 1/t)^(γ+1).
Deterministic for a seed on CPU.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import torch
from torch import Tensor

from comfyui_autoguidance.edm2 import EDM2


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 2000
    batch: int = 128
    ref_lr: float = 1e-2  # α_ref (EDM2 uses 1e-2 for its small networks)
    ref_steps: int = 500  # t_ref of the inverse-square-root decay
    rampup_steps: int = 100  # linear learning-rate warm-up
    p_mean: float = -0.8  # ln σ ~ N(P_mean, P_std²); EDM2 img64 values
    p_std: float = 1.6
    ema_std: float = 0.10  # σ_rel of the power-function EMA
    label_dropout: float = 0.0  # share of labels zeroed (the official models use none)
    seed: int = 0


class Tracker(Protocol):
    """Sees the raw weights after every optimiser step, e.g. ``research.phema.ProfileTracker``."""

    def update(self, net: EDM2, step: int) -> None: ...


def edm2_loss(
    net: EDM2, images: Tensor, labels: Tensor | None, generator: torch.Generator, p_mean: float, p_std: float
) -> Tensor:
    """Per-sample uncertainty-weighted EDM2 loss (eq. 21), shape [B, C, H, W]."""
    b = images.shape[0]
    sigma = (torch.randn(b, 1, 1, 1, generator=generator) * p_std + p_mean).exp()
    sd = net.sigma_data
    weight = (sigma**2 + sd**2) / (sigma * sd) ** 2
    noisy = images + torch.randn(images.shape, generator=generator) * sigma
    denoised, logvar = net(noisy, sigma, labels, return_logvar=True)
    return (weight / logvar.exp()) * (denoised - images) ** 2 + logvar


def ema_gamma(std: float) -> float:
    """γ of the power-function EMA with relative std σ_rel: σ_rel² = (γ+1)/((γ+2)²(γ+3)) (bisection)."""
    lo, hi = 0.0, 1e4
    for _ in range(200):
        mid = (lo + hi) / 2
        rel = math.sqrt((mid + 1) / ((mid + 2) ** 2 * (mid + 3)))
        lo, hi = (mid, hi) if rel > std else (lo, mid)
    return (lo + hi) / 2


def learning_rate(step: int, cfg: TrainConfig) -> float:
    lr = cfg.ref_lr / math.sqrt(max(step / cfg.ref_steps, 1.0))
    return lr * min((step + 1) / max(cfg.rampup_steps, 1), 1.0)


def train(
    net: EDM2,
    images: Tensor,
    labels: Tensor | None,
    cfg: TrainConfig,
    progress: Callable[[int, float], None] | None = None,
    tracker: Tracker | None = None,
) -> EDM2:
    """Train ``net`` on ``images`` [N, C, H, W] (one-hot ``labels`` [N, L] or None); returns the EMA net.

    ``tracker`` (e.g. the post-hoc EMA profiles of ``research/phema.py``) sees the weights after each step.
    """
    g = torch.Generator().manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    net.train().requires_grad_(True)
    ema = copy.deepcopy(net).eval().requires_grad_(False)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.ref_lr, betas=(0.9, 0.99), eps=1e-8)
    gamma = ema_gamma(cfg.ema_std)
    for step in range(cfg.steps):
        idx = torch.randint(len(images), (cfg.batch,), generator=g)
        y = images[idx]
        c = None if labels is None or not net.label_dim else labels[idx].clone()
        if c is not None and cfg.label_dropout:
            c[torch.rand(cfg.batch, generator=g) < cfg.label_dropout] = 0
        for group in opt.param_groups:
            group["lr"] = learning_rate(step, cfg)
        loss = edm2_loss(net, y, c, g, cfg.p_mean, cfg.p_std).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        for p in net.parameters():  # as the official loop: no NaN/Inf reaches the optimiser
            if p.grad is not None:
                torch.nan_to_num_(p.grad, nan=0.0, posinf=0.0, neginf=0.0)
        opt.step()
        beta = (1 - 1 / (step + 1)) ** (gamma + 1)
        with torch.no_grad():
            for e, p in zip(ema.parameters(), net.parameters(), strict=True):
                e.lerp_(p.detach(), 1 - beta)
        if tracker is not None:
            tracker.update(net, step)
        if progress is not None:
            progress(step, float(loss.detach()))
    net.eval().requires_grad_(False)
    return ema
