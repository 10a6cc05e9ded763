"""Figures for the demos, drawn with Pillow (the `demo` extra; ComfyUI ships it too)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

CLASS_COLOURS = [(230, 120, 30), (110, 110, 120), (40, 120, 200), (200, 60, 90)]


def _pil():
    try:
        from PIL import Image, ImageDraw
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("the demos draw with Pillow: pip install -e '.[demo]' (or pip install pillow)") from None
    return Image, ImageDraw


def scatter_panels(panels: list[Tensor], labels: Tensor, titles: list[str], out: Path, size: int = 360) -> None:
    """Side-by-side scatter plots of 2-D points [N, 2] coloured by class, sharing one frame."""
    Image, ImageDraw = _pil()
    everything = torch.cat([panels[0]])
    lo, hi = everything.min(0).values - 0.3, everything.max(0).values + 0.3
    span = float((hi - lo).max())
    header = 22
    img = Image.new("RGB", (size * len(panels), size + header), "white")
    draw = ImageDraw.Draw(img, "RGBA")
    for i, (pts, title) in enumerate(zip(panels, titles, strict=True)):
        x0 = i * size
        draw.rectangle([x0, header, x0 + size - 1, header + size - 1], outline=(200, 200, 200))
        draw.text((x0 + 6, 5), title, fill=(0, 0, 0))
        uv = ((pts.float() - lo) / span * (size - 8) + 4).tolist()
        for (u, v), c in zip(uv, labels.tolist(), strict=True):
            if 0 <= u < size and 0 <= v < size:
                px, py = x0 + u, header + size - v
                draw.ellipse([px - 1, py - 1, px + 1, py + 1], fill=(*CLASS_COLOURS[c % 4], 90))
    out.parent.mkdir(parents=True, exist_ok=True)
    img.save(out)
