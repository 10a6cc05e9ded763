"""``python -m comfyui_autoguidance demo``: autoguidance vs CFG vs no guidance on the bundled digits.

The bundled trio (``edm2/assets``, trained by ``research/train_digits.py`` in the repository)
is sampled with the official EDM2 sampler (32 Heun steps, σ ∈ [0.002, 80], ρ = 7) from the
*same* noise for each method:

- no guidance:  D1(x; σ, c)                                  (w = 1)
- CFG:          w·D1(x; σ, c) + (1 − w)·D_uncond(x; σ)        guide = the unconditional model
- autoguidance: w·D1(x; σ, c) + (1 − w)·D_guide(x; σ, c)      guide = the small, short-trained model

One PNG (a row per class, a block of columns per method) and a table measured with the
bundled digits classifier: the share recognised as the intended class, the Fréchet distance of
its features to the real digits (FD, lower is better) and k-NN precision / recall.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from ..edm2 import EDM2, load, sample
from .digits_data import NUM_CLASSES
from .digits_metrics import (
    CLASSIFIER_FILE,
    DigitsClassifier,
    frechet_distance,
    load_classifier,
    precision_recall,
)

ASSETS = Path(__file__).resolve().parents[1] / "edm2" / "assets"
TRIO_FILES = {name: ASSETS / f"digits-{name}.safetensors" for name in ("main", "guide", "uncond")}

# The same w for both, the paper's autoguidance optimum (about 2): like for like. The sweep
# (research/digits_sweep.py, README) shows what each w does to FD, precision and recall.
DEFAULT_W_CFG = 2.0
DEFAULT_W_AG = 2.0


@dataclass(frozen=True)
class Method:
    title: str
    guide: str | None  # which trio member is D0
    w: float


def methods(w_cfg: float = DEFAULT_W_CFG, w_ag: float = DEFAULT_W_AG) -> list[Method]:
    return [
        Method("no guidance", None, 1.0),
        Method(f"CFG w={w_cfg:g}", "uncond", w_cfg),
        Method(f"autoguidance w={w_ag:g}", "guide", w_ag),
    ]


def load_trio(folder: Path = ASSETS) -> dict[str, EDM2]:
    """The bundled main / guide / uncond networks, or a clear error naming the missing file."""
    trio = {}
    for name in TRIO_FILES:
        path = folder / f"digits-{name}.safetensors"
        if not path.is_file():
            raise FileNotFoundError(
                f"digits demo: the bundled model '{path}' is missing; retrain the trio with "
                "'python -m research.train_digits' from a checkout of the repository"
            )
        trio[name] = load(path).eval().requires_grad_(False)
    return trio


def generate(
    trio: dict[str, EDM2],
    method: Method,
    classes: Tensor,
    seeds: Tensor,
    num_steps: int = 32,
    batch: int = 500,
) -> Tensor:
    """Samples [N, 1, 16, 16] in [−1, 1]: sample i is class ``classes[i]`` from noise seeded ``seeds[i]``."""
    out = []
    for start in range(0, len(classes), batch):
        c, s = classes[start : start + batch], seeds[start : start + batch]
        noise = torch.stack(
            [torch.randn(1, 16, 16, generator=torch.Generator().manual_seed(int(k))) for k in s]
        )
        labels = F.one_hot(c, NUM_CLASSES).float()
        guide = trio[method.guide] if method.guide else None
        x = sample(trio["main"], noise, labels, guide=guide, guidance=method.w, num_steps=num_steps)
        out.append(x.clamp(-1, 1))
    return torch.cat(out)


def measure(
    images: Tensor, classes: Tensor, classifier: DigitsClassifier, real_features: Tensor
) -> dict[str, float]:
    """Classifier accuracy, FD to the real digits' features, precision and recall."""
    with torch.no_grad():
        feats = classifier.features(images)
        accuracy = float((classifier.head(feats).argmax(1) == classes).double().mean())
    precision, recall = precision_recall(real_features, feats)
    return {
        "accuracy": accuracy,
        "fd": frechet_distance(real_features, feats),
        "precision": precision,
        "recall": recall,
    }


REAL_FEATURES_FILE = CLASSIFIER_FILE.with_name("digits-real-features.safetensors")


def real_digit_features(classifier: DigitsClassifier, bundled: bool = True) -> Tensor:
    """The classifier's features [1797, 64] of the real digits: bundled (written with the
    classifier, so the demo needs no scikit-learn) or computed from scikit-learn's copy."""
    if bundled and REAL_FEATURES_FILE.is_file():
        from safetensors.torch import load_file

        return load_file(str(REAL_FEATURES_FILE))["features"]
    from .digits_data import load_digits_tensors  # needs scikit-learn's bundled data

    images, _ = load_digits_tensors()
    with torch.no_grad():
        return classifier.features(images)


def draw_grid(rows: list[list[Tensor]], titles: list[str], out: Path, scale: int = 4) -> None:
    """rows[c][m]: the samples [n, 1, 16, 16] of class c under method m; one labelled PNG."""
    from .figures import pil

    Image, ImageDraw = pil()
    n = rows[0][0].shape[0]
    cell, gap, left, header = 16 * scale, 12, 28, 22
    block = n * cell
    width = left + len(titles) * (block + gap)
    img = Image.new("L", (width, header + len(rows) * cell), 255)
    draw = ImageDraw.Draw(img)
    for m, title in enumerate(titles):
        draw.text((left + m * (block + gap) + 4, 5), title, fill=0)
    for c, row in enumerate(rows):
        y = header + c * cell
        draw.text((8, y + cell // 2 - 6), str(c), fill=0)
        for m, samples in enumerate(row):
            pixels = ((samples[:, 0] + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)
            for i in range(n):
                tile = Image.frombytes("L", (16, 16), bytes(pixels[i].flatten().tolist()))  # no numpy needed
                tile = tile.resize((cell, cell), Image.NEAREST)
                img.paste(tile, (left + m * (block + gap) + i * cell, y))
    out.parent.mkdir(parents=True, exist_ok=True)
    img.save(out)


def run(
    out: Path,
    per_row: int = 8,
    eval_per_class: int = 40,
    w_cfg: float = DEFAULT_W_CFG,
    w_ag: float = DEFAULT_W_AG,
    seed: int = 0,
    num_steps: int = 32,
    models: Path = ASSETS,
) -> dict[str, dict[str, float]]:
    trio = load_trio(models)
    chosen = methods(w_cfg, w_ag)
    # Grid and table from one set of samples: the first ``per_row`` seeds of each class are drawn.
    per_class = max(per_row, eval_per_class)
    classes = torch.arange(NUM_CLASSES).repeat_interleave(per_class)
    seeds = seed + torch.arange(per_class).repeat(NUM_CLASSES)  # the same seeds in every row and method
    samples = {m.title: generate(trio, m, classes, seeds, num_steps) for m in chosen}
    rows = [
        [samples[m.title][c * per_class : c * per_class + per_row] for m in chosen]
        for c in range(NUM_CLASSES)
    ]
    draw_grid(rows, [m.title for m in chosen], out)
    if not CLASSIFIER_FILE.is_file() or eval_per_class == 0:
        return {}
    classifier = load_classifier()
    try:
        real = real_digit_features(classifier)
    except ImportError:
        real = None
    table = {}
    for m in chosen:
        if real is None:  # without scikit-learn: accuracy only
            with torch.no_grad():
                acc = float((classifier(samples[m.title]).argmax(1) == classes).double().mean())
            table[m.title] = {"accuracy": acc}
        else:
            table[m.title] = measure(samples[m.title], classes, classifier, real)
    return table


def format_table(table: dict[str, dict[str, float]]) -> str:
    names = {
        "accuracy": "right class",
        "fd": "FD (lower=better)",
        "precision": "precision",
        "recall": "recall",
    }
    keys = [k for k in names if any(k in row for row in table.values())]
    lines = [f"{'':26}" + "".join(f"{names[k]:>19}" for k in keys)]
    for title, row in table.items():
        cells = "".join(f"{row[k]:>19.1%}" if k != "fd" else f"{row[k]:>19.2f}" for k in keys)
        lines.append(f"{title:26}{cells}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m comfyui_autoguidance demo",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=Path("autoguidance_digits.png"), help="PNG to write")
    parser.add_argument("--w-cfg", type=float, default=DEFAULT_W_CFG, help="CFG weight w (1 = off)")
    parser.add_argument("--w-ag", type=float, default=DEFAULT_W_AG, help="autoguidance weight w (1 = off)")
    parser.add_argument("--per-row", type=int, default=8, help="samples drawn per class and method")
    parser.add_argument(
        "--eval-per-class", type=int, default=40, help="samples per class for the table (0: none)"
    )
    parser.add_argument("--steps", type=int, default=32, help="Heun steps (2·steps − 1 evaluations)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", type=Path, default=ASSETS, help="folder with digits-{main,guide,uncond}")
    parser.add_argument("--quick", action="store_true", help="a few seconds: 2 per row, 8 steps, no table")
    args = parser.parse_args(argv)
    if args.quick:
        args.per_row, args.eval_per_class, args.steps = 2, 0, 8
    start = time.monotonic()
    try:
        table = run(
            args.out,
            args.per_row,
            args.eval_per_class,
            args.w_cfg,
            args.w_ag,
            args.seed,
            args.steps,
            args.models,
        )
    except FileNotFoundError as err:
        print(err)  # noqa: T201
        return 1
    if table:
        print(format_table(table))  # noqa: T201
        if any("fd" not in row for row in table.values()):
            print(  # noqa: T201
                "(FD, precision and recall compare with the real digits, which come with scikit-learn: "
                "pip install scikit-learn)"
            )
    print(f"wrote {args.out} in {time.monotonic() - start:.0f} s")  # noqa: T201
    return 0
