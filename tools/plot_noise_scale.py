"""Draw ``docs/noise_scale.png``: a flow model's σ against the noise-to-signal ratio σ_edm.

    python tools/plot_noise_scale.py [OUT.png]

The curve is σ_edm = σ_flow / (1 − σ_flow) (``guidance/noise_scale.py``); the guidance interval
(0.28, 5.42] is shaded on the σ_edm axis and where it lands on the σ_flow axis, beside the
σ_flow range the same numbers would cover if read as flow σ. Pillow only (the ``demo`` extra).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
W, H = 720, 460
LEFT, RIGHT, TOP, BOTTOM = 78, 24, 46, 110  # plot margins
Y_LO, Y_HI = 0.01, 100.0  # σ_edm axis (log)
LO, HI = 0.28, 5.42


def font(size: int):
    from PIL import ImageFont

    for name in ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def px(sigma_flow: float, sigma_edm: float) -> tuple[float, float]:
    """Canvas position of (σ_flow, σ_edm): linear x, log y."""
    x = LEFT + sigma_flow * (W - LEFT - RIGHT)
    t = (math.log10(sigma_edm) - math.log10(Y_LO)) / (math.log10(Y_HI) - math.log10(Y_LO))
    return x, H - BOTTOM - t * (H - TOP - BOTTOM)


def draw(out: Path) -> None:
    from PIL import Image, ImageDraw

    from comfyui_autoguidance.guidance.noise_scale import edm_to_flow, flow_to_edm

    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img, "RGBA")
    small, label = font(13), font(15)
    f_lo, f_hi = (float(v) for v in edm_to_flow(torch.tensor([LO, HI])))
    x0, _ = px(0, Y_LO)
    x1, _ = px(1, Y_LO)
    _, y_lo = px(0, LO)
    _, y_hi = px(0, HI)
    xf_lo, _ = px(f_lo, Y_LO)
    xf_hi, _ = px(f_hi, Y_LO)
    d.rectangle([x0, y_hi, x1, y_lo], fill=(70, 130, 220, 40))  # the interval on the σ_edm axis
    d.rectangle([xf_lo, TOP, xf_hi, H - BOTTOM], fill=(70, 130, 220, 40))  # ... and on the σ_flow axis
    for v in (0.01, 0.1, 1, 10, 100):  # axes and grid
        _, y = px(0, v)
        d.line([x0, y, x1, y], fill=(225, 225, 225))
        d.text((x0 - 8, y), f"{v:g}", fill="black", font=small, anchor="rm")
    for v in (0, 0.2, 0.4, 0.6, 0.8, 1.0):
        x, _ = px(v, Y_LO)
        d.line([x, TOP, x, H - BOTTOM], fill=(225, 225, 225))
        d.text((x, H - BOTTOM + 8), f"{v:g}", fill="black", font=small, anchor="mt")
    d.rectangle([x0, TOP, x1, H - BOTTOM], outline="black")
    for v in (LO, HI):
        _, y = px(0, v)
        d.line([x0, y, x1, y], fill=(40, 90, 190), width=1)
        d.text((x0 + 6, y - 3), f"σ_edm = {v}", fill=(40, 90, 190), font=small, anchor="lb")
    sigma = torch.linspace(0.0099, 0.99, 400, dtype=torch.float64)
    points = [px(float(s), float(e)) for s, e in zip(sigma, flow_to_edm(sigma), strict=True)]
    d.line(points, fill=(200, 40, 40), width=3)
    d.text(
        (px(0.5, 1.0)[0] + 12, px(0.5, 1.0)[1] + 4),
        "σ_edm = σ_flow / (1 − σ_flow)",
        fill=(200, 40, 40),
        font=label,
        anchor="lt",
    )
    d.text(
        ((xf_lo + xf_hi) / 2, TOP + 6),
        f"guided: σ_flow ∈ ({f_lo:.3f}, {f_hi:.3f}]",
        fill=(40, 90, 190),
        font=small,
        anchor="mt",
    )
    wrong_lo, _ = px(LO, Y_LO)  # the same numbers misread as flow σ
    y_bar = H - BOTTOM + 32
    d.line([wrong_lo, y_bar, x1, y_bar], fill=(150, 150, 150), width=4)
    notes = [
        (
            ((wrong_lo + x1) / 2, y_bar + 8),
            "(0.28, 5.42] misread as σ_flow: (0.28, 1], the wrong steps",
            (110, 110, 110),
            small,
            "mt",
        ),
        (((x0 + x1) / 2, H - 22), "σ_flow (ComfyUI's σ on SD3, Flux, Wan, …)", "black", label, "mm"),
        ((14, TOP - 26), "σ_edm (noise-to-signal ratio; SD/SDXL/EDM σ)", "black", label, "lt"),
    ]
    for at, text, colour, size, anchor in notes:
        d.text(at, text, fill=colour, font=size, anchor=anchor)
    out.parent.mkdir(parents=True, exist_ok=True)
    img.save(out, optimize=True)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "noise_scale.png"
    draw(target)
    print(f"wrote {target}")
