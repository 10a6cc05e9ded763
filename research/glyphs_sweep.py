"""``python -m research.glyphs_sweep``: the paper's Table 1 on the glyphs trio, with its ablations.

Samples balanced classes from the same seeds with the EDM2 Heun sampler and measures them
with the glyphs classifier (FD of its 64-d features, k-NN precision / recall; the maths of
``demos/digits_metrics.py``) against fresh real glyphs. Stages, each cached in ``--out``:

1. search (sampler seed 0): no guidance over EMA_main; CFG over EMA_main × w, also limited to
   the guidance interval σ ∈ (0.28, 2.9]; autoguidance over EMA_main × EMA_guide × w;
2. ablations at autoguidance's best EMA_main: the guide with training reduced only (main's
   own network at T/16) and with capacity reduced only (the small network at T), over
   EMA_guide × w; "same EMA" is the best of stage 1 with EMA_guide = EMA_main;
3. final: every winner re-sampled with three fresh seeds (1-3), reported as mean ± spread
   (half the range), beside the noise floor (real against real, same count, same seeds).

``--quick`` runs a three-setting smoke version in seconds.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from comfyui_autoguidance.demos.digits_metrics import frechet_distance, load_classifier, precision_recall
from comfyui_autoguidance.edm2 import EDM2, load, sample
from comfyui_autoguidance.guidance import Constant, Interval

from .glyphs_data import NUM_CLASSES, RESOLUTION, sample_glyphs
from .train_glyphs import ASSETS, CLASSIFIER_FILE, asset_name

STDS = (0.05, 0.10, 0.15)
CFG_WEIGHTS = (1.2, 1.5, 2.0)
INTERVAL_WEIGHTS = (2.0, 3.0)
AG_WEIGHTS = (1.5, 2.0, 2.5)
INTERVAL = (0.28, 2.9)  # EDM2-S's CFG interval (Kynkäänniemi et al. 2024)
REFERENCE = 5000  # real glyphs the FD is measured against


@dataclass(frozen=True)
class Setting:
    family: str  # none, CFG, CFG interval, autoguidance, same EMA, training only, capacity only
    ema_m: float
    guide: str | None  # asset name of D0
    ema_g: float | None
    w: float

    def key(self, seed: int) -> str:
        return json.dumps({**asdict(self), "seed": seed}, sort_keys=True)


# ----------------------------------------------------------------------------
# Sampling and measuring.


class Nets:
    """Exported networks (float32), loaded on first use."""

    def __init__(self, folder: Path = ASSETS):
        self.folder, self.cache = folder, {}

    def __call__(self, name: str, std: float) -> EDM2:
        path = self.folder / asset_name(name, std)
        if path not in self.cache:
            self.cache[path] = load(path, dtype=torch.float32).eval().requires_grad_(False)
        return self.cache[path]


def generate(nets: Nets, s: Setting, n: int, seed: int, num_steps: int) -> tuple[Tensor, Tensor]:
    """``n`` samples (classes in turn) for setting ``s``; sample i's noise comes from seed·10⁶ + i."""
    classes = torch.arange(n) % NUM_CLASSES
    noise = torch.stack(
        [
            torch.randn(1, RESOLUTION, RESOLUTION, generator=torch.Generator().manual_seed(seed * 10**6 + i))
            for i in range(n)
        ]
    )  # [n, 1, 16, 16]
    guide = nets(s.guide, s.ema_g if s.ema_g is not None else 0.10) if s.guide else None
    schedule = Interval(Constant(s.w), *INTERVAL) if s.family == "CFG interval" else None
    x = sample(
        nets("main", s.ema_m),
        noise,
        F.one_hot(classes, NUM_CLASSES).float(),
        guide=guide,
        guidance=s.w,
        num_steps=num_steps,
        schedule=schedule,
    )
    return x.clamp(-1, 1), classes


def features(classifier, images: Tensor, batch: int = 1000) -> Tensor:
    with torch.no_grad():
        return torch.cat([classifier.features(images[i : i + batch]) for i in range(0, len(images), batch)])


def measure(classifier, real: Tensor, images: Tensor) -> dict[str, float]:
    feats = features(classifier, images)
    precision, recall = precision_recall(real[: len(feats) * 2], feats)
    return {"fd": frechet_distance(real, feats), "precision": precision, "recall": recall}


# ----------------------------------------------------------------------------
# The stages.


def search_settings() -> list[Setting]:
    out = [Setting("none", m, None, None, 1.0) for m in STDS]
    out += [Setting("CFG", m, "uncond", None, w) for m in STDS for w in CFG_WEIGHTS]
    out += [Setting("CFG interval", m, "uncond", None, w) for m in STDS for w in INTERVAL_WEIGHTS]
    out += [Setting("autoguidance", m, "guide", g, w) for m in STDS for g in STDS for w in AG_WEIGHTS]
    return out


def ablation_settings(ema_m: float) -> list[Setting]:
    return [
        Setting(family, ema_m, guide, g, w)
        for family, guide in (("training only", "train-only"), ("capacity only", "capacity-only"))
        for g in STDS
        for w in AG_WEIGHTS
    ]


def best(results: dict[Setting, dict[str, float]], family: str) -> Setting:
    if family == "same EMA":
        rows = {s: r for s, r in results.items() if s.family == "autoguidance" and s.ema_g == s.ema_m}
    else:
        rows = {s: r for s, r in results.items() if s.family == family}
    return min(rows, key=lambda s: rows[s]["fd"])


class Runner:
    """Evaluates settings with a JSON cache, so stages (and reruns) never repeat a setting."""

    def __init__(self, out: Path, n: int, num_steps: int, shard: int = 0, assets: Path = ASSETS):
        self.n, self.num_steps, self.nets = n, num_steps, Nets(assets)
        self.classifier = load_classifier(CLASSIFIER_FILE)
        real, _ = sample_glyphs(REFERENCE, seed=10**6, balanced=True)
        self.real = features(self.classifier, real)
        stem = f"cache-n{n}-steps{num_steps}"
        self.cache_file = out / f"{stem}-{shard}.json"  # one file per process; all are read
        self.cache: dict[str, dict[str, float]] = {}
        for path in sorted(out.glob(f"{stem}-*.json")):
            self.cache.update(json.loads(path.read_text()))
        self.mine = json.loads(self.cache_file.read_text()) if self.cache_file.is_file() else {}

    def __call__(self, s: Setting, seed: int) -> dict[str, float]:
        key = s.key(seed)
        if key not in self.cache:
            images, _ = generate(self.nets, s, self.n, seed, self.num_steps)
            self.cache[key] = self.mine[key] = measure(self.classifier, self.real, images)
            self.cache_file.parent.mkdir(parents=True, exist_ok=True)
            self.cache_file.write_text(json.dumps(self.mine, indent=0))
        return self.cache[key]

    def noise_floor(self, seed: int) -> float:
        real, _ = sample_glyphs(self.n, seed=2 * 10**6 + seed, balanced=True)
        return frechet_distance(self.real, features(self.classifier, real))


FINAL_SEEDS = (1, 2, 3)
FAMILIES = ("none", "CFG", "CFG interval", "autoguidance", "same EMA", "training only", "capacity only")


STAGES = ("search", "ablations", "final", "report")


def run_stages(run: Runner, stage: str, shard: tuple[int, int] = (0, 1)) -> dict[str, Setting]:
    """Evaluate this process's share (every shard[1]-th item from shard[0]) of ``stage``, after
    the earlier stages in full (cached, from any process); the winners per family."""

    def mine(items: list) -> list:
        return items if stage == "report" else items[shard[0] :: shard[1]]

    upto = STAGES.index(stage)
    search = {s: run(s, 0) for s in (mine(search_settings()) if upto == 0 else search_settings())}
    if upto == 0:
        return {}
    ablations = ablation_settings(best(search, "autoguidance").ema_m)
    results = {**search, **{s: run(s, 0) for s in (mine(ablations) if upto == 1 else ablations)}}
    if upto == 1:
        return {}
    winners = {family: best(results, family) for family in FAMILIES}
    jobs = [(s, seed) for s in winners.values() for seed in FINAL_SEEDS]
    _ = [run(s, seed) for s, seed in (mine(jobs) if upto == 2 else jobs)]
    return winners


# ----------------------------------------------------------------------------
# Report: the Table 1 layout, the figure, the command line.

PAPER = {  # EDM2-S on ImageNet-512, FID (Karras et al. 2024, Table 1)
    "none": "2.56",
    "CFG": "2.23",
    "CFG interval": "1.68",
    "autoguidance": "**1.34**",
    "same EMA": "1.53",
    "training only": "1.51",
    "capacity only": "2.13",
}


def summary(run: Runner, s: Setting, seeds: tuple[int, ...] = FINAL_SEEDS) -> dict[str, float]:
    rows = [run(s, seed) for seed in seeds]
    out = {k: sum(r[k] for r in rows) / len(rows) for k in rows[0]}
    fds = [r["fd"] for r in rows]
    return {**out, "spread": (max(fds) - min(fds)) / 2}


def markdown(run: Runner, winners: dict[str, Setting], seeds: tuple[int, ...] = FINAL_SEEDS) -> str:
    lines = [
        "| guidance | w | EMA_main | EMA_guide | FD ↓ (mean ± spread) | precision ↑ | recall ↑ | paper FID |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for family, s in winners.items():
        m = summary(run, s, seeds)
        ema_g = "—" if s.ema_g is None else f"{s.ema_g:.3f}"
        cells = [
            family,
            f"{s.w:g}",
            f"{s.ema_m:.3f}",
            ema_g,
            f"{m['fd']:.2f} ± {m['spread']:.2f}",
            f"{m['precision']:.3f}",
            f"{m['recall']:.3f}",
            PAPER.get(family, ""),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    floors = [run.noise_floor(seed) for seed in seeds]
    mean, spread = sum(floors) / len(floors), (max(floors) - min(floors)) / 2
    lines.append(
        f"\nNoise floor (real against real, {run.n} glyphs, {len(seeds)} seeds): FD {mean:.2f} ± {spread:.2f}"
    )
    return "\n".join(lines)


def figure(run: Runner, winners: dict[str, Setting], out: Path, per_row: int = 6, seed: int = 1) -> None:
    """Rows = glyph classes, blocks = none / CFG / autoguidance, the same noise in every block."""
    from comfyui_autoguidance.demos.digits import draw_grid

    chosen = [winners["none"], winners["CFG"], winners["autoguidance"]]
    titles = ["no guidance", f"CFG w={chosen[1].w:g}", f"autoguidance w={chosen[2].w:g}"]
    n = per_row * NUM_CLASSES
    samples = [generate(run.nets, s, n, seed, run.num_steps)[0] for s in chosen]
    rows = [[x[c::NUM_CLASSES] for x in samples] for c in range(NUM_CLASSES)]  # class c: c, c+10, ...
    draw_grid(rows, titles, out)


def quick(run: Runner) -> str:
    settings = [
        Setting("none", 0.10, None, None, 1.0),
        Setting("CFG", 0.10, "uncond", None, 2.0),
        Setting("autoguidance", 0.10, "guide", 0.10, 2.0),
    ]
    return markdown(run, {s.family: s for s in settings}, seeds=(0,))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m research.glyphs_sweep",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--stage", choices=STAGES, default="report", help="run up to this stage")
    parser.add_argument("--shard", default="0/1", help="i/n: this process's share of the stage")
    parser.add_argument("--n", type=int, default=500, help="samples per setting (classes in turn)")
    parser.add_argument("--steps", type=int, default=10, help="Heun steps")
    parser.add_argument("--out", type=Path, default=Path("glyphs_sweep"), help="cache folder")
    parser.add_argument("--figure", type=Path, default=Path("docs/glyphs_autoguidance.png"))
    parser.add_argument("--assets", type=Path, default=ASSETS)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--quick", action="store_true", help="seconds: 3 settings, 40 samples, 4 steps")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    start = time.monotonic()
    if args.quick:
        run = Runner(args.out, 40, 4, assets=args.assets)
        print(quick(run))
    else:
        i, n = (int(v) for v in args.shard.split("/"))
        run = Runner(args.out, args.n, args.steps, shard=i, assets=args.assets)
        winners = run_stages(run, args.stage, (i, n))
        if args.stage == "report":
            print(markdown(run, winners))
            figure(run, winners, args.figure)
    print(f"done in {time.monotonic() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
