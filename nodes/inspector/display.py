"""Model-space tensors of the pair inspector → the grid IMAGE (one row per σ).

Columns: x_σ, D1, D0, D1 − D0 (signed colour map), D_w, and D1(c) − D1(∅) with a negative.
Latents are decoded by a connected VAE, else by the latent format's RGB preview factors
(ComfyUI's Latent2RGB preview); pixel-space models (the bundled digits) are shown directly.
The difference maps are linear in D1 − D0 (see ``guidance.inspect.signed_field``), on one
colour scale per row shared by both difference columns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from ...guidance.inspect import (
    PairInspection,
    pixels_to_image,
    signed_colormap,
    signed_field,
    symmetric_scale,
    tile,
    upscale,
)
from .. import _api
from .render import label_grid

PAD = 4
MIN_PANEL = 128  # small models (16×16 digits, 64×64 previews) are enlarged to at least this


@dataclass(frozen=True)
class Display:
    """How one model's tensors become pictures: through ``vae``, preview factors, or as pixels."""

    model: Any  # a ComfyUI BaseModel
    vae: Any = None

    def _factors(self) -> tuple[torch.Tensor | None, torch.Tensor | None, Any]:
        fmt = _api.latent_format_of(self.model)
        factors = getattr(fmt, "latent_rgb_factors", None)
        if factors is None:
            return None, None, None
        bias = getattr(fmt, "latent_rgb_factors_bias", None)
        return (
            torch.tensor(factors, dtype=torch.float32),
            None if bias is None else torch.tensor(bias),
            getattr(fmt, "latent_rgb_factors_reshape", None),
        )

    def images(self, x: torch.Tensor) -> torch.Tensor:
        """Model-space samples [N, C, H, W] → images [N, H', W', 3] in [0, 1]."""
        if self.vae is not None:
            image = self.vae.decode(_api.latent_out(self.model, x))
            return image.reshape(-1, *image.shape[-3:]).float().cpu().clamp(0, 1)
        factors, bias, reshape = self._factors()
        if factors is not None:
            x = reshape(x) if reshape is not None else x
            rgb = torch.einsum("nchw,cr->nhwr", x.float().cpu(), factors)
            rgb = rgb + bias if bias is not None else rgb
            return ((rgb + 1) / 2).clamp(0, 1)
        if x.shape[1] not in (1, 3):  # no preview factors: the first three channels as RGB, else grey
            x = x[:, :3] if x.shape[1] > 3 else x.mean(dim=1, keepdim=True)
        return torch.stack([pixels_to_image(s.cpu()) for s in x])

    def field(self, v: torch.Tensor) -> torch.Tensor:
        """A difference [C, H, W] as a signed scalar per pixel [H, W] (linear in v)."""
        factors, _, reshape = self._factors()
        if factors is not None and reshape is not None:
            v = reshape(v[None])[0]
        return signed_field(v.cpu(), factors)


def _fit(field: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """A field [h, w] stretched (nearest) to the panel size [H, W] of decoded images."""
    if tuple(field.shape) == size:
        return field
    return F.interpolate(field[None, None], size=size, mode="nearest")[0, 0]


@dataclass(frozen=True)
class Grid:
    image: torch.Tensor  # [1, H, W, 3]
    scales: list[float]  # colour scale s per row: ±s is full red/blue
    panels: list[list[torch.Tensor]]  # [row][column] panels [h, w, 3], before labels


def build_grid(ins: PairInspection, display: Display, x_shown: torch.Tensor) -> Grid:
    """The grid of one inspection; ``x_shown`` is x_σ as displayed (rescaled to the data's range)."""
    n = len(ins.sigmas)
    decoded = display.images(torch.cat([x_shown, ins.d1, ins.d0, ins.guided]))  # [4N, H, W, 3]
    size = (decoded.shape[1], decoded.shape[2])
    factor = max(1, math.ceil(MIN_PANEL / min(size)))
    rows, scales = [], []
    for i in range(n):
        fields = [display.field(ins.difference[i])]
        if ins.cfg_difference is not None:
            fields.append(display.field(ins.cfg_difference[i]))
        scale = symmetric_scale(*fields)
        maps = [signed_colormap(_fit(f, size), scale) for f in fields]
        pictures = [decoded[k * n + i] for k in range(4)]
        row = [*pictures[:3], maps[0], pictures[3], *maps[1:]]
        rows.append([upscale(p, factor) for p in row])
        scales.append(scale)
    return Grid(tile(rows, pad=PAD)[None], scales, rows)


def labelled(grid: Grid, ins: PairInspection) -> torch.Tensor:
    """The grid with column titles, σ and colour scale per row, and how to read the maps."""
    columns = ["x_σ (input)", "D₁ main", "D₀ guide", "D₁ − D₀", "D_w guided"]
    if ins.cfg_difference is not None:
        columns.append("D₁(c) − D₁(∅)")
    rows = [
        [f"σ = {float(s):.3g}", f"w = {float(w):.3g}", f"± {scale:.2g}"]
        for s, w, scale in zip(ins.sigmas, ins.w, grid.scales, strict=True)
    ]
    footer = (
        "Maps: white 0, red +, blue −, full colour at ± the row's scale (left).   D_w = D₁ + (w − 1)(D₁ − D₀)"
    )
    height, width = grid.panels[0][0].shape[:2]
    return label_grid(grid.image[0], (height, width), PAD, columns, rows, footer)[None]
