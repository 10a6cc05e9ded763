"""``python -m research.train_glyphs``: the glyphs trio, post-hoc EMA snapshots, the classifier
and the ruler.

Trains with the EDM2 loop of ``research/edm2_training.py`` on fresh procedural glyphs
(``research/glyphs_data.py``; T × batch images, each seen about once, so nothing is memorised):

- main:   class-conditional, 16 channels × 1 block per level, T = 8,192 steps of 64 glyphs;
- small:  class-conditional, 12 channels × 1 block (one capacity step smaller), T steps;
- uncond: unconditional, 12 channels × 1 block, T/2 steps, the guide for CFG.

Main and small store the post-hoc EMA snapshots of two power-function profiles (σ_rel 0.05
and 0.10) every T/256 steps (``research/phema.py``), so every guide of the paper's Table 1 comes
from two runs: the guide proper is *small at T/16*, the ablations are *main at T/16*
(training only) and *small at T* (capacity only). ``export`` reconstructs each of them at σ_rel
0.05 … 0.25 and writes them (float16) to ``--assets`` (the sweep's grid); the class classifier
and the ruler (``glyphs_ruler.py``) go to ``research/assets``. Deterministic for a seed; the
parts can run as separate processes (``--only``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from comfyui_autoguidance.demos.digits_metrics import DigitsClassifier
from comfyui_autoguidance.edm2 import EDM2, load, save

from .edm2_training import TrainConfig, train
from .glyphs_data import NUM_CLASSES, RESOLUTION, render, sample_glyphs
from .glyphs_ruler import RULER_FILE, save_ruler, train_ruler
from .phema import PAPER_STDS, ProfileTracker, load_snapshots, reconstruct
from .progress import loss_bar

ASSETS = Path(__file__).resolve().parent / "assets"
WORK = Path(tempfile.gettempdir()) / "glyphs-phema"
CLASSIFIER_FILE = ASSETS / "glyphs-classifier.safetensors"
MAIN_STEPS = 8192  # T: long enough that the guide at T/16 (512 steps) is a trained model
BATCH = 64
SNAPSHOTS = 256  # post-hoc EMA snapshots per profile over T, EDM2's density (every T/256)
STDS = (0.05, 0.10, 0.15, 0.20, 0.25)  # σ_rel values exported for the sweep

RUNS = {  # name: (channels, conditional, share of T)
    "main": (16, True, 1.0),
    "small": (12, True, 1.0),
    "uncond": (12, False, 0.5),
}

# What --export writes: asset name → (run, share of T at which to reconstruct, σ_rel values).
EXPORTS = {
    "main": ("main", 1.0, STDS),
    "guide": ("small", 1 / 16, STDS),  # the paper's guide: smaller and T/16
    "train-only": ("main", 1 / 16, STDS),  # ablation: same capacity, T/16
    "capacity-only": ("small", 1.0, STDS),  # ablation: smaller, full training
}


def network(channels: int, conditional: bool) -> EDM2:
    return EDM2(
        img_resolution=RESOLUTION,
        img_channels=1,
        label_dim=NUM_CLASSES if conditional else 0,
        model_channels=channels,
        channel_mult=[1, 2],
        num_blocks=1,
        attn_resolutions=[],
    )


def glyph_pool(n: int, seed: int, chunk: int = 8192) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` fresh glyphs [n, 1, 16, 16] and one-hot labels [n, 10], rendered in chunks."""
    parts = [sample_glyphs(min(chunk, n - i), seed * 1000 + i // chunk) for i in range(0, n, chunk)]
    images, labels = (torch.cat(p) for p in zip(*parts, strict=True))
    return images, F.one_hot(labels, NUM_CLASSES).float()


def train_run(name: str, main_steps: int, seed: int, out: Path) -> Path:
    channels, conditional, share = RUNS[name]
    k = list(RUNS).index(name)
    steps = max(round(main_steps * share), 1)
    images, labels = glyph_pool(steps * BATCH, seed + 17 * k)
    torch.manual_seed(seed + k)
    net = network(channels, conditional)
    cfg = TrainConfig(
        steps=steps,
        batch=BATCH,
        ref_steps=max(main_steps // 8, 1),  # T/16 lies in the constant-rate phase, as in EDM2
        rampup_steps=max(main_steps // 64, 1),
        seed=seed + k,
    )
    tracker = ProfileTracker(net, PAPER_STDS, every=max(main_steps // SNAPSHOTS, 1))
    with loss_bar(f"glyphs: train {name}", steps) as progress:
        ema = train(net, images, labels if conditional else None, cfg, progress=progress, tracker=tracker)
    out.mkdir(parents=True, exist_ok=True)
    tracker.save(out / f"glyphs-{name}-phema.safetensors")
    save(ema, out / f"glyphs-{name}-ema010.safetensors", preset=f"glyphs-{name}")  # the loop's own EMA
    return out


def train_classifier(steps: int = 1500, seed: int = 0) -> DigitsClassifier:
    """The feature network for FD / precision / recall, on fresh glyphs each step (deterministic)."""
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    net = DigitsClassifier()
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    with loss_bar("glyphs: classifier", steps) as progress:
        for step in range(steps):
            labels = torch.randint(NUM_CLASSES, (128,), generator=g)
            x = render(labels, g)
            x = x + 0.05 * torch.randn(x.shape, generator=g)
            loss = F.cross_entropy(net(x), labels)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            progress(step, float(loss.detach()))
    return net.eval().requires_grad_(False)


def asset_name(name: str, std: float) -> str:
    return f"glyphs-{name}-ema{round(std * 1000):03d}.safetensors"


def export(work: Path, main_steps: int, out: Path) -> list[Path]:
    """Reconstruct each EXPORTS entry from the snapshots and save it (float16) under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (run, share, stds) in EXPORTS.items():
        snapshots = load_snapshots(work / f"glyphs-{run}-phema.safetensors")
        for std in stds:
            # The snapshots hold parameters only: the buffers (the noise embedding's random Fourier
            # frequencies and phases, drawn at construction) must be the training run's own.
            net = load(work / f"glyphs-{run}-ema010.safetensors", dtype=torch.float32)
            net.load_state_dict({**net.state_dict(), **reconstruct(snapshots, std, int(main_steps * share))})
            written.append(out / asset_name(name, std))
            save(net.half(), written[-1], preset=f"glyphs-{name}")
    uncond = load(work / "glyphs-uncond-ema010.safetensors")  # the CFG guide: the loop's EMA at T/2
    written.append(out / "glyphs-uncond-ema100.safetensors")
    save(uncond.half(), written[-1], preset="glyphs-uncond")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m research.train_glyphs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--steps", type=int, default=MAIN_STEPS, help="main model's training steps (T)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=WORK, help="folder for the EMA snapshots")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=[*RUNS, "classifier", "ruler", "export"],
        default=[*RUNS, "classifier", "ruler", "export"],
    )
    parser.add_argument("--assets", type=Path, default=WORK / "assets", help="folder for the EMA grid")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    start = time.monotonic()
    for name in RUNS:
        if name in args.only:
            train_run(name, args.steps, args.seed, args.work)
    if "classifier" in args.only:
        ASSETS.mkdir(parents=True, exist_ok=True)
        net = train_classifier(seed=args.seed)
        save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(CLASSIFIER_FILE))
    if "ruler" in args.only:
        save_ruler(train_ruler(seed=args.seed), RULER_FILE)
    if "export" in args.only:
        for path in export(args.work, args.steps, args.assets):
            print(f"{path} ({path.stat().st_size / 1e6:.2f} MB)")
    print(f"done in {time.monotonic() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
