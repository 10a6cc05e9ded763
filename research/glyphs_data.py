"""Glyphs: a class-conditional image distribution that ships as code, with unlimited samples.

Ten glyph classes (disc, ring, box, triangle, plus, cross, L, T, bars, chevron) rendered as
16×16 grey images in [−1, 1] from signed distance functions, each with a random pose
(rotation ±25°, translation), scale, stroke width, glyph and background intensity and a
background gradient, anti-aliased over one pixel. Every call draws fresh images, so a
network cannot memorise the training set: its only limit is its capacity and training, the
regime in which autoguidance improves the unguided model (Karras et al. 2024, Sec. 3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

RESOLUTION = 16
CLASSES = ("disc", "ring", "box", "triangle", "plus", "cross", "L", "T", "bars", "chevron")
NUM_CLASSES = len(CLASSES)


# ----------------------------------------------------------------------------
# Signed distances in a glyph's own frame (u, v), unit size: negative inside.


def _segment(u: Tensor, v: Tensor, a: tuple[float, float], b: tuple[float, float]) -> Tensor:
    """Distance to the segment a–b."""
    du, dv = b[0] - a[0], b[1] - a[1]
    t = (((u - a[0]) * du + (v - a[1]) * dv) / (du * du + dv * dv)).clamp(0, 1)
    return torch.hypot(u - a[0] - t * du, v - a[1] - t * dv)


def _strokes(u: Tensor, v: Tensor, half: Tensor, segments: list[tuple[tuple[float, float], ...]]) -> Tensor:
    d = torch.stack([_segment(u, v, a, b) for a, b in segments]).amin(0)
    return d - half


def _box(u: Tensor, v: Tensor) -> Tensor:
    qu, qv = u.abs() - 0.7, v.abs() - 0.7
    return torch.hypot(qu.clamp_min(0), qv.clamp_min(0)) + torch.maximum(qu, qv).clamp_max(0)


def _triangle(u: Tensor, v: Tensor) -> Tensor:
    """Filled equilateral triangle, apex up (image rows grow downwards)."""
    k = math.sqrt(3.0)
    return torch.maximum(v - 0.5, torch.maximum(-k * u - v - 0.5, k * u - v - 0.5) / 2)


def glyph_distance(kind: int, u: Tensor, v: Tensor, half: Tensor) -> Tensor:
    """Signed distance of glyph ``kind`` at (u, v) [B, H, W]; ``half`` [B, 1, 1] is half the stroke."""
    r = torch.hypot(u, v)
    if kind == 0:
        return r - 0.8
    if kind == 1:
        return (r - 0.7).abs() - half
    if kind == 2:
        return _box(u, v).abs() - half
    if kind == 3:
        return _triangle(u, v * 1.1 - 0.15)
    lines = {
        4: [((-0.85, 0.0), (0.85, 0.0)), ((0.0, -0.85), (0.0, 0.85))],
        5: [((-0.65, -0.65), (0.65, 0.65)), ((-0.65, 0.65), (0.65, -0.65))],
        6: [((-0.5, -0.8), (-0.5, 0.8)), ((-0.5, 0.8), (0.6, 0.8))],
        7: [((-0.75, -0.75), (0.75, -0.75)), ((0.0, -0.75), (0.0, 0.85))],
        8: [((-0.8, -0.4), (0.8, -0.4)), ((-0.8, 0.4), (0.8, 0.4))],
        9: [((-0.75, -0.5), (0.0, 0.5)), ((0.0, 0.5), (0.75, -0.5))],
    }
    return _strokes(u, v, half, lines[kind])


# ----------------------------------------------------------------------------
# Sampling.


# Each factor's range: every one is drawn uniformly and independently of the others.
FACTOR_RANGES = {
    "angle": (-25.0, 25.0),  # rotation, degrees
    "scale": (0.45, 0.8),  # glyph size, share of the half-width of the image
    "shift_x": (-0.2, 0.2),  # translation, share of the half-width
    "shift_y": (-0.2, 0.2),
    "stroke": (0.07, 0.17),  # half the stroke width, share of the half-width (ring, box and lines)
    "fg": (0.2, 1.0),  # glyph intensity
    "bg": (-1.0, -0.3),  # background intensity at the centre
    "grad_angle": (0.0, 2 * math.pi),  # direction of the background gradient
    "grad": (0.0, 0.25),  # background gradient: intensity change per half-width
}
FACTORS = ("class", *FACTOR_RANGES)  # every generative factor of a glyph


@dataclass(frozen=True)
class GlyphFactors:
    """The generative factors of B glyphs: ``labels`` [B] and one [B, 1, 1] tensor per range."""

    labels: Tensor
    values: dict[str, Tensor]

    def replace(self, name: str, value: Tensor) -> GlyphFactors:
        """The same glyphs with factor ``name`` (a FACTORS entry) set to ``value``, all else kept."""
        if name == "class":
            return GlyphFactors(value, self.values)
        return GlyphFactors(self.labels, {**self.values, name: value})


def draw_factors(labels: Tensor, generator: torch.Generator) -> GlyphFactors:
    """Factors for glyph classes ``labels`` [B], each uniform on its FACTOR_RANGES range."""
    n = len(labels)
    values = {}
    for name, (lo, hi) in FACTOR_RANGES.items():  # this order fixes the stream of random numbers
        values[name] = torch.rand(n, 1, 1, generator=generator) * (hi - lo) + lo
    return GlyphFactors(labels, values)


def render_factors(factors: GlyphFactors) -> Tensor:
    """Images [B, 1, 16, 16] in [−1, 1]: glyph coverage c ∈ [0, 1] blended as bg + gradient + c·(fg − bg)."""
    f, labels = factors.values, factors.labels
    angle, scale = f["angle"] * math.pi / 180, f["scale"]
    half = f["stroke"] / scale  # stroke in glyph units
    axis = (torch.arange(RESOLUTION) + 0.5) / RESOLUTION * 2 - 1
    y, x = torch.meshgrid(axis, axis, indexing="ij")  # [H, W] each
    px, py = x - f["shift_x"], y - f["shift_y"]  # [B, H, W]
    cos, sin = angle.cos(), angle.sin()
    u, v = (cos * px + sin * py) / scale, (-sin * px + cos * py) / scale
    d = torch.empty_like(u)
    for kind in range(NUM_CLASSES):
        mask = labels == kind
        if mask.any():
            d[mask] = glyph_distance(kind, u[mask], v[mask], half[mask])
    pixel = 2 / RESOLUTION / scale  # one pixel in glyph units
    coverage = (0.5 - d / pixel).clamp(0, 1)
    gradient = f["grad"] * (f["grad_angle"].cos() * x + f["grad_angle"].sin() * y)
    return (f["bg"] + gradient + coverage * (f["fg"] - f["bg"])).clamp(-1, 1)[:, None]


def render(labels: Tensor, generator: torch.Generator) -> Tensor:
    """Images [B, 1, 16, 16] in [−1, 1] of glyph classes ``labels`` [B], randomness from ``generator``."""
    return render_factors(draw_factors(labels, generator))


def sample_glyphs(n: int, seed: int, balanced: bool = False) -> tuple[Tensor, Tensor]:
    """``n`` fresh glyphs and their labels [n] for a seed (classes in turn if ``balanced``)."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % NUM_CLASSES if balanced else torch.randint(NUM_CLASSES, (n,), generator=g)
    return render(labels, g), labels
