"""A LoRA guided by its own base: one copy of the base weights vs two separate models.

    python benchmarks/lora_pair.py [--quick] [--repeats N]

main = base + adapter (ComfyUI's ``load_lora_for_models``, what LoraLoader does, and
``load_bypass_lora_for_models``, LoraLoaderBypass, where the ComfyUI has it), guide = the bare base,
through ``AutoguidanceGuider`` (w = 2, euler, one negative for CFG 3). "One copy": both come from
one loaded base, so the pack runs them over one copy of its weights with the adapter as a side
branch on the main pass. "Two models": the main is made from its own deep copy of the base (what
two different checkpoints would be). Both are timed in interleaved rounds (median), and their
samples compared (the same maths: they differ by float32 rounding only).
"""

from __future__ import annotations

import argparse

import torch
from _comfy import harness, import_comfy, interleaved_medians

SIZES = {  # model_channels, latent size, steps
    "mid": (128, 32, 4),
    "quick": (32, 8, 2),
}


def text_cond(seed: int, context_dim: int = 32) -> list:
    g = torch.Generator().manual_seed(seed)
    return [[torch.randn(1, 8, context_dim, generator=g), {}]]


def sampler_run(main, guide, latent: int, steps: int):
    """One guided run (a fresh guider each time, as a queued prompt makes)."""
    import comfy.samplers

    from comfyui_autoguidance.nodes.guider import AutoguidanceGuider

    guider = AutoguidanceGuider.execute(
        model=main, guide_model=guide, positive=text_cond(1), negative=text_cond(2), w=2.0, cfg=3.0
    ).result[0]
    sigmas = comfy.samplers.calculate_sigmas(guide.get_model_object("model_sampling"), "karras", steps)
    noise = torch.randn(1, 4, latent, latent, generator=torch.Generator().manual_seed(0))

    def run() -> torch.Tensor:
        with torch.no_grad():
            return guider.sample(
                noise,
                torch.zeros_like(noise),
                comfy.samplers.sampler_object("euler"),
                sigmas,
                seed=0,
                disable_pbar=True,
            )

    return run


def loaders() -> dict[str, object]:
    import comfy.sd

    found = {"LoraLoader": comfy.sd.load_lora_for_models}
    if hasattr(comfy.sd, "load_bypass_lora_for_models"):  # ComfyUI 0.7+
        found["LoraLoaderBypass"] = comfy.sd.load_bypass_lora_for_models
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a tiny UNet, one timing each")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    import_comfy()
    import comfy.model_management as mm

    channels, latent, steps = SIZES["quick" if args.quick else "mid"]
    repeats = 1 if args.quick else args.repeats
    base = harness.sd15_patcher(1, model_channels=channels, image_size=latent)
    state = base.model.state_dict()
    print(f"SD1.5-style UNet {channels} ch, latent {latent}x{latent}, {steps} euler steps, CFG 3, w = 2, CPU")
    print("| loader | adapter | one copy (s / step) | two models (s / step) | ratio | samples differ by |")
    print("| --- | --- | --- | --- | --- | --- |")
    for loader_name, load in loaders().items():
        for kind in ("lora", "loha", "lokr"):
            if loader_name == "LoraLoaderBypass" and kind == "loha":
                continue  # core's LoHa bypass forms the full ΔW every forward (its own warning): not a branch
            lora = harness.lora_file(state, kind, harness.lora_targets(state, convs=kind != "lokr"), rank=8)
            one = sampler_run(load(base, None, lora, 1.0, 0)[0], base, latent, steps)
            two = sampler_run(
                load(harness.patcher_copy(base), None, lora, 1.0, 0)[0],
                harness.patcher_copy(base),
                latent,
                steps,
            )
            a, b = one(), two()
            diff = float((a - b).abs().max() / b.abs().max())
            times = interleaved_medians({"one": one, "two": two}, repeats, warm_up=not args.quick)
            mm.unload_all_models()
            t1, t2 = times["one"] / steps, times["two"] / steps
            print(f"| {loader_name} | {kind} | {t1:.4f} | {t2:.4f} | {t1 / t2:.3f} | {diff:.1e} |")


if __name__ == "__main__":
    main()
