"""``python -m research.digits_sweep``: the paper's w sweep on the digits trio.

For CFG (guide = the unconditional model) and autoguidance (guide = the small, T/16-trained
conditional model) and each w, generate ``per_class`` samples of every class from the same
seeds with the official 32-step EDM2 sampler and measure against the 1,797 real digits:

- FD: the Fréchet distance of the bundled classifier's 64-d features (the FID recipe, with a
  digits network in place of Inception), lower is better;
- precision / recall (Kynkäänniemi et al. 2019, k = 3) in the same feature space;
- accuracy: the share the classifier assigns to the intended class.

Writes a Markdown table and a line plot of FD against w (w = 1 is the unguided model).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from torch import Tensor
from tqdm import tqdm

from comfyui_autoguidance.demos.digits import Method, generate, load_trio, measure, real_digit_features
from comfyui_autoguidance.demos.digits_data import NUM_CLASSES
from comfyui_autoguidance.demos.digits_metrics import DigitsClassifier, frechet_distance, load_classifier
from comfyui_autoguidance.demos.figures import pil

WEIGHTS = (1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0)


def sweep(
    weights: tuple[float, ...],
    per_class: int,
    classifier: DigitsClassifier,
    real: Tensor,
    seed: int = 1000,
    num_steps: int = 32,
) -> dict[str, dict[float, dict[str, float]]]:
    trio = load_trio()
    classes = torch.arange(NUM_CLASSES).repeat_interleave(per_class)
    seeds = seed + torch.arange(len(classes))
    results: dict[str, dict[float, dict[str, float]]] = {"CFG": {}, "autoguidance": {}}
    with tqdm(total=2 * len(weights), desc="digits: sweep", unit="setting") as bar:
        for k, (family, guide) in enumerate((("CFG", "uncond"), ("autoguidance", "guide"))):
            for w in weights:
                bar.update()
                if w == 1 and k == 1 and 1.0 in results["CFG"]:  # the unguided model: the same samples
                    results[family][w] = results["CFG"][w]
                    continue
                images = generate(
                    trio, Method(family, guide if w != 1 else None, w), classes, seeds, num_steps
                )
                results[family][w] = measure(images, classes, classifier, real)
    return results


def noise_floor(real: Tensor, n: int, seed: int = 0) -> float:
    """FD of ``n`` real digits (a random subset) to all 1,797: what a perfect model would score."""
    idx = torch.randperm(len(real), generator=torch.Generator().manual_seed(seed))[:n]
    return frechet_distance(real, real[idx])


def markdown(results: dict[str, dict[float, dict[str, float]]]) -> str:
    lines = [
        "| guidance | w | FD ↓ | precision ↑ | recall ↑ | right class ↑ |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for family, rows in results.items():
        best = min(rows, key=lambda w: rows[w]["fd"])
        for w, m in rows.items():
            fd = f"**{m['fd']:.2f}**" if w == best else f"{m['fd']:.2f}"
            cells = [
                family,
                f"{w:g}",
                fd,
                f"{m['precision']:.3f}",
                f"{m['recall']:.3f}",
                f"{m['accuracy']:.1%}",
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(
    results: dict[str, dict[float, dict[str, float]]], out: Path, size: tuple[int, int] = (560, 360)
) -> None:
    Image, ImageDraw = pil()
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    left, right, top, bottom = 56, 16, 28, 40
    ws = sorted({w for rows in results.values() for w in rows})
    fds = [m["fd"] for rows in results.values() for m in rows.values()]
    lo, hi = 0.0, max(fds) * 1.08

    def xy(w: float, fd: float) -> tuple[float, float]:
        x = left + (w - ws[0]) / (ws[-1] - ws[0]) * (size[0] - left - right)
        return x, size[1] - bottom - (fd - lo) / (hi - lo) * (size[1] - top - bottom)

    draw.rectangle([left, top, size[0] - right, size[1] - bottom], outline=(180, 180, 180))
    for w in ws:
        x, _ = xy(w, lo)
        draw.text((x - 8, size[1] - bottom + 6), f"{w:g}", fill=(0, 0, 0))
    for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
        fd = lo + frac * (hi - lo)
        _, y = xy(ws[0], fd)
        draw.text((6, y - 6), f"{fd:.1f}", fill=(0, 0, 0))
    draw.text((size[0] // 2 - 60, size[1] - 18), "guidance weight w", fill=(0, 0, 0))
    draw.text((left, 8), "FD to real digits (lower is better)", fill=(0, 0, 0))
    colours = {"CFG": (40, 120, 200), "autoguidance": (220, 90, 30)}
    for n, (family, rows) in enumerate(results.items()):
        points = [xy(w, rows[w]["fd"]) for w in sorted(rows)]
        draw.line(points, fill=colours[family], width=2)
        for x, y in points:
            draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=colours[family])
        draw.text((size[0] - right - 120, top + 8 + 14 * n), family, fill=colours[family])
    out.parent.mkdir(parents=True, exist_ok=True)
    img.save(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m research.digits_sweep",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--per-class", type=int, default=100, help="samples per class and w")
    parser.add_argument("--weights", type=float, nargs="+", default=list(WEIGHTS))
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--plot", type=Path, default=Path("autoguidance_digits_sweep.png"))
    parser.add_argument("--quick", action="store_true", help="seconds: 3 weights, 10 per class, 8 steps")
    args = parser.parse_args(argv)
    if args.quick:
        args.per_class, args.weights, args.steps = 10, [1.0, 2.0, 3.0], 8
    start = time.monotonic()
    classifier = load_classifier()
    real = real_digit_features(classifier)
    results = sweep(tuple(args.weights), args.per_class, classifier, real, num_steps=args.steps)
    print(markdown(results))
    n = NUM_CLASSES * args.per_class
    print(f"\nnoise floor: FD of {n} real digits to all 1,797 = {noise_floor(real, n):.2f}")
    plot(results, args.plot)
    print(
        f"wrote {args.plot} in {time.monotonic() - start:.0f} s "
        f"({args.per_class} per class, {args.steps} Heun steps)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
