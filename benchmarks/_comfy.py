"""Shared set-up for the benchmarks that drive a real ComfyUI in process (on tools/harness.py).

ComfyUI is found at ``$COMFYUI_PATH`` or ``/opt/comfyui``; without it these scripts say so
and exit with status 2 (the smoke test then skips them with that reason).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

# tools/harness.py is shared with the tests; tools/ holds scripts only, so nothing there can shadow
# ComfyUI's modules. The repository root itself never goes on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import harness  # noqa: E402


def import_comfy() -> None:
    """The real ComfyUI on sys.path (GPU when there is one), or exit with status 2 saying why not."""
    if harness.comfyui_path() is None:
        sys.stderr.write(
            "ComfyUI not found: set COMFYUI_PATH (or install it at /opt/comfyui) to run this benchmark\n"
        )
        raise SystemExit(2)
    harness.import_comfy(cpu=not torch.cuda.is_available())


edm2_net = harness.edm2_with_gains
class_cond = harness.edm2_class_cond


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
