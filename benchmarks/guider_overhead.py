"""Guider overhead: sampling through ``AutoguidanceGuider`` in real ComfyUI vs the same model
forwards called directly.

    python benchmarks/guider_overhead.py [--quick] [--repeats 3]

For each EDM2 size, one Heun run (the EDM schedule, σ 80 → 0.002, ρ = 7) with autoguidance
at w = 2 from the same noise, two ways:
- direct: our EDM2 networks called as plain PyTorch modules by ``edm2.sample`` (the
  official sampler: 2N − 1 evaluations of D1 and of D0, nothing else);
- ComfyUI: the networks wrapped as ComfyUI models (``AutoguidanceEDM2Loader``'s patcher), the guider
  from ``AutoguidanceGuider``, sampled by ComfyUI's own ``heun`` over the same σ.
Both produce the same image (max difference printed); the ratio of median wall times is what
the guider, ComfyUI's model wrapping and its sampler loop add. Target: ≤ 1.03.
"""

from __future__ import annotations

import argparse

import torch
from _comfy import class_cond, edm2_net, import_comfy, interleaved_medians, karras, tiny_edm2

SIZES = {  # name: (main config, guide config, latent shape)
    "tiny (16x16x4, 32/16 ch)": (
        tiny_edm2(img_resolution=16, model_channels=32, num_blocks=2, attn_resolutions=[8]),
        tiny_edm2(img_resolution=16, attn_resolutions=[8]),
        (1, 4, 16, 16),
    ),
    "mid (32x32x4, 128/64 ch, 3 levels)": (
        dict(
            img_resolution=32,
            img_channels=4,
            label_dim=1000,
            model_channels=128,
            channel_mult=[1, 2, 2],
            num_blocks=2,
            attn_resolutions=[16, 8],
        ),
        dict(
            img_resolution=32,
            img_channels=4,
            label_dim=1000,
            model_channels=64,
            channel_mult=[1, 2, 2],
            num_blocks=2,
            attn_resolutions=[16, 8],
        ),
        (1, 4, 32, 32),
    ),
}


def measure(name: str, steps: int, repeats: int) -> tuple[float, float, float, int]:
    import comfy.samplers

    from comfyui_autoguidance.edm2 import sample
    from comfyui_autoguidance.nodes.edm2.model import edm2_patcher
    from comfyui_autoguidance.nodes.guider import AutoguidanceGuider

    main_cfg, guide_cfg, shape = SIZES[name]
    main_net, guide_net = edm2_net(main_cfg, 1), edm2_net(guide_cfg, 2)
    label_dim = main_cfg["label_dim"]
    labels = torch.eye(label_dim)[[3]].expand(shape[0], -1)
    noise = torch.randn(shape, generator=torch.Generator().manual_seed(0))
    w = 2.0

    def direct():
        return sample(main_net, noise, labels, guide=guide_net, guidance=w, num_steps=steps)

    # Pixel-space wrapping: ComfyUI's latent in/out maps are the identity, so outputs compare 1:1.
    guider = AutoguidanceGuider.execute(
        model=edm2_patcher(main_net, True),
        guide_model=edm2_patcher(guide_net, True),
        positive=class_cond(3, label_dim),
        w=w,
        cfg=1.0,
    ).result[0]
    sigmas, sampler = karras(steps), comfy.samplers.sampler_object("heun")

    def comfy_run():
        return guider.sample(noise, torch.zeros_like(noise), sampler, sigmas, seed=0, disable_pbar=True)

    with torch.no_grad():
        a, b = direct(), comfy_run()  # warm-up; both paths cache the normalised weights
        t = interleaved_medians({"direct": direct, "comfy": comfy_run}, repeats, warm_up=False)
        t_direct, t_comfy = t["direct"], t["comfy"]
    diff = (a - b.to(a.dtype)).abs().max().item()
    return t_direct, t_comfy, diff, guider.guide_calls


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="tiny size only, 8 steps, 2 repeats")
    args = parser.parse_args()
    import_comfy()
    names = list(SIZES)
    if args.quick:
        names, args.steps, args.repeats = names[:1], 8, 2
    print(
        f"Heun, {args.steps} steps ({2 * args.steps - 1} evaluations of main and guide), w = 2, "
        f"median of {args.repeats}, torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    print(
        "| EDM2 size | direct forwards (s) | AutoguidanceGuider in ComfyUI (s) | ratio | target ≤ 1.03 "
        "| max diff |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for name in names:
        t_direct, t_comfy, diff, calls = measure(name, args.steps, args.repeats)
        ratio = t_comfy / t_direct
        assert calls == 2 * args.steps - 1, calls
        print(
            f"| {name} | {t_direct:.3f} | {t_comfy:.3f} | {ratio:.3f} "
            f"| {'met' if ratio <= 1.03 else 'not met'} | {diff:.1e} |"
        )


if __name__ == "__main__":
    main()
