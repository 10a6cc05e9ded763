"""Memory: peak memory of guided sampling vs the main model alone, against the guide's size.

    python benchmarks/memory.py [--quick]

Each case runs in a fresh process (peak RSS, ``ru_maxrss``, on CPU; peak allocated CUDA
memory when a GPU is used) through real ComfyUI: the main model alone, then autoguidance with
a smaller guide through ``AutoguidanceGuider``. What guidance adds should be about the guide's
weights plus one guide activation set, not a second main model.

Second table, a LoRA guided by its own base (an SD1.5-style UNet, a rank-8 LoRA on its attention and
MLP layers, from ComfyUI's LoraLoader and, where it exists, LoraLoaderBypass): the LoRA model alone;
the pair the old way (a second copy of the weights for the guide); the pair over one copy. "Resident
weights" counts, inside a sampling step, the unique tensor storages of every UNet alive and of what
their layers' hooks hold, over one model's weights.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

import torch
from _comfy import class_cond, edm2_net, harness, import_comfy, karras

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


def lora_child(case: str, quick: bool) -> dict:
    """One case of the LoRA table: 'alone', 'copy' or 'shared', with '-bypass' for LoraLoaderBypass."""
    import_comfy()
    import comfy.samplers
    import comfy.sd

    from comfyui_autoguidance.nodes.guider import AutoguidanceGuider
    from comfyui_autoguidance.nodes.pair.shared_weights import separate_guide

    channels, latent = (32, 8) if quick else (128, 32)
    base = harness.sd15_patcher(1, model_channels=channels, image_size=latent)
    one_model = harness.resident_bytes([base.model.diffusion_model])  # its weights, nothing loaded yet
    state = base.model.state_dict()
    lora = harness.lora_file(state, "lora", harness.lora_targets(state, convs=False), rank=8)
    load = comfy.sd.load_bypass_lora_for_models if case.endswith("bypass") else comfy.sd.load_lora_for_models
    main = load(base, None, lora, 1.0, 0)[0]
    g = torch.Generator().manual_seed(1)
    positive = [[torch.randn(1, 8, 32, generator=g), {}]]
    if case.startswith("alone"):
        guider = comfy.samplers.CFGGuider(main)
        guider.set_conds(positive, positive)
        guider.set_cfg(1.0)
    else:
        guide = separate_guide("memory", main, base) if case.startswith("copy") else base
        guider = AutoguidanceGuider.execute(
            model=main, guide_model=guide, positive=positive, w=2.0, cfg=1.0
        ).result[0]
    seen = {}
    original = guider.predict_noise

    def measured(*args, **kwargs):
        out = original(*args, **kwargs)
        seen.setdefault("resident", harness.resident_bytes(harness.diffusion_modules()))
        return out

    guider.predict_noise = measured
    noise = torch.randn(1, 4, latent, latent, generator=g)
    with torch.no_grad():
        sigmas = comfy.samplers.calculate_sigmas(base.get_model_object("model_sampling"), "karras", 4)
        guider.sample(
            noise,
            torch.zeros_like(noise),
            comfy.samplers.sampler_object("euler"),
            sigmas,
            seed=0,
            disable_pbar=True,
        )
    return {
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "resident": seen["resident"],
        "one_model": one_model,
    }


def run_child(case: str, quick: bool, lora: bool = False) -> dict:
    cmd = [sys.executable, str(HERE / "memory.py"), "--lora-child" if lora else "--child", case]
    out = subprocess.run(cmd + (["--quick"] if quick else []), capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.stderr.write(out.stderr[-3000:])
        raise SystemExit(out.returncode)
    return json.loads(out.stdout.strip().splitlines()[-1])


def lora_table(quick: bool) -> None:
    import_comfy()
    import comfy.sd

    loaders = {"LoraLoader": ""}
    if hasattr(comfy.sd, "load_bypass_lora_for_models"):
        loaders["LoraLoaderBypass"] = "-bypass"
    mib = 2**20
    size = "32 ch, latent 8x8" if quick else "128 ch, latent 32x32"
    print(f"\nA LoRA guided by its own base: SD1.5-style UNet ({size}), rank-8 LoRA, fp32, 4 euler steps")
    print("| loader | case | peak RSS (MiB) | resident weights (MiB) | / one model |")
    print("| --- | --- | --- | --- | --- |")
    for loader, suffix in loaders.items():
        for case, label in (
            ("alone", "LoRA model alone"),
            ("copy", "pair, old copy path"),
            ("shared", "pair, one copy"),
        ):
            r = run_child(case + suffix, quick, lora=True)
            print(
                f"| {loader} | {label} | {r['peak_rss'] / mib:.0f} | {r['resident'] / mib:.1f} "
                f"| {r['resident'] / r['one_model']:.3f} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", choices=["main", "guided"], help=argparse.SUPPRESS)
    parser.add_argument("--lora-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.quick)))
        return
    if args.lora_child:
        print(json.dumps(lora_child(args.lora_child, args.quick)))
        return
    results = {case: run_child(case, args.quick) for case in ("main", "guided")}
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

    lora_table(args.quick)


if __name__ == "__main__":
    main()
