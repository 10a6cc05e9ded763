"""``python -m comfyui_autoguidance.demos.train_digits [--out DIR] [--quick]``: the bundled trio.

Trains, with the EDM2 loop of ``edm2/training.py``, on scikit-learn's digits (16×16, 1 channel):
- main:   class-conditional, 24 channels × 2 blocks per level, trained fully (T steps);
- guide:  class-conditional, 16 channels × 1 block, trained T/16 steps (the paper's "XS at
          T/16" recipe, scaled down): the *bad version of itself* for autoguidance;
- uncond: unconditional, 16 channels × 1 block, trained T/2 steps, the guide for CFG.
Each is saved as our ``.safetensors`` (config in the metadata) under ``edm2/assets``, where
the EDM2 Loader node finds them. It also trains the small digits classifier whose features the
demo's and the sweep's Fréchet distance use (``demos/assets/digits-classifier.safetensors``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from ..edm2 import EDM2, save
from ..edm2.training import TrainConfig, train
from .digits import save_real_digit_features
from .digits_data import NUM_CLASSES, RESOLUTION, load_digits_tensors
from .digits_metrics import CLASSIFIER_FILE, save_classifier, train_classifier
from .progress import Progress

ASSETS = Path(__file__).resolve().parents[1] / "edm2" / "assets"
MAIN_STEPS = 4800


def network(channels: int, blocks: int, label_dim: int) -> EDM2:
    return EDM2(img_resolution=RESOLUTION, img_channels=1, label_dim=label_dim, model_channels=channels,
                channel_mult=[1, 2], num_blocks=blocks, attn_resolutions=[8])


TRIO = {  # name: (channels, blocks, conditional, share of the main model's steps)
    "main": (24, 2, True, 1.0),
    "guide": (16, 1, True, 1 / 16),
    "uncond": (16, 1, False, 0.5),
}


def train_trio(out: Path, main_steps: int = MAIN_STEPS, seed: int = 0,
               only: tuple[str, ...] = tuple(TRIO)) -> dict[str, Path]:
    images, targets = load_digits_tensors()
    onehot = F.one_hot(targets, NUM_CLASSES).float()
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for i, (name, (channels, blocks, conditional, share)) in enumerate(TRIO.items()):
        if name not in only:
            continue
        torch.manual_seed(seed + i)
        net = network(channels, blocks, NUM_CLASSES if conditional else 0)
        steps = max(int(round(main_steps * share)), 1)
        cfg = TrainConfig(steps=steps, batch=64, ref_steps=max(steps // 4, 1), rampup_steps=max(steps // 20, 1),
                          seed=seed + i)
        with Progress(f"digits: train {name}", steps) as bar:
            ema = train(net, images, onehot if conditional else None, cfg, progress=bar.update)
        paths[name] = out / f"digits-{name}.safetensors"
        save(ema, paths[name], preset=f"digits-{name}")
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m comfyui_autoguidance.demos.train_digits", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ASSETS, help="folder for the three .safetensors")
    parser.add_argument("--steps", type=int, default=MAIN_STEPS, help="main model's training steps (T)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="+", choices=[*TRIO, "classifier"], default=[*TRIO, "classifier"],
                        help="train only these (default: the trio and the classifier)")
    parser.add_argument("--classifier-out", type=Path, default=CLASSIFIER_FILE)
    args = parser.parse_args(argv)
    start = time.monotonic()
    paths = train_trio(args.out, args.steps, args.seed, tuple(args.only))
    if "classifier" in args.only:
        images, targets = load_digits_tensors()
        with Progress("digits: classifier", 800) as bar:
            classifier = train_classifier(images, targets, progress=bar.update)
        save_classifier(classifier, args.classifier_out)
        features = args.classifier_out.with_name("digits-real-features.safetensors")
        save_real_digit_features(classifier, features)  # so the demo's FD needs no scikit-learn
        paths["classifier"], paths["real features"] = args.classifier_out, features
    for name, path in paths.items():
        print(f"{name:13} {path} ({path.stat().st_size / 1e6:.2f} MB)")  # noqa: T201
    print(f"trained in {time.monotonic() - start:.0f} s")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
