"""``python -m research.glyphs_sweep``: the paper's Table 1 on the glyphs trio, with its ablations.

Samples balanced classes from the same seeds with the EDM2 Heun sampler and measures each set
against 5,000 real glyphs (``glyphs_metrics.py``): FD in the ruler's features (every generative
factor; the primary column), FD in the class classifier's features, and the intensity
statistics. Stages, each cached in ``--out``:

1. steps: the unguided model with 10, 16, 32 and 64 Heun steps beside real glyphs (the sampler
   must not be what a row measures);
2. search (sampler seed 0): per family (none, CFG, CFG interval, autoguidance, same EMA,
   training only, capacity only), coordinate descent on the ruler's FD over the family's axes
   (EMA_main, EMA_guide, w; "same EMA" ties the two EMAs), each axis a full line of its grid,
   until a pass changes nothing; families split over ``--shard`` processes;
3. final: every family's winner re-sampled with three fresh seeds, mean ± spread (half the
   range), beside the noise floor (real against real, same count, same seeds).

``--quick`` runs a three-setting smoke version in seconds on the shipped networks.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from comfyui_autoguidance.edm2 import EDM2, load, sample
from comfyui_autoguidance.guidance import Constant, Interval

from .glyphs_data import NUM_CLASSES, RESOLUTION, sample_glyphs
from .glyphs_metrics import Rulers, load_rulers
from .train_glyphs import ASSETS, STDS, WORK, asset_name

STEPS = 32  # Heun steps: the unguided model's intensity statistics match real glyphs (stage 1)
STEP_CHOICES = (10, 16, 32, 64)
INTERVAL = (0.28, 2.9)  # EDM2-S's CFG interval (Kynkäänniemi et al. 2024)
REFERENCE = 5000  # real glyphs the FD is measured against
SEARCH_SEED, FINAL_SEEDS = 0, (11, 12, 13)
GUIDES = {  # family: asset name of D0
    "none": None,
    "CFG": "uncond",
    "CFG interval": "uncond",
    "autoguidance": "guide",
    "same EMA": "guide",
    "training only": "train-only",
    "capacity only": "capacity-only",
}
FAMILIES = tuple(GUIDES)
SEARCH_ORDER = (  # the costliest searches first, so that --shard i/n splits the work evenly
    "autoguidance",
    "training only",
    "capacity only",
    "same EMA",
    "CFG",
    "CFG interval",
    "none",
)
AG_WEIGHTS = (1.1, 1.25, 1.5, 2.0, 2.5)
WEIGHTS = {"none": (1.0,), "CFG": (1.1, 1.2, 1.35, 1.5, 2.0), "CFG interval": (1.2, 1.35, 1.5, 2.0, 2.5, 3.0)}


@dataclass(frozen=True)
class Setting:
    family: str  # a FAMILIES entry
    ema_m: float
    ema_g: float | None  # None: the guide has a single EMA (the unconditional model) or none
    w: float

    @property
    def guide(self) -> str | None:
        return GUIDES[self.family]

    def key(self, seed: int, steps: int, n: int) -> str:
        return json.dumps({**asdict(self), "seed": seed, "steps": steps, "n": n}, sort_keys=True)


# ----------------------------------------------------------------------------
# Sampling.


class Nets:
    """Exported networks (float32), loaded on first use."""

    def __init__(self, folder: Path):
        self.folder, self.cache = folder, {}

    def __call__(self, name: str, std: float) -> EDM2:
        path = self.folder / asset_name(name, std)
        if path not in self.cache:
            self.cache[path] = load(path, dtype=torch.float32).eval().requires_grad_(False)
        return self.cache[path]


def generate(nets: Nets, s: Setting, n: int, seed: int, num_steps: int) -> Tensor:
    """``n`` samples [n, 1, 16, 16] (classes in turn) for ``s``; sample i's noise from seed·10⁶ + i."""
    noise = torch.stack(
        [
            torch.randn(1, RESOLUTION, RESOLUTION, generator=torch.Generator().manual_seed(seed * 10**6 + i))
            for i in range(n)
        ]
    )  # [n, 1, 16, 16]
    guide = nets(s.guide, 0.10 if s.ema_g is None else s.ema_g) if s.guide else None
    schedule = Interval(Constant(s.w), *INTERVAL) if s.family == "CFG interval" else None
    labels = F.one_hot(torch.arange(n) % NUM_CLASSES, NUM_CLASSES).float()
    x = sample(nets("main", s.ema_m), noise, labels, guide, s.w, num_steps=num_steps, schedule=schedule)
    return x.clamp(-1, 1)


class Runner:
    """Evaluates settings with a JSON cache (one file per process, all read), never twice.

    The search seed samples ``search_n`` per setting, every other seed ``n``."""

    def __init__(self, out: Path, n: int, search_n: int, num_steps: int, assets: Path, shard: int = 0):
        self.n, self.search_n, self.num_steps, self.nets = n, search_n, num_steps, Nets(assets)
        self.rulers: Rulers = load_rulers(sample_glyphs(REFERENCE, seed=10**6, balanced=True)[0])
        self.cache_file = out / f"cache-{shard}.json"
        self.cache: dict[str, dict[str, float]] = {}
        for path in sorted(out.glob("cache-*.json")):
            self.cache.update(json.loads(path.read_text()))
        self.mine = json.loads(self.cache_file.read_text()) if self.cache_file.is_file() else {}

    def count(self, seed: int) -> int:
        return self.search_n if seed == SEARCH_SEED else self.n

    def __call__(self, s: Setting, seed: int, num_steps: int | None = None) -> dict[str, float]:
        steps, n = num_steps or self.num_steps, self.count(seed)
        key = s.key(seed, steps, n)
        if key not in self.cache:
            start = time.monotonic()
            images = generate(self.nets, s, n, seed, steps)
            result = {**self.rulers.measure(images), "seconds": time.monotonic() - start}
            self.cache[key] = self.mine[key] = result
            self.cache_file.parent.mkdir(parents=True, exist_ok=True)
            self.cache_file.write_text(json.dumps(self.mine, indent=0))
        return self.cache[key]

    def real(self, seed: int) -> dict[str, float]:
        """Real glyphs measured like a setting: the noise floor of every column."""
        return self.rulers.measure(sample_glyphs(self.count(seed), seed=2 * 10**6 + seed, balanced=True)[0])


# ----------------------------------------------------------------------------
# The search: coordinate descent per family.


def axes(family: str) -> dict[str, tuple[float, ...]]:
    """The grid of each axis the family searches (``ema`` ties EMA_main and EMA_guide)."""
    if family == "none":
        return {"ema_m": STDS}
    if family.startswith("CFG"):
        return {"ema_m": STDS, "w": WEIGHTS[family]}
    if family == "same EMA":
        return {"ema": STDS, "w": AG_WEIGHTS}
    return {"ema_m": STDS, "ema_g": STDS, "w": AG_WEIGHTS}


def start(family: str) -> Setting:
    """Where the descent begins: EMA 0.10 (the loop's own) and a middling w."""
    w = {"none": 1.0, "CFG": 1.35, "CFG interval": 2.0}.get(family, 1.5)
    return Setting(family, 0.10, None if GUIDES[family] in (None, "uncond") else 0.10, w)


def moved(s: Setting, axis: str, value: float) -> Setting:
    return replace(s, ema_m=value, ema_g=value) if axis == "ema" else replace(s, **{axis: value})


def search(run: Runner, family: str, max_passes: int = 3) -> Setting:
    """Coordinate descent on FD (ruler) from ``start``: each axis in turn set to its best value."""
    best = start(family)
    for _ in range(max_passes):
        before = best
        for axis, grid in axes(family).items():
            line = [moved(best, axis, v) for v in grid]
            best = min(line, key=lambda s: run(s, SEARCH_SEED)["fd"])
        if best == before:
            break
    return best


STAGES = ("steps", "search", "final", "report")


def run_stages(
    run: Runner, stage: str, shard: tuple[int, int] = (0, 1), winners: dict[str, Setting] | None = None
) -> dict[str, Setting]:
    """This process's share of ``stage`` after the earlier stages in full (cached); the winners.
    Given ``winners`` (the shipped table's settings), the search is skipped."""
    upto = STAGES.index(stage)
    if upto == 0:
        for steps in STEP_CHOICES[shard[0] :: shard[1]]:
            run(start("none"), SEARCH_SEED, steps)
        return {}
    if winners is None:
        families = SEARCH_ORDER[shard[0] :: shard[1]] if upto == 1 else FAMILIES
        winners = {family: search(run, family) for family in families}
    if upto == 1:
        return winners
    jobs = [(s, seed) for s in winners.values() for seed in FINAL_SEEDS]
    for s, seed in jobs[shard[0] :: shard[1]] if upto == 2 else jobs:
        run(s, seed)
    return winners


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m research.glyphs_sweep",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--stage", choices=STAGES, default="report", help="run up to this stage")
    parser.add_argument("--shard", default="0/1", help="i/n: this process's share of the stage")
    parser.add_argument("--n", type=int, default=500, help="samples per setting and final seed")
    parser.add_argument("--search-n", type=int, default=250, help="samples per setting in the search")
    parser.add_argument("--steps", type=int, default=STEPS, help="Heun steps")
    parser.add_argument("--out", type=Path, default=Path("glyphs_sweep"), help="cache folder")
    parser.add_argument("--figure", type=Path, default=Path("docs/glyphs_autoguidance.png"))
    parser.add_argument("--assets", type=Path, default=WORK / "assets", help="the exported EMA grid")
    parser.add_argument("--winners", type=Path, help="skip the search: settings from this file")
    parser.add_argument("--save-winners", action="store_true", help="ship the winners (research/assets)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--quick", action="store_true", help="seconds: 3 shipped settings, 40 samples")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from . import glyphs_report as report

    args = parse(argv)
    torch.set_num_threads(args.threads)
    began = time.monotonic()
    if args.quick:
        print(report.quick_table(Runner(args.out, 40, 40, 4, ASSETS)))
    else:
        i, n = (int(v) for v in args.shard.split("/"))
        run = Runner(args.out, args.n, args.search_n, args.steps, args.assets, shard=i)
        chosen = report.load_winners(args.winners) if args.winners else None
        winners = run_stages(run, args.stage, (i, n), chosen)
        if args.save_winners:
            report.publish(winners, args.assets)
        if args.stage == "report":
            print(
                report.steps_table(run, start("none"))
                + "\n\n"
                + report.final_table(run, winners, FINAL_SEEDS)
            )
            report.figure(run, winners, args.figure)
    print(f"done in {time.monotonic() - began:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
