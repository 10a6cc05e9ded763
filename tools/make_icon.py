"""Draw ``docs/icon.png``, the pack's icon in the Comfy Registry (``Icon`` in pyproject.toml).

The schedule widget's picture in small: a guidance weight w(σ) in the widget's orange over the
dashed w = 1 line, on the node's dark background. ``python tools/make_icon.py`` (needs Pillow).
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "docs" / "icon.png"
SIZE, SCALE = 256, 4  # drawn 4x larger, then downsampled for smooth edges


def main() -> None:
    s = SIZE * SCALE
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle([0, 0, s - 1, s - 1], radius=s // 6, fill=(30, 30, 30, 255))
    x0, x1, y_off, y_top = s * 0.14, s * 0.86, s * 0.72, s * 0.26
    d.rectangle(
        [s * 0.30, y_top - s * 0.04, s * 0.70, y_off], fill=(79, 61, 38, 255)
    )  # the guided interval (the widget's shade)
    for x in range(int(x0), int(x1), s // 24):  # w = 1: guidance off
        d.line([(x, y_off), (x + s // 48, y_off)], fill=(138, 138, 138, 255), width=s // 64)
    points = []
    for i in range(121):
        t = i / 120
        bump = 0.5 - 0.5 * math.cos(2 * math.pi * min(max((t - 0.28) / 0.56, 0.0), 1.0))
        points.append((x0 + t * (x1 - x0), y_off - bump * (y_off - y_top)))
    d.line(points, fill=(240, 160, 64, 255), width=s // 28, joint="curve")
    img.resize((SIZE, SIZE), Image.Resampling.LANCZOS).save(OUT, optimize=True)


if __name__ == "__main__":
    main()
