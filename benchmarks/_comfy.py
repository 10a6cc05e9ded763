"""Shared set-up for the benchmarks that drive a real ComfyUI in process.

ComfyUI is found at ``$COMFYUI_PATH`` or ``/opt/comfyui``; without it these scripts say so
and exit with status 2 (the smoke test then skips them with that reason).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch


def comfyui_path() -> Path | None:
    for candidate in (os.environ.get("COMFYUI_PATH"), "/opt/comfyui"):
        if candidate and (Path(candidate) / "comfy" / "samplers.py").is_file():
            return Path(candidate)
    return None


def import_comfy() -> None:
    """Put the real ComfyUI on sys.path, CPU only, quiet progress bars."""
    path = comfyui_path()
    if path is None:
        sys.stderr.write("ComfyUI not found: set COMFYUI_PATH (or install it at /opt/comfyui) to run this benchmark\n")
        raise SystemExit(2)
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
    import comfy.cli_args

    comfy.cli_args.args.cpu = not torch.cuda.is_available()
    import comfy.model_management  # noqa: F401


def edm2_net(config: dict, seed: int) -> torch.nn.Module:
    """An EDM2 network with deterministic random weights (timing does not need trained ones)."""
    from comfyui_autoguidance.edm2 import EDM2

    torch.manual_seed(seed)
    net = EDM2(**config).eval().requires_grad_(False)
    for p in net.parameters():
        if p.ndim == 0:
            p.fill_(0.5)  # the residual gains start at 0 in training; non-zero so every layer does work
    return net


def class_cond(index: int, label_dim: int, unconditional: bool = False) -> list:
    from comfyui_autoguidance.nodes.edm2_conditioning import BY_INDEX, AutoguidanceEDM2ClassConditioning

    return AutoguidanceEDM2ClassConditioning.execute(class_name=BY_INDEX, class_index=index, label_dim=label_dim,
                                         second_class_index=-1, mix=0.0, unconditional=unconditional).result[0]


def karras(steps: int, sigma_min: float = 0.002, sigma_max: float = 80.0, rho: float = 7.0) -> torch.Tensor:
    """What ComfyUI's KarrasScheduler node returns."""
    import comfy.k_diffusion.sampling as kds

    return kds.get_sigmas_karras(n=steps, sigma_min=sigma_min, sigma_max=sigma_max, rho=rho)


def median_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
