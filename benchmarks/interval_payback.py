"""Interval pay-back: guide evaluations and wall time, constant w vs the (0.28, 5.42] interval.

    python benchmarks/interval_payback.py [--quick]

The same main/guide EDM2 pair in real ComfyUI through ``AutoguidanceGuider`` (w = 2), on
- the 32-step EDM schedule (σ 80 → 0.002, ρ = 7) with ComfyUI's ``heun`` (2N − 1 evaluations),
- ComfyUI's ``karras`` scheduler at 20 and 30 steps with ``euler`` (N evaluations).
The guider counts its guide passes; they must equal the number of evaluation σ inside
(0.28, 5.42] (checked, not assumed). The time saved should be that share of the guide's cost:
with t_1 the time at w = 1 (no guide pass at all) and t_c at constant w, the interval should take
t_1 + (t_c − t_1)·inside/evaluations, printed beside the measured time.
"""

from __future__ import annotations

import argparse

import torch
from _comfy import class_cond, edm2_net, import_comfy, interleaved_medians, karras, tiny_edm2

MAIN = dict(
    img_resolution=32,
    img_channels=4,
    label_dim=10,
    model_channels=64,
    channel_mult=[1, 2, 2],
    num_blocks=2,
    attn_resolutions=[8],
)
GUIDE = {**MAIN, "model_channels": 64, "num_blocks": 1}
QUICK_MAIN = tiny_edm2(img_resolution=16, model_channels=32, attn_resolutions=[8])
LO, HI = 0.28, 5.42


def evaluation_sigmas(sigmas: torch.Tensor, sampler: str) -> list[float]:
    """σ of every model call: Heun also evaluates at σ_{i+1} except on the step into 0."""
    s = sigmas.tolist()
    out = []
    for i in range(len(s) - 1):
        out.append(s[i])
        if sampler == "heun" and s[i + 1] > 0:
            out.append(s[i + 1])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a tiny pair, one timing each")
    parser.add_argument("--repeats", type=int, default=5, help="timings per case (the median is reported)")
    args = parser.parse_args()
    if args.quick:
        args.repeats = 1
    import_comfy()
    import comfy.samplers

    from comfyui_autoguidance.guidance import Constant, Interval
    from comfyui_autoguidance.nodes.edm2.model import edm2_patcher
    from comfyui_autoguidance.nodes.guider import AutoguidanceGuider

    main_cfg = QUICK_MAIN if args.quick else MAIN
    guide_cfg = {**main_cfg, "model_channels": main_cfg["model_channels"] // 2} if args.quick else GUIDE
    main_p, guide_p = edm2_patcher(edm2_net(main_cfg, 1), True), edm2_patcher(edm2_net(guide_cfg, 2), True)
    size = main_cfg["img_resolution"]
    noise = torch.randn(1, 4, size, size, generator=torch.Generator().manual_seed(0))
    ms = main_p.get_model_object("model_sampling")
    runs = [
        ("EDM 32-step (heun)", "heun", karras(32)),
        ("ComfyUI karras 20 (euler)", "euler", comfy.samplers.calculate_sigmas(ms, "karras", 20)),
        ("ComfyUI karras 30 (euler)", "euler", comfy.samplers.calculate_sigmas(ms, "karras", 30)),
    ]
    if args.quick:
        runs = runs[:2]
    print(
        f"main {main_cfg['model_channels']} ch x {main_cfg['num_blocks']} blocks, guide "
        f"{guide_cfg['model_channels']} ch x {guide_cfg['num_blocks']}, {size}x{size}x4, "
        f"w = 2, interval ({LO}, {HI}]"
    )
    print(
        "| schedule | evaluations | guide passes: constant | guide passes: interval | σ inside the interval "
        "| counts equal | time w = 1 (s) | time constant (s) | time interval (s) | interval / constant "
        "| predicted from the counts |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for title, sampler_name, sigmas in runs:
        sampler = comfy.samplers.sampler_object(sampler_name)
        evals = evaluation_sigmas(sigmas, sampler_name)
        inside = sum(1 for s in evals if LO < torch.tensor(s, dtype=torch.float32).item() <= HI)
        positive = class_cond(3, 10)
        guiders = {
            kind: AutoguidanceGuider.execute(
                model=main_p,
                guide_model=guide_p,
                positive=positive,
                w=2.0,
                cfg=1.0,
                schedule=schedule,
            ).result[0]
            for kind, schedule in (
                ("off", Constant(1.0)),
                ("constant", Constant(2.0)),
                ("interval", Interval(Constant(2.0), LO, HI)),
            )
        }

        def run(g, sampler=sampler, sigmas=sigmas):
            return lambda: g.sample(
                noise, torch.zeros_like(noise), sampler, sigmas, seed=0, disable_pbar=True
            )

        with torch.no_grad():
            medians = interleaved_medians({kind: run(g) for kind, g in guiders.items()}, args.repeats)
        result = {kind: (guider.guide_calls, medians[kind]) for kind, guider in guiders.items()}
        (_, off_time), (c_calls, c_time), (i_calls, i_time) = (
            result["off"],
            result["constant"],
            result["interval"],
        )
        equal = i_calls == inside and c_calls == len(evals) and result["off"][0] == 0
        # Promise: the main passes stay, the guide's cost shrinks to its share of the evaluations.
        predicted = (off_time + (c_time - off_time) * inside / len(evals)) / c_time
        print(
            f"| {title} | {len(evals)} | {c_calls} | {i_calls} | {inside} | {'yes' if equal else 'NO'} "
            f"| {off_time:.3f} | {c_time:.3f} | {i_time:.3f} | {i_time / c_time:.3f} | {predicted:.3f} |"
        )
        if not equal:
            raise SystemExit(f"{title}: guide passes {i_calls} != σ inside the interval {inside}")


if __name__ == "__main__":
    main()
