"""The pair inspector's pictures, drawn with Pillow: a grid of panels per σ and the plot of r(σ).

Columns: x_σ, D1, D0, D1 − D0 (signed colour map), D_w, and D1(c) − D1(∅) with a negative. Latents
are decoded by a connected VAE, else by the latent format's RGB preview factors (as ComfyUI's
Latent2RGB preview); pixel-space models (the bundled digits) are shown as they are.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageFont
from PIL.ImageDraw import Draw, ImageDraw
from torch import Tensor

from ...guidance.inspect import PairInspection

MIN_PANEL, PAD = 128, 4  # small models (16×16 digits) are enlarged to at least 128 px; 4 px between panels
INK, GRID, SHADE = (30, 30, 30), (225, 225, 225), (255, 228, 190)
AG_COLOUR, CFG_COLOUR = (200, 40, 40), (40, 90, 200)
ASCII = {"σ": "sigma", "−": "-", "∅": "uncond", "₀": "0", "₁": "1", "≠": "!=", "±": "+/-"}
COLUMNS = ["x_σ (input)", "D₁ main", "D₀ guide", "D₁ − D₀", "D_w guided", "D₁(c) − D₁(∅)"]
FRAME = (84, 44, 696, 340)  # the plot's axes in its 720 × 440 image: left, top, right, bottom
KEY = "Maps: white 0, red +, blue −, full colour at ± the row's scale (left).   D_w = D₁ + (w − 1)(D₁ − D₀)"


@cache
def _font(size: int) -> tuple[Any, bool]:
    """A font and whether it draws σ, −, ∅ (DejaVu Sans where installed, else Pillow's own)."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size), True
    except OSError:
        return ImageFont.load_default(size=size), False


def _text(draw: ImageDraw, xy: tuple[float, float], text: str, size: int = 13, anchor: str = "la") -> None:
    font, unicode_ok = _font(size)
    for symbol, plain in () if unicode_ok else ASCII.items():
        text = text.replace(symbol, plain)
    draw.text(xy, text, font=font, fill=INK, anchor=anchor)


def signed_colormap(field: Tensor, scale: float) -> Tensor:
    """Diverging map [H, W] → [H, W, 3]: −scale blue (0, 0, 1), 0 white, +scale red (1, 0, 0).

    With t = clamp(v / scale, −1, 1): R = 1 − max(−t, 0), G = 1 − |t|, B = 1 − max(t, 0).
    """
    if not scale > 0:
        raise ValueError(f"signed_colormap: scale must be positive (got {scale})")
    t = (field.float() / scale).clamp(-1.0, 1.0)
    return torch.stack([1 - (-t).clamp(min=0), 1 - t.abs(), 1 - t.clamp(min=0)], dim=-1)


def resize(image: Tensor, size: tuple[int, int]) -> Tensor:
    """Nearest-neighbour resize of an image [h, w, 3] to ``size`` (pixels stay square and sharp)."""
    return F.interpolate(image.permute(2, 0, 1)[None], size=size, mode="nearest")[0].permute(1, 2, 0)


@dataclass(frozen=True)
class Display:
    """How one model's tensors become pictures: ``decode`` (a VAE), preview factors, or as pixels."""

    latent_format: Any  # the main model's ComfyUI LatentFormat
    decode: Callable[[Tensor], Tensor] | None = None  # model space [N, C, h, w] → images [N, H, W, 3]

    def _preview(self, x: Tensor) -> tuple[Tensor, Tensor | None]:
        """x reshaped as the preview wants it, and the RGB preview factors [C, 3] (None: no preview)."""
        factors = getattr(self.latent_format, "latent_rgb_factors", None)
        reshape = getattr(self.latent_format, "latent_rgb_factors_reshape", None)
        if factors is None:
            return x, None
        return (reshape(x) if reshape else x), torch.tensor(factors, dtype=torch.float32, device=x.device)

    def images(self, x: Tensor) -> Tensor:
        """Model-space samples [N, C, H, W] → images [N, H', W', 3] in [0, 1]."""
        if self.decode is not None:
            image = self.decode(x)
            return image.reshape(-1, *image.shape[-3:]).float().cpu().clamp(0, 1)
        x, factors = self._preview(x.float().cpu())
        if factors is not None:
            bias = getattr(self.latent_format, "latent_rgb_factors_bias", None)
            rgb = torch.einsum("nchw,cr->nhwr", x, factors) + torch.tensor(bias or [0.0] * 3)
            return ((rgb + 1) / 2).clamp(0, 1)
        if x.shape[1] not in (1, 3):  # no preview factors: the first three channels as RGB, else grey
            x = x[:, :3] if x.shape[1] > 3 else x.mean(dim=1, keepdim=True)
        return ((x.expand(-1, 3, -1, -1) + 1) / 2).clamp(0, 1).permute(0, 2, 3, 1)  # pixels in [−1, 1]

    def field(self, v: Tensor) -> Tensor:
        """A difference v [C, H, W] as a signed scalar per pixel [H, W], linear in v: the mean over RGB
        of the preview factors' Fᵀv (the change in preview brightness), else the mean over channels."""
        v, factors = self._preview(v[None].float().cpu())
        return (v[0] if factors is None else torch.einsum("chw,cr->rhw", v[0], factors)).mean(dim=0)


class Grid(NamedTuple):
    image: Tensor  # [H, W, 3]: the panels tiled PAD apart, titled above, σ / w / colour scale at the left
    panels: list[list[Tensor]]  # [row][column] panels [h, w, 3], all one size
    scales: list[float]  # each row's colour scale s: ±s is full red/blue (max |v| of its maps, else 1)


def grid(ins: PairInspection, display: Display, x_shown: Tensor) -> Grid:
    """The grid of one inspection, a row per σ; ``x_shown`` is x_σ brought to the data's range."""
    n = len(ins.sigmas)
    decoded = display.images(torch.cat([x_shown, ins.d1, ins.d0, ins.guided]))  # [4N, H, W, 3]
    factor = max(1, math.ceil(MIN_PANEL / min(decoded.shape[1:3])))
    h, w = decoded.shape[1] * factor, decoded.shape[2] * factor
    rows, scales = [], []
    for i in range(n):
        cfg = [] if ins.cfg_difference is None else [ins.cfg_difference[i]]
        fields = [display.field(v) for v in [ins.difference[i], *cfg]]
        scale = max(float(f.abs().max()) for f in fields)
        scales.append(scale if scale > 0 and math.isfinite(scale) else 1.0)
        x, d1, d0, guided = (resize(decoded[k * n + i], (h, w)) for k in range(4))
        maps = [resize(signed_colormap(f, scales[-1]), (h, w)) for f in fields]
        rows.append([x, d1, d0, maps[0], guided, *maps[1:]])
    head, side, columns = 24, 92, COLUMNS[: len(rows[0])]
    image = Image.new("RGB", (side + len(columns) * (w + PAD), head + n * (h + PAD) + 20), "white")
    draw = Draw(image)
    for j, title in enumerate(columns):
        _text(draw, (side + j * (w + PAD) + w / 2, head / 2), title, anchor="mm")
    for i, (row, sigma, row_w) in enumerate(zip(rows, ins.sigmas.tolist(), ins.w.tolist(), strict=True)):
        top = head + i * (h + PAD)
        for j, panel in enumerate(row):
            pixels = (panel.clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
            image.paste(Image.fromarray(pixels, "RGB"), (side + j * (w + PAD), top))
        for k, line in enumerate([f"σ = {sigma:.3g}", f"w = {row_w:.3g}", f"± {scales[i]:.2g}"]):
            _text(draw, (side - 8, top + h / 2 + (k - 1) * 16), line, anchor="rm")
    _text(draw, (6, image.height - 18), KEY, 12)
    return Grid(torch.from_numpy(np.array(image)).float() / 255, rows, scales)


def ratio_plot(ins: PairInspection, sigma_range: tuple[float, float], weight: Callable | None) -> Tensor:
    """r(σ) = RMS(D1 − D0)/RMS(D1) against log σ over ``sigma_range``, high noise on the left (as the
    schedule widget draws w(σ)), and RMS(D1(c) − D1(∅))/RMS(D1(c)) with a negative → [440, 720, 3];
    shaded where a connected schedule's ``weight`` (w at σ [M]) is not 1."""
    sigmas = ins.sigmas.tolist()
    series = [("autoguidance  RMS(D₁ − D₀)/RMS(D₁)", AG_COLOUR, ins.ratios.tolist())]
    if ins.cfg_ratios is not None:
        series.append(("CFG  RMS(D₁(c) − D₁(∅))/RMS(D₁(c))", CFG_COLOUR, ins.cfg_ratios.tolist()))
    left, top, right, bottom = FRAME
    log_lo, log_hi = math.log10(sigma_range[0]), math.log10(sigma_range[1])
    peak = max([v for _, _, values in series for v in values if math.isfinite(v)] + [1e-6]) * 1.1
    step = 10 ** math.floor(math.log10(peak)) / 2  # the axis ends at a multiple of half a power of ten
    top_r = math.ceil(peak / step) * step

    def x(sigma: float) -> float:  # log σ decreasing to the right
        return left + (log_hi - math.log10(sigma)) / (log_hi - log_lo) * (right - left)

    def y(r: float) -> float:
        return bottom - r / top_r * (bottom - top)

    image = Image.new("RGB", (720, 440), "white")
    draw = Draw(image)
    sigma = torch.logspace(log_hi, log_lo, right - left + 1, dtype=torch.float64)  # at each pixel column
    guided = [] if weight is None else (torch.nonzero(weight(sigma) != 1).flatten() + left).tolist()
    for px in guided:
        draw.line([(px, top), (px, bottom)], fill=SHADE)
    decades = [10.0**k for k in range(math.ceil(log_lo - 1e-9), math.floor(log_hi + 1e-9) + 1)]
    for s in decades if len(decades) >= 2 else sorted({*sigma_range, *decades}):
        draw.line([(x(s), top), (x(s), bottom)], fill=GRID)
        _text(draw, (x(s), bottom + 6), f"{s:g}", anchor="ma")
    for r in (top_r * k / 5 for k in range(6)):
        draw.line([(left, y(r)), (right, y(r))], fill=GRID)
        _text(draw, (left - 6, y(r)), f"{r:.3g}", anchor="rm")
    draw.rectangle([left, top, right, bottom], outline=INK)
    _text(draw, (left, 12), "How much the guide disagrees with the main model: RMS(D₁ − D₀) / RMS(D₁)", 15)
    _text(draw, (left - 6, top - 6), "ratio", anchor="rd")
    _text(draw, ((left + right) / 2, bottom + 28), "σ (log scale; high noise on the left)", 14, "ma")
    for k, (_, colour, values) in enumerate(series):  # circles for autoguidance, squares for CFG
        points = [(x(s), y(v)) for s, v in sorted(zip(sigmas, values, strict=True)) if math.isfinite(v)]
        draw.line(points, fill=colour, width=2)
        for px, py in points:
            (draw.rectangle if k else draw.ellipse)([px - 4, py - 4, px + 4, py + 4], fill=colour)
    legend = [(label, colour) for label, colour, _ in series]
    legend += [("schedule guides here (w ≠ 1)", SHADE)] if len(guided) else []
    for k, (label, colour) in enumerate(legend):  # below the axis label: never over the data
        row = bottom + 50 + 16 * k
        draw.rectangle([left, row + 2, left + 12, row + 14], fill=colour, outline=GRID)
        _text(draw, (left + 18, row), label)
    return torch.from_numpy(np.array(image)).float() / 255  # [H, W, 3] in [0, 1]
