"""EDM2 forward: cached normalised weights (our inference path) vs per-call re-normalisation.

    python benchmarks/edm2_forward.py [--config img512-xs] [--batch 4] [--repeats 5] [--quick]

Prints one table: seconds per forward for each path, their ratio and the max output difference,
all measured in this one run on the same weights and inputs.
"""

from __future__ import annotations

import argparse
import time

import torch
from _comfy import edm2_net, tiny_edm2  # need no ComfyUI

from comfyui_autoguidance.edm2 import presets

QUICK = tiny_edm2(img_resolution=16, model_channels=32, num_blocks=2, attn_resolutions=[8])


def time_forward(net, x, sigma, labels, repeats: int) -> tuple[float, torch.Tensor]:
    with torch.no_grad():
        out = net(x, sigma, labels)  # warm-up (fills the cache when enabled)
        start = time.perf_counter()
        for _ in range(repeats):
            out = net(x, sigma, labels)
    return (time.perf_counter() - start) / repeats, out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", default="img512-xs", choices=presets.NAMED_CONFIGS)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a tiny network, for CI smoke runs")
    args = parser.parse_args()
    config = QUICK if args.quick else presets.config(args.config)
    net = edm2_net(config, seed=0)
    res, ch = config["img_resolution"], config["img_channels"]
    x = torch.randn(args.batch, ch, res, res)
    sigma = torch.full((args.batch,), 1.0)
    labels = torch.eye(config["label_dim"])[torch.arange(args.batch) % config["label_dim"]]
    net.cache_normalized_weights(False)
    t_fresh, out_fresh = time_forward(net, x, sigma, labels, args.repeats)
    net.cache_normalized_weights(True)
    t_cached, out_cached = time_forward(net, x, sigma, labels, args.repeats)
    name = "quick (16x16, 32 ch)" if args.quick else args.config
    print(
        "| network | batch | per-call re-normalisation (s) | cached weights (s) | speed-up | max abs diff |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    print(
        f"| {name} | {args.batch} | {t_fresh:.4f} | {t_cached:.4f} | {t_fresh / t_cached:.2f}x | "
        f"{(out_fresh - out_cached).abs().max().item():.2e} |"
    )
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU float32")


if __name__ == "__main__":
    main()
