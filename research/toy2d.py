"""``python -m research.toy2d``: the paper's 2-D toy study, done our way.

Trains three small MLP denoisers on the known two-class tree mixture (research/toy2d_data.py):
a main model D1 (larger, trained fully), a weaker guide D0 (smaller, 1/16 of the training)
and an unconditional model (for CFG), then samples each class four ways from the same noise
and reports, against the known density: the share of samples outside the support, and the
share of branch tips (thinnest, rarest segments) that receive samples.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from comfyui_autoguidance.demos.figures import pil
from comfyui_autoguidance.guidance import guided_denoiser, heun_sample, karras_sigmas

from .progress import loss_bar
from .toy2d_data import Mixture, toy_classes
from .toy2d_model import ToyDenoiser, train_denoiser

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ToyConfig:
    main_hidden: int = 256
    main_steps: int = 8000
    guide_hidden: int = 64
    guide_steps: int = 500  # 1/16 of the main model's training, as in the paper's XS-at-T/16 recipe
    uncond_hidden: int = 64
    uncond_steps: int = 4000
    samples_per_class: int = 3000
    num_steps: int = 32
    sigma_max: float = 10.0
    w_cfg: float = 3.0  # the same w for both: like for like
    w_ag: float = 3.0
    seed: int = 0


QUICK = ToyConfig(
    main_hidden=64,
    main_steps=400,
    guide_hidden=16,
    guide_steps=25,
    uncond_hidden=32,
    uncond_steps=200,
    samples_per_class=600,
    num_steps=16,
)


def data_sampler(classes: list[Mixture]):
    def sample(n: int, g: torch.Generator) -> tuple[Tensor, Tensor]:
        labels = torch.randint(len(classes), (n,), generator=g)
        x = torch.empty(n, 2, dtype=torch.float64)
        for c, mix in enumerate(classes):
            idx = (labels == c).nonzero().squeeze(1)
            x[idx] = mix.sample(len(idx), g)
        return x.float(), labels

    return sample


def train_trio(classes: list[Mixture], cfg: ToyConfig) -> dict[str, ToyDenoiser]:
    sampler = data_sampler(classes)
    sigma_data = float(sampler(20000, torch.Generator().manual_seed(123))[0].std())
    specs = {
        "main": (cfg.main_hidden, cfg.main_steps, len(classes)),
        "guide": (cfg.guide_hidden, cfg.guide_steps, len(classes)),
        "uncond": (cfg.uncond_hidden, cfg.uncond_steps, 0),
    }
    models = {}
    for i, (name, (hidden, steps, ncls)) in enumerate(specs.items()):
        torch.manual_seed(cfg.seed + i)
        model = ToyDenoiser(hidden, 4, ncls, sigma_data)
        with loss_bar(f"toy2d: train {name}", steps) as progress:
            models[name] = train_denoiser(
                model,
                sampler,
                steps,
                seed=cfg.seed + 10 * i,
                ema_decay=0.99 if steps < 500 else 0.995,
                progress=progress,
            )
    return models


def sample_panels(models: dict[str, ToyDenoiser], n_classes: int, cfg: ToyConfig) -> dict[str, Tensor]:
    """Samples [n_classes·N, 2] for no guidance / CFG / autoguidance from the same noise."""
    n = cfg.samples_per_class
    labels = torch.arange(n_classes).repeat_interleave(n)
    noise = torch.randn(
        len(labels), 2, generator=torch.Generator().manual_seed(cfg.seed + 99), dtype=torch.float64
    )
    sigmas = karras_sigmas(cfg.num_steps, 0.002, cfg.sigma_max, 7.0)
    main, guide, uncond = models["main"], models["guide"], models["uncond"]
    denoisers = {
        "no guidance": main,
        "CFG": guided_denoiser(main, lambda x, s, labels=None: uncond(x, s), cfg.w_cfg),
        "autoguidance": guided_denoiser(main, guide, cfg.w_ag),
    }
    with torch.no_grad():
        return {
            name: heun_sample(lambda x, s, d=d: d(x, s, labels=labels), noise, sigmas, dtype=torch.float64)
            for name, d in denoisers.items()
        }


def toy_metrics(classes: list[Mixture], x: Tensor, truth: Tensor) -> dict[str, float]:
    """Share outside the support and how much of the branch tips' mass is reached, averaged over classes.

    outside: log p_c(x) below the 0.5% quantile of log p_c on true samples of class c.
    tips: share of (in-support) samples whose most likely component lies on a deepest-level
    segment, divided by the true mass there (1 = tips as populated as in the data).
    """
    n = len(x) // len(classes)
    outside, tips = [], []
    for c, mix in enumerate(classes):
        xs, ts = x[c * n : (c + 1) * n].double(), truth[c * n : (c + 1) * n].double()
        threshold = torch.quantile(mix.log_prob(ts), 0.005)
        inside = mix.log_prob(xs) >= threshold
        outside.append(float((~inside).double().mean()))
        comp = mix._log_components(xs[inside], torch.zeros((), dtype=torch.float64)).argmax(1)
        is_tip = mix.depth == mix.depth.max()
        tips.append(float(is_tip[comp].double().sum() / len(xs) / mix.weights[is_tip].sum()))
    return {"outside": sum(outside) / len(outside), "tips": sum(tips) / len(tips)}


CLASS_COLOURS = [(230, 120, 30), (110, 110, 120), (40, 120, 200), (200, 60, 90)]


def scatter_panels(
    panels: list[Tensor], labels: Tensor, titles: list[str], out: Path, size: int = 360
) -> None:
    """Side-by-side scatter plots of 2-D points [N, 2] coloured by class, sharing one frame."""
    Image, ImageDraw = pil()
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


def run(out: Path, quick: bool = False) -> dict[str, dict[str, float]]:
    cfg = QUICK if quick else ToyConfig()
    classes = toy_classes()
    g = torch.Generator().manual_seed(cfg.seed + 7)
    truth = torch.cat([mix.sample(cfg.samples_per_class, g) for mix in classes])
    models = train_trio(classes, cfg)
    panels = {"ground truth": truth, **sample_panels(models, len(classes), cfg)}
    table = {name: toy_metrics(classes, x, truth) for name, x in panels.items()}
    titles = [f"{name}  outside {m['outside']:.1%}  tips {m['tips']:.2f}" for name, m in table.items()]
    labels = torch.arange(len(classes)).repeat_interleave(cfg.samples_per_class)
    scatter_panels(list(panels.values()), labels, titles, out)
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m research.toy2d", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("autoguidance_toy2d.png"), help="PNG to write")
    parser.add_argument("--quick", action="store_true", help="a few seconds, for tests")
    args = parser.parse_args(argv)
    table = run(args.out, quick=args.quick)
    print(f"{'':14} {'outside support':>16} {'tip mass (1 = data)':>20}")
    for name, m in table.items():
        print(f"{name:14} {m['outside']:>16.2%} {m['tips']:>20.2f}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
