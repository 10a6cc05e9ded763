"""Post-hoc EMA (Karras et al. 2024, "Analyzing and Improving the Training Dynamics of
Diffusion Models", Sec. 3.2 and App. C.1-C.3).

Training tracks power-function EMAs θ̂_γ(t) with β(t) = (1 − 1/t)^(γ+1) for a few γ (the
paper's two: σ_rel 0.05 ↔ γ = 16.97 and σ_rel 0.10 ↔ γ = 6.94) and stores snapshots of each
every ``every`` steps. Unrolled, a snapshot of profile γ at step t is a weighted average of the
raw iterates θ_1 … θ_t with weights

    w_τ = (τ^(γ+1) − (τ − 1)^(γ+1)) / t^(γ+1),    τ = 1 … t,

so any other EMA length (σ_rel ↔ γ) at any step t* is approached by the combination Σ_i x_i θ̂_i
of snapshots whose weight vectors best match the target's in the least-squares sense. The paper
matches the continuous profiles τ^γ; we match the exact discrete weights of the recursion we run,
so a target that lies in the snapshots' span (e.g. a stored profile at a stored step, or any
profile when snapshots are dense) is reconstructed to float32 rounding.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from .edm2_training import ema_gamma

PAPER_STDS = (0.05, 0.10)  # σ_rel of the two stored profiles (γ = 16.97, 6.94)


# ----------------------------------------------------------------------------
# The maths: weight vectors of power-function EMAs and the least-squares fit.


def power_weights(gamma: float, t: int, length: int) -> Tensor:
    """Weights [length] (float64) of iterates 1 … length in the power EMA γ after t steps."""
    tau = torch.arange(1, length + 1, dtype=torch.float64)
    w = (tau ** (gamma + 1) - (tau - 1) ** (gamma + 1)) / float(t) ** (gamma + 1)
    return torch.where(tau <= t, w, torch.zeros_like(w))


def solve_coefficients(stored: list[tuple[float, int]], gamma: float, t: int) -> Tensor:
    """x [n] minimising ‖Σ_i x_i w(γ_i, t_i) − w(γ, t)‖² over snapshots (γ_i, t_i) with t_i ≤ t."""
    if any(step > t for _, step in stored):
        raise ValueError(f"post-hoc EMA: snapshots after the target step are unusable (got t = {t})")
    a = torch.stack([power_weights(g, step, t) for g, step in stored], dim=1)  # [t, n]
    b = power_weights(gamma, t, t)[:, None]  # [t, 1]
    return torch.linalg.lstsq(a, b, driver="gelsd").solution[:, 0]


# ----------------------------------------------------------------------------
# Tracking during training and reconstruction afterwards.


@dataclass
class Snapshot:
    gamma: float
    step: int
    state: dict[str, Tensor]  # parameters of the EMA network


class ProfileTracker:
    """Power EMAs of the parameters, one per σ_rel in ``stds``, snapshotted every ``every`` steps."""

    def __init__(self, net: nn.Module, stds: tuple[float, ...] = PAPER_STDS, every: int = 64):
        if every < 1:
            raise ValueError(f"ProfileTracker: every must be at least 1 (got {every})")
        self.gammas = [ema_gamma(s) for s in stds]
        self.every = every
        self.emas = [{k: p.detach().clone() for k, p in net.named_parameters()} for _ in stds]
        self.snapshots: list[Snapshot] = []

    @torch.no_grad()
    def update(self, net: nn.Module, step: int) -> None:
        """After optimiser step ``step`` (0-based): θ̂ ← β θ̂ + (1 − β) θ, β = (1 − 1/t)^(γ+1), t = step + 1."""
        t = step + 1
        params = dict(net.named_parameters())
        for gamma, ema in zip(self.gammas, self.emas, strict=True):
            beta = (1 - 1 / t) ** (gamma + 1)
            for name, value in ema.items():
                value.lerp_(params[name].detach(), 1 - beta)
            if t % self.every == 0:
                self.snapshots.append(Snapshot(gamma, t, {k: v.clone() for k, v in ema.items()}))

    def save(self, path: Path) -> None:
        """All snapshots in one safetensors file; (γ, t) of each in the metadata."""
        tensors = {
            f"{i}.{k}": v.contiguous() for i, s in enumerate(self.snapshots) for k, v in s.state.items()
        }
        index = [[s.gamma, s.step] for s in self.snapshots]
        save_file(tensors, str(path), metadata={"phema": json.dumps(index)})


def load_snapshots(path: Path) -> list[Snapshot]:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        index = json.loads(f.metadata()["phema"])
    tensors = load_file(str(path))
    out = []
    for i, (gamma, step) in enumerate(index):
        prefix = f"{i}."
        state = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
        out.append(Snapshot(float(gamma), int(step), state))
    return out


def reconstruct(snapshots: list[Snapshot], std: float, step: int | None = None) -> dict[str, Tensor]:
    """Parameters of the power EMA with σ_rel = ``std`` at ``step`` (default: the last snapshot)."""
    step = max(s.step for s in snapshots) if step is None else step
    usable = [s for s in snapshots if s.step <= step]
    if not usable:
        raise ValueError(f"post-hoc EMA: no snapshot at or before step {step}")
    x = solve_coefficients([(s.gamma, s.step) for s in usable], ema_gamma(std), step)
    out = {}
    for name, ref in usable[0].state.items():
        acc = torch.zeros_like(ref, dtype=torch.float64)
        for coef, s in zip(x.tolist(), usable, strict=True):
            acc += coef * s.state[name].double()
        out[name] = acc.to(ref.dtype)
    return out
