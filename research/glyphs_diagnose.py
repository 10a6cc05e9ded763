"""``python -m research.glyphs_diagnose``: how main and guide err in intensity, per noise level.

On real glyphs x0 noised to x = x0 + σ·n, the ideal denoiser D*(x) = E[x0 | x] satisfies the
orthogonality principle E[(x0 − D*)·h(x)] = 0 for every function h of x. With h = 1 and
h = D*, a calibrated denoiser has

    bias  b = E[D − x0] = 0                      (no brightness error),
    slope a = Cov(x0, D) / Var(D) = 1            (no contrast error),

pooled over pixels and images. a < 1: D is over-contrasted (more extreme than the evidence
allows); a > 1: too flat. Each is measured for the main model D1, the guide D0 and the guided
D_w = D1 + (w − 1)(D1 − D0), with the errors' ratio E‖D0 − x0‖² / E‖D1 − x0‖² (how much weaker
the guide is) and the difference autoguidance amplifies, split into a brightness push
mean(D1 − D0) and a contrast push Cov(D1 − D0, D1) / Var(D1) (> 0: the guide is a flatter
main, so guidance steepens contrast by (w − 1) times that share).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from comfyui_autoguidance.edm2 import load

from .glyphs_data import NUM_CLASSES, sample_glyphs
from .train_glyphs import ASSETS, asset_name

SIGMAS = (0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 40.0)


def calibration(d: Tensor, x0: Tensor) -> tuple[float, float]:
    """(bias b = E[D − x0], slope a = Cov(x0, D) / Var(D)) pooled over every element."""
    d, x0 = d.double().flatten(), x0.double().flatten()
    dc = d - d.mean()
    return float((d - x0).mean()), float((dc * (x0 - x0.mean())).sum() / dc.square().sum())


def contrast_push(d1: Tensor, d0: Tensor) -> float:
    """Cov(D1 − D0, D1) / Var(D1): the share of D1's own contrast that D1 − D0 adds (pooled)."""
    diff, d1 = (d1 - d0).double().flatten(), d1.double().flatten()
    diff, d1 = diff - diff.mean(), d1 - d1.mean()
    return float((diff * d1).sum() / d1.square().sum())


def diagnose_sigma(
    main: nn.Module, guide: nn.Module, x0: Tensor, labels: Tensor, sigma: float, w: float
) -> dict[str, float]:
    """The module docstring's numbers at one σ for real glyphs ``x0`` [N, 1, 16, 16], one-hot ``labels``."""
    g = torch.Generator().manual_seed(round(sigma * 1e4))
    x = x0 + sigma * torch.randn(x0.shape, generator=g)
    s = torch.full((len(x0),), sigma)
    with torch.no_grad():
        d1, d0 = main(x, s, labels), guide(x, s, labels)
    dw = d1 + (w - 1) * (d1 - d0)
    row: dict[str, float] = {"sigma": sigma}
    for name, d in (("main", d1), ("guide", d0), ("guided", dw)):
        row[f"bias_{name}"], row[f"slope_{name}"] = calibration(d, x0)
    row["error_ratio"] = float((d0 - x0).square().mean() / (d1 - x0).square().mean())
    row["brightness_push"] = float((d1 - d0).mean())
    row["contrast_push"] = contrast_push(d1, d0)
    return row


def diagnose(main: nn.Module, guide: nn.Module, w: float = 2.0, n: int = 1000, seed: int = 7) -> list[dict]:
    """One row per σ in SIGMAS: calibration of main, guide and guided, and what the guide pushes."""
    x0, classes = sample_glyphs(n, seed, balanced=True)
    labels = F.one_hot(classes, NUM_CLASSES).float()
    return [diagnose_sigma(main, guide, x0, labels, sigma, w) for sigma in SIGMAS]


COLUMNS = (
    ("σ", "sigma", "{:g}"),
    ("bias D1", "bias_main", "{:+.3f}"),
    ("bias D0", "bias_guide", "{:+.3f}"),
    ("slope D1", "slope_main", "{:.2f}"),
    ("slope D0", "slope_guide", "{:.2f}"),
    ("slope D_w", "slope_guided", "{:.2f}"),
    ("error D0 / D1", "error_ratio", "{:.2f}"),
    ("mean(D1 − D0)", "brightness_push", "{:+.3f}"),
    ("contrast push", "contrast_push", "{:+.3f}"),
)


def markdown(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(c[0] for c in COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
    lines += ["| " + " | ".join(fmt.format(r[key]) for _, key, fmt in COLUMNS) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m research.glyphs_diagnose",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--assets", type=Path, default=ASSETS, help="folder of the exported networks")
    parser.add_argument("--guide", default="guide", help="D0: guide, train-only or capacity-only")
    parser.add_argument("--ema-main", type=float, help="default: the shipped table's autoguidance row")
    parser.add_argument("--ema-guide", type=float, help="default: the shipped table's autoguidance row")
    parser.add_argument("--w", type=float, help="default: the shipped table's autoguidance row")
    parser.add_argument("--n", type=int, default=1000, help="real glyphs per σ")
    args = parser.parse_args(argv)
    if None in (args.ema_main, args.ema_guide, args.w):
        from .glyphs_report import load_winners

        shipped = load_winners()["autoguidance"]
        args.ema_main = shipped.ema_m if args.ema_main is None else args.ema_main
        args.ema_guide = shipped.ema_g if args.ema_guide is None else args.ema_guide
        args.w = shipped.w if args.w is None else args.w
    nets = [
        load(args.assets / asset_name(name, std), dtype=torch.float32).eval()
        for name, std in (("main", args.ema_main), (args.guide, args.ema_guide))
    ]
    print(markdown(diagnose(*nets, w=args.w, n=args.n)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
