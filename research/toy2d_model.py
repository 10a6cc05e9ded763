"""Small MLP denoisers for the 2-D toy, with EDM preconditioning, and their training loop.

D(x; σ, c) = c_skip(σ)·x + c_out(σ)·F(c_in(σ)·x, c_noise(σ), c), with c_skip = σ_d²/(σ² + σ_d²),
c_out = σ·σ_d/√(σ² + σ_d²), c_in = 1/√(σ² + σ_d²), c_noise = ¼·log σ (EDM, Karras et al. 2022).
Trained with the EDM loss λ(σ)·‖D(y + σn; σ) − y‖², λ = (σ² + σ_d²)/(σ·σ_d)², ln σ ~ N(P_mean, P_std²).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from itertools import pairwise

import torch
from torch import Tensor, nn


class ToyDenoiser(nn.Module):
    """An MLP F of ``layers`` × ``hidden`` units behind EDM preconditioning, conditional if num_classes."""

    def __init__(self, hidden: int, layers: int, num_classes: int, sigma_data: float, fourier: int = 8):
        super().__init__()
        self.num_classes, self.sigma_data = num_classes, sigma_data
        self.register_buffer("freqs", torch.arange(1, fourier + 1, dtype=torch.float32) * math.pi / 2)
        dims = [2 + 2 * fourier + num_classes] + [hidden] * layers
        blocks: list[nn.Module] = []
        for a, b in pairwise(dims):
            blocks += [nn.Linear(a, b), nn.SiLU()]
        self.net = nn.Sequential(*blocks, nn.Linear(hidden, 2))

    def forward(self, x: Tensor, sigma: Tensor, labels: Tensor | None = None) -> Tensor:
        x32, s = x.float(), sigma.float().reshape(-1, 1)  # [N, 2], [N, 1]
        sd2 = self.sigma_data**2
        c_skip, c_out, c_in = (
            sd2 / (s**2 + sd2),
            s * self.sigma_data / (s**2 + sd2).sqrt(),
            1 / (s**2 + sd2).sqrt(),
        )
        angle = 0.25 * s.log() * self.freqs  # c_noise = ¼·log σ in Fourier features
        feats = [c_in * x32, angle.sin(), angle.cos()]
        if self.num_classes:
            onehot = torch.zeros(x.shape[0], self.num_classes, device=x.device)
            if labels is not None:
                onehot = nn.functional.one_hot(labels.long(), self.num_classes).float()
            feats.append(onehot)
        return (c_skip * x32 + c_out * self.net(torch.cat(feats, 1))).to(x.dtype)


def train_denoiser(
    model: ToyDenoiser,
    sample_data: Callable[[int, torch.Generator], tuple[Tensor, Tensor]],
    steps: int,
    batch: int = 1024,
    lr: float = 3e-3,
    ema_decay: float = 0.995,
    p_mean: float = -2.0,
    p_std: float = 1.5,
    seed: int = 0,
    progress: Callable[[int, float], None] | None = None,
) -> ToyDenoiser:
    """Train with the EDM loss and return the EMA of the weights (deterministic for a seed)."""
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    ema = copy.deepcopy(model).requires_grad_(False)
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.99))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    sd = model.sigma_data
    for step in range(steps):
        y, labels = sample_data(batch, g)
        sigma = (torch.randn(batch, 1, generator=g) * p_std + p_mean).exp()
        noisy = y + sigma * torch.randn(y.shape, generator=g)
        weight = (sigma**2 + sd**2) / (sigma * sd) ** 2
        loss = (weight * (model(noisy, sigma, labels if model.num_classes else None) - y) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        with torch.no_grad():
            for e, p in zip(ema.parameters(), model.parameters(), strict=True):
                e.lerp_(p, 1 - ema_decay)
        if progress is not None:
            progress(step, float(loss.detach()))
    return ema.eval()
