"""Magnitude-preserving (MP) building blocks of EDM2 (Karras et al. 2024, "Analyzing and
Improving the Training Dynamics of Diffusion Models", Sec. 3 and Appendix B).

Each primitive keeps the expected magnitude of its output equal to that of its inputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# ----------------------------------------------------------------------------
# normalize: x / (ε + ‖x‖/√N), the unit-variance normalisation used for weights (eq. 46)
# and for pixel norm over channels.


def normalize(x: Tensor, dim: list[int] | int | None = None, eps: float = 1e-4) -> Tensor:
    """Scale x so its RMS over ``dim`` (default: all but the first) is 1; ε guards zero vectors."""
    if dim is None:
        dim = list(range(1, x.ndim))
    norm = torch.linalg.vector_norm(x, dim=dim, keepdim=True, dtype=torch.float32)
    norm = torch.add(eps, norm, alpha=math.sqrt(norm.numel() / x.numel()))  # ε + ‖x‖·√(1/N)
    return x / norm.to(x.dtype)


# ----------------------------------------------------------------------------
# MP-SiLU, MP-Sum, MP-Cat (eqs. 81, 88, 103).


def mp_silu(x: Tensor) -> Tensor:
    """SiLU(x)/0.596: unit output magnitude for unit-Gaussian x."""
    return F.silu(x) / 0.596


def mp_sum(a: Tensor, b: Tensor, t: float = 0.5) -> Tensor:
    """((1 − t)·a + t·b) / √((1 − t)² + t²)."""
    return a.lerp(b, t) / math.sqrt((1 - t) ** 2 + t**2)


def mp_cat(a: Tensor, b: Tensor, dim: int = 1, t: float = 0.5) -> Tensor:
    """Concatenate with the balance t, keeping the result's overall magnitude."""
    na, nb = a.shape[dim], b.shape[dim]
    scale = math.sqrt((na + nb) / ((1 - t) ** 2 + t**2))
    return torch.cat([a * (scale / math.sqrt(na) * (1 - t)), b * (scale / math.sqrt(nb) * t)], dim=dim)


# ----------------------------------------------------------------------------
# Resampling with the box filter [1, 1]: 2×2 average pooling down, nearest up.


def resample(x: Tensor, mode: str = "keep") -> Tensor:
    if mode == "keep":
        return x
    if mode == "down":
        return F.avg_pool2d(x, 2)
    if mode == "up":
        return F.interpolate(x, scale_factor=2.0, mode="nearest")
    raise ValueError(f"resample: mode must be 'keep', 'down' or 'up' (got {mode!r})")


# ----------------------------------------------------------------------------


class MPFourier(nn.Module):
    """Fourier features √2·cos(2π(f·x + φ)) of the noise level, f ~ N(0, bw²), φ ~ U(0, 1)."""

    freqs: Tensor  # [C] buffers, fixed at construction
    phases: Tensor

    def __init__(self, num_channels: int, bandwidth: float = 1.0):
        super().__init__()
        self.register_buffer("freqs", 2 * math.pi * torch.randn(num_channels) * bandwidth)
        self.register_buffer("phases", 2 * math.pi * torch.rand(num_channels))

    def forward(self, x: Tensor) -> Tensor:  # [B] → [B, C]
        y = torch.outer(x.to(torch.float32), self.freqs.to(torch.float32)) + self.phases.to(torch.float32)
        return (y.cos() * math.sqrt(2)).to(x.dtype)


class MPConv(nn.Module):
    """Convolution (or linear layer for ``kernel=()``) with weight normalisation (eq. 46):
    ŵ = g·normalize(w)/√fan_in.

    In training mode the stored weight is also forced back to unit norm each call, as in the
    paper. In eval mode the normalised weight is computed once per (weight version, dtype,
    device) and reused: the official forward re-normalises on every call.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel: tuple[int, ...] | list[int]):
        super().__init__()
        self.out_channels = out_channels
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, *kernel))
        self.cache_enabled = True  # set for a whole network by EDM2.cache_normalized_weights
        self._cache: tuple[tuple[Any, ...], Tensor] | None = None

    def normalized_weight(self, dtype: torch.dtype) -> Tensor:
        """normalize(w)/√fan_in in ``dtype``, cached in eval mode until the weight changes."""
        w = self.weight
        # Inference tensors (weights made under torch.inference_mode, as ComfyUI loads them) have no
        # version counter; they cannot change outside inference mode, and a replaced one moves.
        version = -1 if w.is_inference() else w._version
        key = (version, w.data_ptr(), w.device, dtype)
        if not self.training and self.cache_enabled and self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        with torch.set_grad_enabled(self.training and torch.is_grad_enabled()):
            w32 = w.to(torch.float32)
            out = (normalize(w32) / math.sqrt(w32[0].numel())).to(dtype)
        if not self.training and self.cache_enabled:
            self._cache = (key, out.detach())
        return out

    def forward(self, x: Tensor, gain: Tensor | float = 1.0) -> Tensor:
        if self.training:
            with torch.no_grad():
                self.weight.copy_(normalize(self.weight.to(torch.float32)))  # forced weight normalisation
        w = self.normalized_weight(x.dtype)
        if not self.training and self.cache_enabled:
            y = x @ w.t() if w.ndim == 2 else F.conv2d(x, w, padding=w.shape[-1] // 2)
            return y if isinstance(gain, float) and gain == 1.0 else y * torch.as_tensor(gain, dtype=y.dtype)
        w = w * torch.as_tensor(gain, dtype=w.dtype) if not (isinstance(gain, float) and gain == 1.0) else w
        return x @ w.t() if w.ndim == 2 else F.conv2d(x, w, padding=w.shape[-1] // 2)

    def clear_cache(self) -> None:
        self._cache = None

    def _apply(self, fn: Callable[[Tensor], Tensor], *args: Any, **kwargs: Any) -> MPConv:
        """.to() and .half() replace the weight: drop the cache first."""
        self.clear_cache()
        super()._apply(fn, *args, **kwargs)  # type: ignore[no-untyped-call]  # torch leaves it untyped
        return self
