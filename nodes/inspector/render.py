"""Pictures and text of the pair inspector, drawn with Pillow (which ComfyUI ships).

- ``ratio_plot``: r(σ) = RMS(D1 − D0) / RMS(D1) against log σ, high noise on the left (as the
  schedule widget draws w(σ)), the σ where a connected schedule guides (w ≠ 1) shaded.
- ``label_grid``: column titles and per-row σ / colour scale around a tiled grid.
- ``report``: the same numbers as a plain-text table to paste into a Note.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache

import torch
from PIL import Image, ImageDraw, ImageFont

INK, GRID, SHADE = (30, 30, 30), (225, 225, 225), (255, 228, 190)
AG_COLOUR, CFG_COLOUR = (200, 40, 40), (40, 90, 200)
ASCII = {"σ": "sigma", "−": "-", "∅": "uncond", "₀": "0", "₁": "1", "≠": "!=", "±": "+/-", "·": "*"}


@cache
def _font(size: int) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, bool]:
    """A font and whether it draws σ, −, ∅ (DejaVu Sans where installed, else Pillow's own, ASCII text)."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size), True
    except OSError:
        return ImageFont.load_default(size=size), False


def _text(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    size: int = 14,
    fill: tuple[int, int, int] = INK,
    anchor: str = "la",
) -> None:
    font, unicode_ok = _font(size)
    if not unicode_ok:
        for symbol, plain in ASCII.items():
            text = text.replace(symbol, plain)
    draw.text(xy, text, font=font, fill=fill, anchor=anchor)


def to_pil(image: torch.Tensor) -> Image.Image:
    """[H, W, 3] in [0, 1] → an RGB Pillow image."""
    array = (image.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
    return Image.fromarray(array, "RGB")


def from_pil(image: Image.Image) -> torch.Tensor:
    """An RGB Pillow image → [H, W, 3] float32 in [0, 1]."""
    return (
        torch.frombuffer(bytearray(image.convert("RGB").tobytes()), dtype=torch.uint8)
        .reshape(image.height, image.width, 3)
        .float()
        / 255
    )


# ----------------------------------------------------------------------------
# The plot.


def _nice_ceiling(v: float) -> float:
    """The smallest of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k at or above v (v > 0)."""
    k = math.floor(math.log10(v))
    return next(m * 10**k for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if m * 10**k >= v * (1 - 1e-9))


def _decades(lo: float, hi: float) -> list[float]:
    ticks = [10.0**k for k in range(math.ceil(math.log10(lo) - 1e-9), math.floor(math.log10(hi) + 1e-9) + 1)]
    return ticks if len(ticks) >= 2 else sorted({lo, *ticks, hi})


class _Frame:
    """Maps (σ, r) to pixels: log σ decreasing to the right, r from 0 at the bottom."""

    def __init__(self, size: tuple[int, int], sigma_range: tuple[float, float], r_max: float):
        self.left, self.top, self.right, self.bottom = 84, 44, size[0] - 24, size[1] - 100
        self.log_lo, self.log_hi = math.log(sigma_range[0]), math.log(sigma_range[1])
        self.r_max = r_max

    def x(self, sigma: float) -> float:
        t = (self.log_hi - math.log(sigma)) / (self.log_hi - self.log_lo)
        return self.left + t * (self.right - self.left)

    def y(self, r: float) -> float:
        return self.bottom - r / self.r_max * (self.bottom - self.top)


def _axes(draw: ImageDraw.ImageDraw, f: _Frame, sigma_range: tuple[float, float]) -> None:
    for s in _decades(*sigma_range):
        draw.line([(f.x(s), f.top), (f.x(s), f.bottom)], fill=GRID)
        _text(draw, (f.x(s), f.bottom + 6), f"{s:g}", 13, anchor="ma")
    for i in range(6):
        r = f.r_max * i / 5
        draw.line([(f.left, f.y(r)), (f.right, f.y(r))], fill=GRID)
        _text(draw, (f.left - 6, f.y(r)), f"{r:.3g}", 13, anchor="rm")
    draw.rectangle([f.left, f.top, f.right, f.bottom], outline=INK)
    _text(
        draw,
        ((f.left + f.right) / 2, f.bottom + 28),
        "σ (noise level, log scale; high noise on the left)",
        14,
        anchor="ma",
    )


def _y_label(image: Image.Image, text: str, f: _Frame) -> None:
    strip = Image.new("RGB", (f.bottom - f.top, 22), "white")
    _text(ImageDraw.Draw(strip), (strip.width / 2, 11), text, 14, anchor="mm")
    image.paste(strip.rotate(90, expand=True), (6, f.top))


def _series(
    draw: ImageDraw.ImageDraw,
    f: _Frame,
    sigmas: Sequence[float],
    values: Sequence[float],
    colour: tuple[int, int, int],
    square: bool,
) -> None:
    points = sorted((s, v) for s, v in zip(sigmas, values, strict=True) if math.isfinite(v))
    xy = [(f.x(s), f.y(v)) for s, v in points]
    if len(xy) > 1:
        draw.line(xy, fill=colour, width=2)
    for x, y in xy:
        (draw.rectangle if square else draw.ellipse)([x - 4, y - 4, x + 4, y + 4], fill=colour)


def _legend(draw: ImageDraw.ImageDraw, f: _Frame, entries: list[tuple[str, tuple[int, int, int]]]) -> None:
    """Below the axis label, left to right, wrapping: never over the data."""
    font, _ = _font(13)
    x: float = f.left  # advanced by text widths, which are floats
    y = f.bottom + 52
    for label, colour in entries:
        width = font.getlength(label) + 44
        if x + width > f.right + 20 and x > f.left:
            x, y = f.left, y + 20
        draw.rectangle([x, y + 2, x + 12, y + 14], fill=colour, outline=GRID)
        _text(draw, (x + 18, y), label, 13)
        x += width


def ratio_plot(
    sigmas: Sequence[float],
    ratios: Sequence[float],
    sigma_range: tuple[float, float],
    spans: Sequence[tuple[float, float]] = (),
    cfg_ratios: Sequence[float] | None = None,
    size: tuple[int, int] = (720, 440),
) -> torch.Tensor:
    """r(σ) = RMS(D1 − D0)/RMS(D1) at the inspected σ on a log-σ axis over ``sigma_range`` → [H, W, 3].

    ``spans`` (σ_low, σ_high) are shaded: where the connected schedule guides (w ≠ 1).
    ``cfg_ratios`` adds RMS(D1(c) − D1(∅))/RMS(D1(c)) as a second series.
    """
    values = [v for v in [*ratios, *(cfg_ratios or [])] if math.isfinite(v)]
    frame = _Frame(size, sigma_range, _nice_ceiling(max([*values, 1e-6]) * 1.1))
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    for lo, hi in spans:
        draw.rectangle(
            [frame.x(min(hi, sigma_range[1])), frame.top, frame.x(max(lo, sigma_range[0])), frame.bottom],
            fill=SHADE,
        )
    _axes(draw, frame, sigma_range)
    _y_label(image, "ratio", frame)
    _text(
        draw, (frame.left, 12), "How much the guide disagrees with the main model: RMS(D₁ − D₀) / RMS(D₁)", 15
    )
    entries = [("autoguidance  RMS(D₁ − D₀)/RMS(D₁)", AG_COLOUR)]
    _series(draw, frame, sigmas, ratios, AG_COLOUR, square=False)
    if cfg_ratios is not None:
        _series(draw, frame, sigmas, cfg_ratios, CFG_COLOUR, square=True)
        entries.append(("CFG  RMS(D₁(c) − D₁(∅))/RMS(D₁(c))", CFG_COLOUR))
    if spans:
        entries.append(("schedule guides here (w ≠ 1)", SHADE))
    _legend(draw, frame, entries)
    return from_pil(image)


# ----------------------------------------------------------------------------
# Grid labels and the text report.


def label_grid(
    grid: torch.Tensor,
    panel: tuple[int, int],
    pad: int,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    footer: str,
) -> torch.Tensor:
    """``grid`` [H, W, 3] with column titles above, row labels (lines) on the left and a footer."""
    head, side, foot_line = 24, 92, 17
    lines = _wrap(footer, max(grid.shape[1] + side - 8, 200), 12)
    image = Image.new(
        "RGB", (grid.shape[1] + side, grid.shape[0] + head + 6 + foot_line * len(lines)), "white"
    )
    image.paste(to_pil(grid), (side, head))
    draw = ImageDraw.Draw(image)
    for j, title in enumerate(columns):
        _text(draw, (side + j * (panel[1] + pad) + panel[1] / 2, head / 2), title, 13, anchor="mm")
    for i, label_lines in enumerate(rows):
        middle = head + i * (panel[0] + pad) + panel[0] / 2
        for k, line in enumerate(label_lines):
            _text(draw, (side - 8, middle + (k - (len(label_lines) - 1) / 2) * 16), line, 13, anchor="rm")
    for k, line in enumerate(lines):
        _text(draw, (6, grid.shape[0] + head + 4 + k * foot_line), line, 12)
    return from_pil(image)


def _wrap(text: str, width: int, size: int) -> list[str]:
    font, _ = _font(size)
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if line and font.getlength(trial) > width:
            lines.append(line)
            line = word
        else:
            line = trial
    return [*lines, line] if line else lines


def report(
    header: Sequence[str], sigmas: Sequence[float], columns: dict[str, Sequence[float]], footer: Sequence[str]
) -> str:
    """A fixed-width table, one row per σ, framed by header and footer lines (pastes into a Note)."""
    names = ["σ", *columns]
    table = [[f"{s:.4g}", *(f"{columns[c][i]:.4g}" for c in columns)] for i, s in enumerate(sigmas)]
    widths = [max(len(n), *(len(r[j]) for r in table)) for j, n in enumerate(names)]
    lines = ["  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in table]
    return "\n".join([*header, *lines, *footer])
