"""Measuring glyphs: FD under three feature spaces, k-NN precision / recall, intensity statistics, and
how strongly each ruler responds to each generative factor.

- FD = ‖μ_r − μ_g‖² + Tr(Σ_r + Σ_g − 2(Σ_r^½ Σ_g Σ_r^½)^½) of Gaussians fitted to features
  (``demos/digits_metrics.py``), in what the **ruler** reads off an image (``glyphs_ruler.py``:
  class probabilities and every factor; the primary column), in the ruler's 64-d penultimate
  layer, and in the features of the **class classifier** (trained to tell the ten classes
  apart, blind by design to much else);
- intensity statistics over every pixel: the saturated share P(|x| > 0.98), the mean and the
  standard deviation of x;
- factor sensitivity s_k = FD(A, A+) / FD(A, B): A holds glyphs whose factor k lies in the lower
  half of its range, A+ the same glyphs with k raised by half its range (the class: +5), B an
  independent draw like A. s_k ≈ 1 means the ruler cannot tell the two populations apart.

``python -m research.glyphs_metrics`` prints s_k in each space and the real glyphs' statistics.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from comfyui_autoguidance.demos.digits_metrics import frechet_distance, load_classifier, precision_recall

from .glyphs_data import FACTOR_RANGES, FACTORS, NUM_CLASSES, GlyphFactors, draw_factors, render_factors
from .glyphs_ruler import RULER_FILE, load_ruler

SATURATED = 0.98  # |x| above this counts as saturated (the data's range is [−1, 1])
Features = Callable[[Tensor], Tensor]  # images [B, 1, 16, 16] → features [B, D]


def intensity_stats(images: Tensor) -> dict[str, float]:
    """Saturated share P(|x| > 0.98), mean and standard deviation over all pixels of ``images``."""
    x = images.double()
    return {
        "saturated": float((x.abs() > SATURATED).double().mean()),
        "mean": float(x.mean()),
        "std": float(x.std()),
    }


def batched(features: Features, images: Tensor, batch: int = 1000) -> Tensor:
    """``features`` of ``images`` [N, ...] in batches, without gradients: [N, D]."""
    with torch.no_grad():
        return torch.cat([features(images[i : i + batch]) for i in range(0, len(images), batch)])


@dataclass
class Rulers:
    """Both feature networks with the real glyphs' features; ``measure`` scores a set of samples."""

    ruler: Features
    hidden: Features  # the ruler's penultimate layer, a second view
    classifier: Features
    real: Tensor  # real glyphs [N, 1, 16, 16]

    def __post_init__(self) -> None:
        self.real_ruler = batched(self.ruler, self.real)
        self.real_hidden = batched(self.hidden, self.real)
        self.real_class = batched(self.classifier, self.real)

    def measure(self, images: Tensor) -> dict[str, float]:
        """FD (ruler, its 64-d layer, classifier), precision / recall (ruler), intensity statistics."""
        ruler = batched(self.ruler, images)
        precision, recall = precision_recall(self.real_ruler[: 2 * len(images)], ruler)
        return {
            "fd": frechet_distance(self.real_ruler, ruler),
            "fd_hidden": frechet_distance(self.real_hidden, batched(self.hidden, images)),
            "fd_class": frechet_distance(self.real_class, batched(self.classifier, images)),
            "precision": precision,
            "recall": recall,
            **intensity_stats(images),
        }


def load_rulers(real: Tensor) -> Rulers:
    """The shipped ruler (both spaces) and class classifier, against ``real`` glyphs."""
    from .train_glyphs import CLASSIFIER_FILE

    ruler = load_ruler(RULER_FILE)
    return Rulers(ruler.features, ruler.hidden, load_classifier(CLASSIFIER_FILE).features, real)


# ----------------------------------------------------------------------------
# Which factors a ruler sees.


def _lower_half(factors: GlyphFactors, name: str, generator: torch.Generator) -> GlyphFactors:
    if name == "class":
        return factors.replace(name, factors.labels % (NUM_CLASSES // 2))
    lo, hi = FACTOR_RANGES[name]
    return factors.replace(
        name, lo + torch.rand(factors.values[name].shape, generator=generator) * (hi - lo) / 2
    )


def _raised(factors: GlyphFactors, name: str) -> GlyphFactors:
    if name == "class":
        return factors.replace(name, factors.labels + NUM_CLASSES // 2)
    lo, hi = FACTOR_RANGES[name]
    return factors.replace(name, factors.values[name] + (hi - lo) / 2)


def factor_sensitivity(features: Features, name: str, n: int = 1000, seed: int = 0) -> float:
    """s_k = FD(A, A+) / FD(A, B) for factor ``name`` (module docstring), ``n`` glyphs per set."""
    g = torch.Generator().manual_seed(seed)
    sets = []
    for _ in range(2):  # A, then B: independent draws with factor k in its lower half
        labels = torch.arange(n) % NUM_CLASSES
        sets.append(_lower_half(draw_factors(labels, g), name, g))
    a, b = (batched(features, render_factors(f)) for f in sets)
    a_raised = batched(features, render_factors(_raised(sets[0], name)))
    return frechet_distance(a, a_raised) / frechet_distance(a, b)


def sensitivity_table(n: int = 1000, seed: int = 0) -> str:
    """Markdown: s_k for every factor under the ruler, its 64-d layer and the class classifier."""
    from .train_glyphs import CLASSIFIER_FILE

    ruler = load_ruler(RULER_FILE)
    rulers = {"ruler": ruler.features, "ruler 64-d": ruler.hidden}
    rulers["classifier"] = load_classifier(CLASSIFIER_FILE).features
    lines = ["| factor changed alone | " + " | ".join(rulers) + " |", "| --- |" + " --- |" * len(rulers)]
    for name in FACTORS:
        cells = [f"{factor_sensitivity(f, name, n, seed):.1f}" for f in rulers.values()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from .glyphs_data import sample_glyphs

    parser = argparse.ArgumentParser(prog="python -m research.glyphs_metrics", description=__doc__)
    parser.add_argument("--n", type=int, default=1000, help="glyphs per set")
    args = parser.parse_args(argv)
    print(sensitivity_table(args.n))
    stats = intensity_stats(sample_glyphs(5000, seed=10**6, balanced=True)[0])
    print("\nreal glyphs: " + ", ".join(f"{k} {v:.3f}" for k, v in stats.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
