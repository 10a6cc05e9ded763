"""AG vs CFG cost per step, in real ComfyUI.

    python benchmarks/ag_vs_cfg.py [--quick] [--steps 3]

The paper's EDM2-S main (img512-s config: 192 channels, 64×64×4 latent) sampled with
- no guidance (one main pass per step),
- CFG through ComfyUI's stock ``CFGGuider`` (the main model's own unconditional pass, batched
  with the conditional one as ComfyUI does),
- autoguidance through ``AutoguidanceGuider`` with an XS guide (img512-xs config, 128 channels),
and reports seconds per step and the ratio to unguided sampling. Weights are random (the cost
does not depend on them). ``--quick`` uses tiny stand-ins with the same 3:2 channel ratio.
"""

from __future__ import annotations

import argparse

import torch
from _comfy import class_cond, edm2_net, import_comfy, interleaved_medians, karras, tiny_edm2


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=3, help="euler steps per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    import_comfy()
    import comfy.samplers

    from comfyui_autoguidance.edm2 import presets
    from comfyui_autoguidance.nodes.edm2.model import edm2_patcher
    from comfyui_autoguidance.nodes.guider import AutoguidanceGuider

    if args.quick:
        base = tiny_edm2(img_resolution=16, label_dim=1000, attn_resolutions=[8])
        main_cfg, guide_cfg = {**base, "model_channels": 48}, {**base, "model_channels": 32}
        names, args.repeats = ("tiny 48 ch", "tiny 32 ch"), 2
    else:
        main_cfg, guide_cfg = presets.config("img512-s"), presets.config("img512-xs")
        names = ("EDM2-S (img512-s)", "EDM2-XS (img512-xs)")
    size = main_cfg["img_resolution"]
    main_p = edm2_patcher(edm2_net(main_cfg, 1), False)
    guide_p = edm2_patcher(edm2_net(guide_cfg, 2), False)
    noise = torch.randn(1, 4, size, size, generator=torch.Generator().manual_seed(0))
    sigmas = karras(args.steps)
    sampler = comfy.samplers.sampler_object("euler")
    positive, uncond = class_cond(88, 1000), class_cond(0, 1000, unconditional=True)

    unguided = comfy.samplers.CFGGuider(main_p)
    unguided.set_conds(positive, uncond)
    unguided.set_cfg(1.0)  # ComfyUI skips the unconditional pass at cfg 1
    cfg = comfy.samplers.CFGGuider(main_p)
    cfg.set_conds(positive, uncond)
    cfg.set_cfg(2.0)
    ag = AutoguidanceGuider.execute(
        model=main_p, guide_model=guide_p, positive=positive, w=2.0, cfg=1.0
    ).result[0]
    guiders = [
        ("no guidance", unguided),
        ("CFG (main's unconditional pass)", cfg),
        (f"autoguidance ({names[1]} guide)", ag),
    ]

    def run(g):
        return lambda: g.sample(noise, torch.zeros_like(noise), sampler, sigmas, seed=0, disable_pbar=True)

    with torch.no_grad():  # the warm-up round loads the models and caches normalised weights
        medians = interleaved_medians({title: run(g) for title, g in guiders}, args.repeats)
    times = {title: seconds / args.steps for title, seconds in medians.items()}
    params = {
        n: sum(p.numel() for p in p_.model.parameters()) / 1e6
        for n, p_ in zip(names, (main_p, guide_p), strict=True)
    }
    print(
        f"main {names[0]} ({params[names[0]]:.0f} M params), guide {names[1]} ({params[names[1]]:.0f} M), "
        f"{size}x{size}x4, batch 1, euler {args.steps} steps, median of {args.repeats}, "
        f"{torch.get_num_threads()} CPU threads"
    )
    print("| guidance | s / step | vs no guidance |")
    print("| --- | --- | --- |")
    base = times["no guidance"]
    for title, t in times.items():
        print(f"| {title} | {t:.3f} | {t / base:.2f}x |")
    print(f"\nautoguidance / CFG per step: {times[guiders[2][0]] / times[guiders[1][0]]:.2f}")


if __name__ == "__main__":
    main()
