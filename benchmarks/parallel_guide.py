"""The guide pass beside the main model's batch: concurrent vs serial, in one run.

    python benchmarks/parallel_guide.py [--quick] [--repeats 3] [--threads 1]
                                        [--main-device cuda:0] [--guide-device cuda:1] [--dtype float16]

An EDM2 main/guide pair through ``AutoguidanceGuider`` in real ComfyUI, Heun over the EDM schedule,
three cases timed in interleaved rounds:
- w = 1: the main model alone (no guide pass), t_main;
- serial: the guide pass after the main's batch in the pre-CFG hook (``concurrency="serial"``);
- concurrent: the guide pass on its worker thread, started before the main's batch and joined in
  the hook (``concurrency="thread"``; on two devices this is what ``auto`` does).
The ideal concurrent time is max(t_main, t_guide) with t_guide = serial − t_main: the ratio
concurrent / serial beside ideal / serial. On the CPU, ``--threads 1`` (the default there) limits
torch to one thread per pass, so two passes at once use two cores: the proxy for two devices.
Both paths give the same sample (max difference printed). "cores busy" is the process's CPU time
per wall second: near 2 for the concurrent run when it got both cores. Other load on the machine
takes the second core away (the load average is printed): run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
from _comfy import class_cond, edm2_net, import_comfy, interleaved_medians, karras, tiny_edm2

PAIR = tiny_edm2(  # main and guide of one size: the guide pass costs what the main's does
    img_resolution=32, model_channels=64, channel_mult=[1, 2, 2], num_blocks=2, attn_resolutions=[8]
)
QUICK = tiny_edm2(img_resolution=16, model_channels=32, attn_resolutions=[8])
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
CASES = {  # name: (w, cfg, negative connected?)
    "autoguidance (w = 2)": (2.0, 1.0, False),
    "autoguidance + CFG (w = 2, cfg 3: main batch of 2)": (2.0, 3.0, True),
}


def patcher_on(net: torch.nn.Module, device: str | None) -> object:
    """An EDM2 patcher that ComfyUI loads on ``device`` (default: ComfyUI's own choice)."""
    from comfyui_autoguidance.nodes.edm2.model import edm2_patcher

    patcher = edm2_patcher(net, False)
    if device is not None:
        patcher.load_device = torch.device(device)
        if patcher.load_device.type == "cpu":
            patcher.offload_device = patcher.load_device
    return patcher


def measure(config: dict, case: str, args: argparse.Namespace) -> dict[str, float]:
    import comfy.samplers

    from comfyui_autoguidance.nodes.guider import AutoguidanceGuider

    w, cfg, with_negative = CASES[case]
    dtype = DTYPES[args.dtype]
    main = patcher_on(edm2_net(config, 1).to(dtype), args.main_device)
    guide = patcher_on(edm2_net(config, 2).to(dtype), args.guide_device)
    label_dim = config["label_dim"]
    positive, negative = class_cond(3, label_dim), class_cond(0, label_dim, unconditional=True)
    shape = (1, config["img_channels"], config["img_resolution"], config["img_resolution"])
    noise = torch.randn(shape, generator=torch.Generator().manual_seed(0))
    sigmas, sampler = karras(args.steps), comfy.samplers.sampler_object("heun")

    def guider(weight: float, concurrency: str) -> object:
        made = AutoguidanceGuider.execute(
            model=main,
            guide_model=guide,
            positive=positive,
            negative=negative if with_negative else None,
            w=weight,
            cfg=cfg,
        ).result[0]
        made.term.concurrency = concurrency
        return made

    runs = {"w = 1": guider(1.0, "serial"), "serial": guider(w, "serial"), "concurrent": guider(w, "thread")}
    outputs: dict[str, torch.Tensor] = {}
    cores: dict[str, list[float]] = {name: [] for name in runs}  # process CPU seconds per wall second

    def run(name: str):
        def go() -> None:
            wall, cpu = time.perf_counter(), time.process_time()
            outputs[name] = runs[name].sample(
                noise, torch.zeros_like(noise), sampler, sigmas, seed=0, disable_pbar=True
            )
            cores[name].append((time.process_time() - cpu) / (time.perf_counter() - wall))

        return go

    with torch.inference_mode():
        times = interleaved_medians({name: run(name) for name in runs}, args.repeats)
    times["max diff"] = float((outputs["serial"] - outputs["concurrent"]).abs().max())
    times |= {f"cores {name}": statistics.median(c) for name, c in cores.items()}
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a tiny pair, 4 steps, one timing each")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds (the median is reported)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads per pass (CPU default 1)")
    parser.add_argument("--main-device", default=None, help="e.g. cuda:0 (default: ComfyUI's device)")
    parser.add_argument("--guide-device", default=None, help="e.g. cuda:1 or cpu (default: the main's)")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="float32")
    args = parser.parse_args()
    import_comfy()
    config = QUICK if args.quick else PAIR
    if args.quick:
        args.steps, args.repeats = 4, 1
    if args.threads is None and not torch.cuda.is_available():
        args.threads = 1
    if args.threads is not None:
        torch.set_num_threads(args.threads)  # every thread's intra-op pool: one core per pass
    import comfy.model_management as mm

    print(
        f"Heun, {args.steps} steps ({2 * args.steps - 1} evaluations), EDM2 {config['model_channels']} ch "
        f"{config['img_resolution']}x{config['img_resolution']} main and guide of one size, {args.dtype}, "
        f"main on {args.main_device or mm.get_torch_device()}, guide on {args.guide_device or 'the same'}, "
        f"{torch.get_num_threads()} torch thread(s) per pass, median of {args.repeats}, "
        f"torch {torch.__version__}, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print(
        "| case | w = 1 (s) | serial (s) | concurrent (s) | concurrent / serial | ideal / serial "
        "| cores busy: serial, concurrent | max diff |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for case in CASES:
        t = measure(config, case, args)
        ideal = max(t["w = 1"], t["serial"] - t["w = 1"])
        print(
            f"| {case} | {t['w = 1']:.3f} | {t['serial']:.3f} | {t['concurrent']:.3f} "
            f"| {t['concurrent'] / t['serial']:.3f} | {ideal / t['serial']:.3f} "
            f"| {t['cores serial']:.2f}, {t['cores concurrent']:.2f} | {t['max diff']:.1e} |"
        )


if __name__ == "__main__":
    main()
