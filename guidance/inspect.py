"""What a guide does at one noise level: D1 − D0, D_w, RMS ratios, signed colour maps, grids.

Autoguidance (Karras et al. 2024, eq. 2) guides the main model D1 (edm2's ``net``) with a
weaker guide D0 (edm2's ``gnet``):

    D_w(x; σ) = w·D1(x; σ) + (1 − w)·D0(x; σ) = D1(x; σ) + (w − 1)·(D1(x; σ) − D0(x; σ))

so the guide acts only through the difference D1 − D0. Its relative size at each σ,

    r(σ) = RMS(D1 − D0) / RMS(D1),    RMS(v) = √(mean over pixels and channels of v²)

says at which noise levels the two models disagree, i.e. where guidance can act at all. With
CFG the same ratio of D1(c) − D1(∅) to D1(c) is the paper's "conditional − unconditional"
beside autoguidance's "conditional − worse conditional".

The noisy input x_σ itself depends on the model family (ComfyUI's ``noise_scaling``), so it is
built by the caller; everything here is plain PyTorch on predictions already made. Images
are tensors [H, W, 3] in [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from .combine import combine

# ----------------------------------------------------------------------------
# The numbers: difference, guided prediction, RMS ratio.


def rms(v: Tensor) -> Tensor:
    """RMS(v) per sample: √(mean of v² over every dimension but the first), in float32. [B]"""
    return v.float().pow(2).flatten(1).mean(dim=1).sqrt()


def rms_ratio(d1: Tensor, d0: Tensor) -> Tensor:
    """r = RMS(D1 − D0) / RMS(D1) per sample [B]; D1 = 0 gives inf (or nan when D0 = 0 too)."""
    return rms(d1.float() - d0.float()) / rms(d1)


@dataclass(frozen=True)
class PairInspection:
    """The predictions of main and guide at N noise levels, one row per σ (sampling order).

    ``x``, ``d1``, ``d0`` (and ``d1_uncond``) are [N, C, H, W] in the model's own space;
    ``w`` is the weight used for D_w at each σ [N].
    """

    sigmas: Tensor  # [N]
    x: Tensor  # x_σ, the noisy input both models saw
    d1: Tensor  # D1(x_σ; σ, c): the main model
    d0: Tensor  # D0(x_σ; σ, c): the guide
    w: Tensor  # [N]
    d1_uncond: Tensor | None = None  # D1(x_σ; σ, ∅): the main model on the negative, for CFG

    @property
    def difference(self) -> Tensor:
        """D1 − D0, what autoguidance amplifies by (w − 1)."""
        return self.d1 - self.d0

    @property
    def guided(self) -> Tensor:
        """D_w = D1 + (w − 1)(D1 − D0) at each row's own w."""
        return combine(self.d1, [(self.d0, self.w.to(self.d1.device))])

    @property
    def cfg_difference(self) -> Tensor | None:
        """D1(c) − D1(∅), what CFG amplifies (None without a negative)."""
        return None if self.d1_uncond is None else self.d1 - self.d1_uncond

    @property
    def ratios(self) -> Tensor:
        """RMS(D1 − D0) / RMS(D1) per σ [N]."""
        return rms_ratio(self.d1, self.d0)

    @property
    def cfg_ratios(self) -> Tensor | None:
        """RMS(D1(c) − D1(∅)) / RMS(D1(c)) per σ [N] (None without a negative)."""
        return None if self.d1_uncond is None else rms_ratio(self.d1, self.d1_uncond)


# ----------------------------------------------------------------------------
# Noise levels and where a schedule guides.


def log_spaced_sigmas(sigma_min: float, sigma_max: float, n: int) -> list[float]:
    """n noise levels evenly spaced in log σ from sigma_max down to sigma_min (sampling order)."""
    if n < 1:
        raise ValueError(f"log_spaced_sigmas: n must be at least 1 (got {n})")
    if not 0 < sigma_min < sigma_max:
        raise ValueError(f"log_spaced_sigmas: need 0 < sigma_min < sigma_max (got {sigma_min}, {sigma_max})")
    if n == 1:
        return [math.sqrt(sigma_min * sigma_max)]
    lo, hi = math.log(sigma_min), math.log(sigma_max)
    return [math.exp(hi + (lo - hi) * i / (n - 1)) for i in range(n)]


def guided_spans(sigmas: Tensor, weights: Tensor) -> list[tuple[float, float]]:
    """Runs of σ where w(σ) ≠ 1, as (σ_low, σ_high) pairs; ``sigmas`` ascending [M], ``weights`` [M].

    Each span runs between the outermost grid points inside it, so a denser grid gives
    sharper ends.
    """
    active = (weights != 1).tolist()
    spans, start = [], None
    for i, on in enumerate([*active, False]):
        if on and start is None:
            start = i
        elif not on and start is not None:
            spans.append((float(sigmas[start]), float(sigmas[i - 1])))
            start = None
    return spans


# ----------------------------------------------------------------------------
# Pictures: signed colour map, pixel display, grid tiling.


def signed_field(v: Tensor, rgb_factors: Tensor | None = None) -> Tensor:
    """A signed scalar per pixel [H, W] from a difference v [C, H, W], linear in v.

    With a latent space's RGB preview factors F [C, 3] it is the mean over RGB of Fᵀv (the
    change in preview brightness, bias-free since v is a difference); otherwise the mean over
    channels (for a 1-channel image, v itself).
    """
    if rgb_factors is None:
        return v.float().mean(dim=0)
    return torch.einsum("chw,cr->rhw", v.float(), rgb_factors.float().to(v.device)).mean(dim=0)


def symmetric_scale(*fields: Tensor) -> float:
    """The colour-map scale s = max |v| over the fields (1 when all are zero)."""
    s = max((float(f.abs().max()) for f in fields if f.numel()), default=0.0)
    return s if s > 0 and math.isfinite(s) else 1.0


def signed_colormap(field: Tensor, scale: float) -> Tensor:
    """Diverging map [H, W] → [H, W, 3]: −scale blue (0, 0, 1), 0 white, +scale red (1, 0, 0).

    With t = clamp(v / scale, −1, 1): R = 1 − max(−t, 0), G = 1 − |t|, B = 1 − max(t, 0).
    Symmetric about 0: the map of −v is the map of v with red and blue swapped.
    """
    if not scale > 0:
        raise ValueError(f"signed_colormap: scale must be positive (got {scale})")
    t = (field.float() / scale).clamp(-1.0, 1.0)
    return torch.stack([1 - (-t).clamp(min=0), 1 - t.abs(), 1 - t.clamp(min=0)], dim=-1)


def pixels_to_image(x: Tensor) -> Tensor:
    """A pixel-space sample in [−1, 1], [C, H, W] with C = 1 or 3, as an image [H, W, 3] in [0, 1]."""
    image = ((x.float() + 1) / 2).clamp(0, 1)
    if image.shape[0] == 1:
        image = image.expand(3, -1, -1)
    return image.permute(1, 2, 0)


def upscale(image: Tensor, factor: int) -> Tensor:
    """Nearest-neighbour enlargement of [H, W, 3] by an integer factor (small models stay legible)."""
    if factor <= 1:
        return image
    return image.repeat_interleave(factor, dim=0).repeat_interleave(factor, dim=1)


def tile(rows: Sequence[Sequence[Tensor]], pad: int = 2, background: float = 1.0) -> Tensor:
    """Panels [h, w, 3] (all one size) tiled row by row with ``pad`` pixels between them → [H, W, 3].

    Panel (i, j) starts at (i·(h + pad), j·(w + pad)); a short row leaves background.
    """
    if not rows or not any(rows):
        raise ValueError("tile: no panels to tile (got an empty grid)")
    h, w = next(p for row in rows for p in row).shape[:2]
    cols = max(len(row) for row in rows)
    out = torch.full((len(rows) * (h + pad) - pad, cols * (w + pad) - pad, 3), float(background))
    for i, row in enumerate(rows):
        for j, panel in enumerate(row):
            if panel.shape[:2] != (h, w):
                raise ValueError(f"tile: panel ({i}, {j}) is {tuple(panel.shape[:2])}, the others ({h}, {w})")
            out[i * (h + pad) : i * (h + pad) + h, j * (w + pad) : j * (w + pad) + w] = panel.to(out)
    return out
