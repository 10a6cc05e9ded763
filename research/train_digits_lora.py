"""``python -m research.train_digits_lora [--out FILE] [--steps T]``: the bundled digits LoRA.

A style LoRA for the bundled ``digits-main`` (the fine-tune half of the recipe "a LoRA guided by its
own base"): **bold** strokes, learnt from the scikit-learn digits thickened by one pixel (a 3×3 max
filter at 16×16). The LoRA sits on every 3×3 convolution of the UNet's blocks, rank 4, and is
trained exactly as ComfyUI's LoraLoader will apply it: merged into the weight before EDM2's weight
normalisation, W' = W + (α/r)·up·down, ŵ = normalize(W')/√fan_in. The base stays frozen. Saved in
the LoRA format ComfyUI reads for our EDM2 models (``diffusion_model.net.unet.<layer>.lora_up.weight``
…), to ``edm2/loras/`` where the pack registers it as a LoRA folder.

At the end it samples 100 digits each from the base, the base + LoRA, and the base + LoRA guided by
the bare base (autoguidance, w = 1.25, 1.5, 2, and w = 2 for σ > 1 only) and prints their mean stroke
weight (ink: the mean pixel value in [0, 1]) beside the real thin and bold digits', and the classifier's
accuracy on them.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import Tensor, nn

from comfyui_autoguidance.demos.digits import ASSETS
from comfyui_autoguidance.demos.digits_data import NUM_CLASSES, load_digits_tensors
from comfyui_autoguidance.demos.digits_metrics import load_classifier
from comfyui_autoguidance.edm2 import EDM2, load, sample
from comfyui_autoguidance.edm2.layers import MPConv, normalize
from comfyui_autoguidance.guidance import Constant, Interval

from .edm2_training import edm2_loss
from .progress import loss_bar

OUT = Path(__file__).resolve().parents[1] / "edm2" / "loras" / "digits-bold.safetensors"
RANK = 4
GUIDANCE = (1.25, 1.5, 2.0)  # w for the LoRA model guided by the bare base
PREFIX = "diffusion_model.net."  # where ComfyUI's EDM2Model keeps the network (nodes/edm2/model.py)


def bold(images: Tensor) -> Tensor:
    """Thicker strokes: a 3×3 max filter on the [0, 1] pixels of [-1, 1] images [N, 1, H, W]."""
    return F.max_pool2d((images + 1) / 2, 3, stride=1, padding=1) * 2 - 1


class LoRAConv(nn.Module):
    """An MPConv with a LoRA merged before its weight normalisation: what LoraLoader computes."""

    def __init__(self, base: MPConv, rank: int, generator: torch.Generator):
        super().__init__()
        self.base = base.requires_grad_(False)
        out_dim, fan_in = base.weight.shape[0], base.weight[0].numel()
        self.up = nn.Parameter(torch.zeros(out_dim, rank))  # zero: training starts from the base
        self.down = nn.Parameter(torch.randn(rank, fan_in, generator=generator) / math.sqrt(fan_in))

    def delta(self) -> Tensor:
        return (self.up @ self.down).reshape(self.base.weight.shape)  # α = r: scale 1

    def forward(self, x: Tensor, gain: Tensor | float = 1.0) -> Tensor:
        w = self.base.weight + self.delta()
        w = normalize(w.float()) / math.sqrt(w[0].numel()) * gain
        return F.conv2d(x, w.to(x.dtype), padding=w.shape[-1] // 2)


def attach(net: EDM2, rank: int = RANK, seed: int = 0) -> dict[str, LoRAConv]:
    """Wrap the two 3×3 MPConvs of every UNet block in a LoRAConv; returns them by module path."""
    g = torch.Generator().manual_seed(seed)
    found = {}
    for name, module in list(net.named_modules()):
        if isinstance(module, MPConv) and name.endswith(("conv_res0", "conv_res1")):
            parent, child = name.rsplit(".", 1)
            found[name] = LoRAConv(module, rank, g)
            setattr(net.get_submodule(parent), child, found[name])
    return found


def lora_state(layers: dict[str, LoRAConv]) -> dict[str, Tensor]:
    """ComfyUI's LoRA keys for a conv: up [out, r, 1, 1], down [r, in, k, k], alpha = r."""
    out = {}
    for name, layer in layers.items():
        key = PREFIX + name
        out[f"{key}.lora_up.weight"] = layer.up.detach()[:, :, None, None].contiguous()
        out[f"{key}.lora_down.weight"] = (
            layer.down.detach().reshape(RANK, *layer.base.weight.shape[1:]).contiguous()
        )
        out[f"{key}.alpha"] = torch.tensor(float(RANK))
    return out


def merged(layers: dict[str, LoRAConv]) -> EDM2:
    """A plain EDM2 with the LoRA merged into its weights (for sampling here; ComfyUI merges it itself)."""
    fresh = load(ASSETS / "digits-main.safetensors")
    with torch.no_grad():
        for name, layer in layers.items():
            fresh.get_submodule(name).weight.add_(layer.delta())
    return fresh.eval()


def train_lora(
    steps: int, seed: int = 0, batch: int = 64, lr: float = 3e-3
) -> tuple[EDM2, dict[str, LoRAConv]]:
    images, targets = load_digits_tensors()
    images, onehot = bold(images), F.one_hot(targets, NUM_CLASSES).float()
    net = load(ASSETS / "digits-main.safetensors").eval().requires_grad_(False)
    layers = attach(net, seed=seed)
    params = [p for layer in layers.values() for p in (layer.up, layer.down)]
    opt = torch.optim.Adam(params, lr=lr, betas=(0.9, 0.99))
    g = torch.Generator().manual_seed(seed)
    with loss_bar("digits: train bold LoRA", steps) as progress:
        for step in range(steps):
            idx = torch.randint(len(images), (batch,), generator=g)
            loss = edm2_loss(net, images[idx], onehot[idx], g, p_mean=-0.8, p_std=1.6).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            progress(step, float(loss.detach()))
    return net, layers


def ink(images: Tensor) -> float:
    """Mean pixel value in [0, 1] (stroke weight) of [-1, 1] images."""
    return float(((images.clamp(-1, 1) + 1) / 2).mean())


def evaluate(layers: dict[str, LoRAConv], count: int = 100, seed: int = 1) -> dict[str, tuple[float, float]]:
    """{case: (ink, classifier accuracy)} for the real digits (thin, bold) and the three samplers."""
    base = load(ASSETS / "digits-main.safetensors").eval()
    styled = merged(layers)
    classifier = load_classifier()
    labels = torch.arange(count) % NUM_CLASSES
    onehot = F.one_hot(labels, NUM_CLASSES).float()
    noise = torch.randn(count, 1, 16, 16, generator=torch.Generator().manual_seed(seed))
    images, targets = load_digits_tensors()
    cases = {"real digits": (images, targets), "real digits, bold": (bold(images), targets)}
    cases["base"] = (sample(base, noise, onehot), labels)
    cases["base + LoRA"] = (sample(styled, noise, onehot), labels)
    for w in GUIDANCE:
        guided = sample(styled, noise, onehot, guide=base, guidance=w)
        cases[f"base + LoRA, guided by base (w = {w:g})"] = (guided, labels)
    high = sample(styled, noise, onehot, guide=base, schedule=Interval(Constant(2.0), 1.0, 80.0))
    cases["base + LoRA, guided by base (w = 2 for σ > 1 only)"] = (high, labels)
    with torch.no_grad():
        return {
            k: (ink(x), float((classifier(x).argmax(1) == y).float().mean())) for k, (x, y) in cases.items()
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m research.train_digits_lora",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    start = time.monotonic()
    _, layers = train_lora(args.steps, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    metadata = {"base": "digits-main.safetensors", "style": "bold strokes", "rank": str(RANK)}
    save_file(lora_state(layers), str(args.out), metadata=metadata)
    took = time.monotonic() - start
    print(f"LoRA {args.out} ({args.out.stat().st_size / 1e3:.0f} kB), trained in {took:.0f} s")
    print("| samples | ink (mean pixel) | classifier accuracy |")
    print("| --- | --- | --- |")
    for case, (weight, accuracy) in evaluate(layers).items():
        print(f"| {case} | {weight:.3f} | {accuracy:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
