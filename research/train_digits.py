"""``python -m research.train_digits [--out DIR] [--steps T]``: the bundled trio.

Trains, with the EDM2 loop of ``research/edm2_training.py``, on scikit-learn's digits (16×16, 1 channel):
- main:   class-conditional, 24 channels × 2 blocks per level, trained fully (T steps);
- guide:  class-conditional, 16 channels × 1 block, trained T/16 steps (the paper's "XS at
          T/16" recipe, scaled down): the *bad version of itself* for autoguidance;
- uncond: unconditional, 16 channels × 1 block, trained T/2 steps, the guide for CFG.
Each is saved as our ``.safetensors`` (config in the metadata) under ``edm2/assets``, where
the EDM2 Loader node finds them. It also trains the small digits classifier whose features the
demo's and the sweep's Fréchet distance use (``demos/assets/digits-classifier.safetensors``),
and stores its features of the real digits beside it.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import Tensor

from comfyui_autoguidance.demos.digits import ASSETS, REAL_FEATURES_FILE, real_digit_features
from comfyui_autoguidance.demos.digits_data import NUM_CLASSES, RESOLUTION, load_digits_tensors
from comfyui_autoguidance.demos.digits_metrics import CLASSIFIER_FILE, DigitsClassifier
from comfyui_autoguidance.edm2 import EDM2, save

from .edm2_training import TrainConfig, train
from .progress import loss_bar

MAIN_STEPS = 4800


def network(channels: int, blocks: int, label_dim: int) -> EDM2:
    return EDM2(
        img_resolution=RESOLUTION,
        img_channels=1,
        label_dim=label_dim,
        model_channels=channels,
        channel_mult=[1, 2],
        num_blocks=blocks,
        attn_resolutions=[8],
    )


TRIO = {  # name: (channels, blocks, conditional, share of the main model's steps)
    "main": (24, 2, True, 1.0),
    "guide": (16, 1, True, 1 / 16),
    "uncond": (16, 1, False, 0.5),
}


def train_classifier(
    images: Tensor,
    labels: Tensor,
    steps: int = 800,
    seed: int = 0,
    progress: Callable[[int, float], None] | None = None,
) -> DigitsClassifier:
    """Train on the real digits with light noise augmentation (deterministic for a seed)."""
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    net = DigitsClassifier()
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    for step in range(steps):
        idx = torch.randint(len(images), (128,), generator=g)
        x = images[idx] + 0.1 * torch.randn(images[idx].shape, generator=g)
        loss = F.cross_entropy(net(x), labels[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if progress is not None:
            progress(step, float(loss.detach()))
    return net.eval().requires_grad_(False)


def save_classifier(net: DigitsClassifier, path: Path = CLASSIFIER_FILE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))


def save_real_digit_features(classifier: DigitsClassifier, path: Path = REAL_FEATURES_FILE) -> None:
    save_file({"features": real_digit_features(classifier, bundled=False).contiguous()}, str(path))


def train_trio(
    out: Path, main_steps: int = MAIN_STEPS, seed: int = 0, only: tuple[str, ...] = tuple(TRIO)
) -> dict[str, Path]:
    images, targets = load_digits_tensors()
    onehot = F.one_hot(targets, NUM_CLASSES).float()
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for i, (name, (channels, blocks, conditional, share)) in enumerate(TRIO.items()):
        if name not in only:
            continue
        torch.manual_seed(seed + i)
        net = network(channels, blocks, NUM_CLASSES if conditional else 0)
        steps = max(round(main_steps * share), 1)
        cfg = TrainConfig(
            steps=steps,
            batch=64,
            ref_steps=max(steps // 4, 1),
            rampup_steps=max(steps // 20, 1),
            seed=seed + i,
        )
        with loss_bar(f"digits: train {name}", steps) as progress:
            ema = train(net, images, onehot if conditional else None, cfg, progress=progress)
        paths[name] = out / f"digits-{name}.safetensors"
        save(ema, paths[name], preset=f"digits-{name}")
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m research.train_digits",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=ASSETS, help="folder for the three .safetensors")
    parser.add_argument("--steps", type=int, default=MAIN_STEPS, help="main model's training steps (T)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--only",
        nargs="+",
        choices=[*TRIO, "classifier"],
        default=[*TRIO, "classifier"],
        help="train only these (default: the trio and the classifier)",
    )
    parser.add_argument("--classifier-out", type=Path, default=CLASSIFIER_FILE)
    args = parser.parse_args(argv)
    start = time.monotonic()
    paths = train_trio(args.out, args.steps, args.seed, tuple(args.only))
    if "classifier" in args.only:
        images, targets = load_digits_tensors()
        with loss_bar("digits: classifier", 800) as progress:
            classifier = train_classifier(images, targets, progress=progress)
        save_classifier(classifier, args.classifier_out)
        features = args.classifier_out.with_name("digits-real-features.safetensors")
        save_real_digit_features(classifier, features)  # so the demo's FD needs no scikit-learn
        paths["classifier"], paths["real features"] = args.classifier_out, features
    for name, path in paths.items():
        print(f"{name:13} {path} ({path.stat().st_size / 1e6:.2f} MB)")
    print(f"trained in {time.monotonic() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
