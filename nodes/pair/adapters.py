"""Weight adapters as side branches: y = f(x; W) + h(x) instead of f(x; W + ΔW).

For a Linear or convolution layer, f is linear in W, so merging an adapter's ΔW into the
weights and adding the adapter's own branch h(x) = f(x; ΔW) give the same output (up to float
rounding). The branch keeps the adapter factored, which is what makes it cheap:

    LoRA   ΔW = s·up·down              h(x) = s·up(down(x))                        rank r
    LoHa   ΔW = s·(a1·b1) ⊙ (a2·b2)    = s·U·V, U = a1 ⊙ᵣ a2, V = b1 ⊙ᵣ b2 (row-wise
                                       Khatri-Rao products)                        rank r1·r2
    LoKr   ΔW = s·kron(w1, w2)         h(x) = s·w1 · X · w2ᵀ on x split as X [b, d]

(s = strength·α/rank as ComfyUI's ``calculate_weight`` scales it). The tensors are ComfyUI's
adapter weights, in the tuple layout of ``comfy.weight_adapter`` (0.3.64, 0.33.0); anything else
(DoRA, reshapes, CP/Tucker cores, grouped convolutions) returns None and is merged per pass
instead (nodes/pair/passes.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


@dataclass(frozen=True)
class Geometry:
    """How a layer applies its weight: a Linear (``conv_dim`` 0) or a convolution's arguments."""

    conv_dim: int = 0
    stride: tuple[int, ...] = ()
    padding: tuple[int, ...] | str = ()
    dilation: tuple[int, ...] = ()

    def conv(self, x: Tensor, w: Tensor, spatial: bool = True) -> Tensor:
        """The layer's own convolution of x with w (``spatial`` False: a 1×1 with no stride/padding)."""
        if not spatial:
            return CONV[self.conv_dim](x, w)
        return CONV[self.conv_dim](x, w, stride=self.stride, padding=self.padding, dilation=self.dilation)


def geometry_of(module: torch.nn.Module) -> Geometry | None:
    """The geometry of a plain Linear/Conv1-3d (ComfyUI's ops subclass them); None for anything else."""
    if isinstance(module, torch.nn.Linear):
        return Geometry()
    if isinstance(module, (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)):
        if module.groups != 1 or module.padding_mode != "zeros" or module.transposed:
            return None
        dims = len(module.kernel_size)
        return Geometry(dims, tuple(module.stride), module.padding, tuple(module.dilation))
    return None


def _accumulate(out: Tensor, y: Tensor) -> Tensor:
    """out + y, in place when nothing records gradients (the layer's fresh output is ours to change)."""
    return out.add_(y) if not torch.is_grad_enabled() else out + y


@dataclass(frozen=True)
class LowRank:
    """h(x) = scale·up(down(x)): ``down`` [r, in, *kernel] is the layer's own convolution (or a
    [r, in] Linear), ``up`` [out, r] a 1×1 map. ``scale`` is folded into ``up`` where placed."""

    up: Tensor
    down: Tensor
    scale: float

    def add_to(self, out: Tensor, x: Tensor, geometry: Geometry) -> Tensor:
        """out + h(x); the up-projection accumulates into ``out`` (one fused matmul) where it may."""
        fused = not torch.is_grad_enabled() and out.is_contiguous()
        up = self.up if self.scale == 1 else self.up * self.scale
        if geometry.conv_dim == 0:
            h = F.linear(x, self.down)  # [..., r]
            if fused:
                out.view(-1, out.shape[-1]).addmm_(h.reshape(-1, h.shape[-1]), up.t())
                return out
            return out + F.linear(h, up)
        h = geometry.conv(x, self.down)  # [N, r, *S]
        if fused:
            n, r = h.shape[:2]
            out.view(n, out.shape[1], -1).baddbmm_(up.expand(n, *up.shape), h.reshape(n, r, -1))
            return out
        return out + geometry.conv(h, up.reshape(*up.shape, *(1,) * geometry.conv_dim), spatial=False)

    def tensors(self) -> list[Tensor]:
        return [self.up, self.down]

    def to(self, device: torch.device, dtype: torch.dtype) -> LowRank:
        """On ``device`` in ``dtype``, with ``scale`` folded into ``up``."""
        up = self.up.to(device, dtype) if self.scale == 1 else self.up.to(device, dtype) * self.scale
        return LowRank(up, self.down.to(device, dtype), 1.0)


@dataclass(frozen=True)
class Kronecker:
    """h(x) = scale·x·kron(w1, w2)ᵀ without forming the product: w1 [a, b], w2 [c, d, *kernel],
    input channels grouped (b, d), output channels (a, c), as ``torch.kron`` orders them.
    ``scale`` is folded into ``w1`` where placed."""

    w1: Tensor
    w2: Tensor
    scale: float

    def add_to(self, out: Tensor, x: Tensor, geometry: Geometry) -> Tensor:
        """out + h(x)."""
        w1 = self.w1 if self.scale == 1 else self.w1 * self.scale
        b, d = w1.shape[1], self.w2.shape[1]
        if geometry.conv_dim == 0:
            z = x.unflatten(-1, (b, d)) @ self.w2.t()  # [..., b, c]
            return _accumulate(out, (w1 @ z).flatten(-2))  # [..., a·c]
        n = x.shape[0]
        z = geometry.conv(x.unflatten(1, (b, d)).flatten(0, 1), self.w2)  # [N·b, c, *S]
        y = torch.einsum("ab,nbc...->nac...", w1, z.unflatten(0, (n, b)))  # [N, a, c, *S]
        return _accumulate(out, y.flatten(1, 2))

    def tensors(self) -> list[Tensor]:
        return [self.w1, self.w2]

    def to(self, device: torch.device, dtype: torch.dtype) -> Kronecker:
        """On ``device`` in ``dtype``, with ``scale`` folded into ``w1``."""
        w1 = self.w1.to(device, dtype) if self.scale == 1 else self.w1.to(device, dtype) * self.scale
        return Kronecker(w1, self.w2.to(device, dtype), 1.0)


Branch = LowRank | Kronecker


def _alpha(alpha: float | Tensor | None, rank: int) -> float:
    return 1.0 if alpha is None else float(alpha) / rank


def _kernel(down: Tensor, shape: torch.Size) -> Tensor:
    """A down matrix [r, in·k…] as the layer's kernel [r, in, *k] (a Linear keeps [r, in])."""
    return down.reshape(down.shape[0], *shape[1:])


def lora(weights: tuple, strength: float, shape: torch.Size) -> LowRank | None:
    """LoRA/LoCon ``(up, down, alpha, mid, dora_scale, reshape)``; a Tucker ``mid`` is folded into down."""
    up, down, alpha, mid, dora, reshape = weights
    if dora is not None or reshape is not None:
        return None
    up, down = up.float(), down.float()
    scale = strength * _alpha(alpha, down.shape[0])
    if mid is not None:  # LoCon: down [r, in, 1, 1] then mid [r, r, k, k] = one [r, in, k, k] kernel
        mid = mid.float()
        down = torch.einsum("rsij,sc->rcij", mid, down.flatten(1))
    return LowRank(up.flatten(1), _kernel(down, shape), scale)


def loha(weights: tuple, strength: float, shape: torch.Size) -> LowRank | None:
    """LoHa ``(w1a, w1b, alpha, w2a, w2b, t1, t2, dora_scale)`` as one LowRank of rank r1·r2, when
    that is smaller than the layer itself."""
    w1a, w1b, alpha, w2a, w2b, t1, _, dora = weights
    if t1 is not None or dora is not None:
        return None
    out_dim, in_dim = shape[0], math.prod(shape[1:])
    rank = w1b.shape[0] * w2b.shape[0]
    if rank * (out_dim + in_dim) >= out_dim * in_dim:
        return None  # a dense ΔW is cheaper merged per pass than as a branch
    up = (w1a.float()[:, :, None] * w2a.float()[:, None, :]).flatten(1)  # [out, r1·r2]
    down = (w1b.float()[:, None, :] * w2b.float()[None, :, :]).flatten(0, 1)  # [r1·r2, in·k…]
    return LowRank(up, _kernel(down, shape), strength * _alpha(alpha, w1b.shape[0]))


def lokr(weights: tuple, strength: float, shape: torch.Size) -> Kronecker | None:
    """LoKr ``(w1, w2, alpha, w1_a, w1_b, w2_a, w2_b, t2, dora_scale)``; low-rank factors are multiplied
    out (w1 and w2 are each far smaller than the layer)."""
    w1, w2, alpha, w1_a, w1_b, w2_a, w2_b, t2, dora = weights
    if t2 is not None or dora is not None:
        return None
    dim = None
    if w1 is None:
        dim, w1 = w1_b.shape[0], w1_a.float() @ w1_b.float()
    if w2 is None:
        dim, w2 = w2_b.shape[0], w2_a.float() @ w2_b.float()
    w1, w2 = w1.float().flatten(1), w2.float()
    a, b = w1.shape
    if a * w2.shape[0] != shape[0] or shape[1] % b:
        return None
    w2 = w2.reshape(shape[0] // a, shape[1] // b, *shape[2:])  # [c, d, *kernel]
    scale = strength * (float(alpha) / dim if alpha is not None and dim is not None else 1.0)
    return Kronecker(w1, w2, scale)


BUILDERS = {"lora": lora, "loha": loha, "lokr": lokr}


def side_branch(name: str, weights: tuple, strength: float, shape: torch.Size) -> Branch | None:
    """The adapter ``name`` (ComfyUI's ``adapter.name``) with ``weights`` at ``strength`` as a side
    branch of a layer whose weight has ``shape``; None where it has no exact factored branch."""
    build = BUILDERS.get(name)
    return None if build is None else build(weights, strength, shape)
