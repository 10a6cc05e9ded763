"""The glyphs sweep's outputs: the Table 1 layout, the sampler-steps check, the figure and the
winners file (the settings of the table, shipped so the final stage reruns without a search).

Every row reports FD under the ruler (every generative factor) and under the class classifier,
then the intensity statistics (saturated share P(|x| > 0.98), mean, standard deviation), as
mean ± spread over seeds where the spread is half the range; the last row is real glyphs
measured the same way (the noise floor of each FD).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

from .glyphs_data import NUM_CLASSES
from .glyphs_sweep import SEARCH_SEED, STEP_CHOICES, Runner, Setting, generate
from .train_glyphs import asset_name

WINNERS_FILE = Path(__file__).resolve().parent / "assets" / "glyphs-table.json"
PAPER = {  # EDM2-S on ImageNet-512, FID (Karras et al. 2024, Table 1)
    "none": "2.56",
    "CFG": "2.23",
    "CFG interval": "1.68",
    "autoguidance": "**1.34**",
    "same EMA": "1.53",
    "training only": "1.51",
    "capacity only": "2.13",
}
COLUMNS = ("guidance", "w", "EMA_main", "EMA_guide", "FD ruler ↓", "FD ruler 64-d ↓", "FD classifier ↓")
COLUMNS += ("saturated", "mean", "std", "paper FID")
HEADER = "| " + " | ".join(COLUMNS) + " |\n|" + " --- |" * len(COLUMNS)


def _mean_spread(rows: list[dict[str, float]], key: str) -> tuple[float, float]:
    values = [r[key] for r in rows]
    return sum(values) / len(values), (max(values) - min(values)) / 2


def _cells(rows: list[dict[str, float]]) -> list[str]:
    cells = []
    for key in ("fd", "fd_hidden", "fd_class"):
        mean, spread = _mean_spread(rows, key)
        digits = 3 if mean < 1 else 2 if mean < 10 else 1
        cells.append(f"{mean:.{digits}f} ± {spread:.{digits}f}")
    sat, mean, std = (_mean_spread(rows, k)[0] for k in ("saturated", "mean", "std"))
    return [*cells, f"{100 * sat:.1f}%", f"{mean:+.3f}", f"{std:.3f}"]


def row(s: Setting, rows: list[dict[str, float]]) -> str:
    ema_g = "—" if s.ema_g is None else f"{s.ema_g:.2f}"
    cells = [s.family, f"{s.w:g}", f"{s.ema_m:.2f}", ema_g, *_cells(rows), PAPER.get(s.family, "")]
    return "| " + " | ".join(cells) + " |"


def final_table(run: Runner, winners: dict[str, Setting], seeds: tuple[int, ...]) -> str:
    """Table 1: each family's winner over ``seeds``, then real glyphs (same count, same seeds)."""
    lines = [HEADER] + [row(s, [run(s, seed) for seed in seeds]) for s in winners.values()]
    real = _cells([run.real(seed) for seed in seeds])
    lines.append("| real glyphs (noise floor) | | | | " + " | ".join(real) + " | |")
    note = f"{run.count(seeds[0])} samples per setting and seed, {run.num_steps} Heun steps, seeds {seeds}."
    return "\n".join(lines) + "\n\n" + note


def steps_table(run: Runner, s: Setting) -> str:
    """The unguided model under each sampler step count (search seed) beside real glyphs."""
    lines = [
        "| Heun steps | FD ruler ↓ | FD ruler 64-d ↓ | FD classifier ↓ | saturated | mean | std |",
        "|" + " --- |" * 7,
    ]
    for steps in STEP_CHOICES:
        lines.append(f"| {steps} | " + " | ".join(_cells([run(s, SEARCH_SEED, steps)])) + " |")
    lines.append("| real glyphs | " + " | ".join(_cells([run.real(SEARCH_SEED)])) + " |")
    return "\n".join(lines)


def quick_table(run: Runner) -> str:
    """The smoke version: none, CFG and autoguidance as shipped, one seed."""
    winners = load_winners()
    chosen = {f: winners[f] for f in ("none", "CFG", "autoguidance")}
    return final_table(run, chosen, (SEARCH_SEED,))


def networks(s: Setting) -> list[str]:
    """File names of the networks setting ``s`` samples with."""
    names = [asset_name("main", s.ema_m)]
    if s.guide is not None:
        names.append(asset_name(s.guide, 0.10 if s.ema_g is None else s.ema_g))
    return names


def publish(winners: dict[str, Setting], grid: Path, out: Path = WINNERS_FILE.parent) -> list[Path]:
    """Copy the winners' networks from the EMA ``grid`` to ``out`` and write their settings there."""
    files = sorted({name for s in winners.values() for name in networks(s)})
    for name in files:
        shutil.copyfile(grid / name, out / name)
    settings = {family: asdict(s) for family, s in winners.items()}
    (out / WINNERS_FILE.name).write_text(json.dumps(settings, indent=1) + "\n")
    return [out / name for name in files]


def load_winners(path: Path = WINNERS_FILE) -> dict[str, Setting]:
    return {family: Setting(**fields) for family, fields in json.loads(path.read_text()).items()}


def figure(run: Runner, winners: dict[str, Setting], out: Path, per_row: int = 6, seed: int = 11) -> None:
    """Rows = glyph classes, blocks = none / CFG / autoguidance, the same noise in every block."""
    from comfyui_autoguidance.demos.digits import draw_grid

    chosen = [winners["none"], winners["CFG"], winners["autoguidance"]]
    titles = ["no guidance", f"CFG w={chosen[1].w:g}", f"autoguidance w={chosen[2].w:g}"]
    samples = [generate(run.nets, s, per_row * NUM_CLASSES, seed, run.num_steps) for s in chosen]
    rows = [[x[c::NUM_CLASSES] for x in samples] for c in range(NUM_CLASSES)]  # class c: c, c+10, ...
    draw_grid(rows, titles, out)
