"""Memory: peak memory of guided sampling vs the main model alone, against the guide's size.

    python benchmarks/memory.py [--quick]

Each case runs in a fresh process (peak RSS, ``ru_maxrss``, on CPU; peak allocated CUDA
memory when a GPU is used) through real ComfyUI: the main model alone, then autoguidance with
a smaller guide through ``AutoguidanceGuider``. What guidance adds should be about the guide's
weights plus one guide activation set, not a second main model.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

import torch
from _comfy import class_cond, edm2_net, import_comfy, karras

HERE = Path(__file__).resolve().parent


def configs(quick: bool) -> tuple[dict, dict, str]:
    from comfyui_autoguidance.edm2 import presets

    if quick:
        base = dict(
            img_resolution=16,
            img_channels=4,
            label_dim=10,
            channel_mult=[1, 2],
            num_blocks=2,
            attn_resolutions=[8],
        )
        return {**base, "model_channels": 64}, {**base, "model_channels": 32}, "tiny 64 ch + 32 ch guide"
    return presets.config("img512-s"), presets.config("img512-xs"), "EDM2-S + EDM2-XS guide"


def child(case: str, quick: bool) -> dict:
    import_comfy()
    import comfy.samplers

    from comfyui_autoguidance.nodes.edm2.model import edm2_patcher
    from comfyui_autoguidance.nodes.guider import AutoguidanceGuider

    main_cfg, guide_cfg, _ = configs(quick)
    size, label_dim = main_cfg["img_resolution"], main_cfg["label_dim"]
    main_p = edm2_patcher(edm2_net(main_cfg, 1), False)
    positive = class_cond(3, label_dim)
    if case == "main":
        guider = comfy.samplers.CFGGuider(main_p)
        guider.set_conds(positive, class_cond(0, label_dim, unconditional=True))
        guider.set_cfg(1.0)  # ComfyUI skips the unconditional pass at cfg 1: the main model alone
        guide_bytes = 0
    else:
        guide_net = edm2_net(guide_cfg, 2)
        guide_bytes = sum(p.numel() * p.element_size() for p in guide_net.parameters())
        guider = AutoguidanceGuider.execute(
            model=main_p, guide_model=edm2_patcher(guide_net, False), positive=positive, w=2.0, cfg=1.0
        ).result[0]
    noise = torch.randn(1, 4, size, size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        guider.sample(
            noise,
            torch.zeros_like(noise),
            comfy.samplers.sampler_object("euler"),
            karras(4),
            seed=0,
            disable_pbar=True,
        )
    main_bytes = sum(p.numel() * p.element_size() for p in main_p.model.parameters())
    return {
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "main_bytes": main_bytes,
        "guide_bytes": guide_bytes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", choices=["main", "guided"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.quick)))
        return
    results = {}
    for case in ("main", "guided"):
        cmd = [sys.executable, str(HERE / "memory.py"), "--child", case] + (["--quick"] if args.quick else [])
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            sys.stderr.write(out.stderr[-3000:])
            raise SystemExit(out.returncode)
        results[case] = json.loads(out.stdout.strip().splitlines()[-1])
    name = configs(args.quick)[2]
    mib = 2**20
    main_rss, guided_rss = results["main"]["peak_rss"], results["guided"]["peak_rss"]
    guide_bytes, main_bytes = results["guided"]["guide_bytes"], results["main"]["main_bytes"]
    added = guided_rss - main_rss
    print(f"{name}, fp32 weights, CPU peak RSS of a fresh process (4 euler steps, batch 1)")
    print(
        "| case | peak RSS (MiB) | main weights (MiB) | guide weights (MiB) | added by guidance (MiB) "
        "| added / guide weights |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    print(f"| main model alone | {main_rss / mib:.0f} | {main_bytes / mib:.0f} | - | - | - |")
    print(
        f"| autoguidance (main + guide) | {guided_rss / mib:.0f} | {main_bytes / mib:.0f} "
        f"| {guide_bytes / mib:.0f} | {added / mib:.0f} | {added / guide_bytes:.2f} |"
    )


if __name__ == "__main__":
    main()
