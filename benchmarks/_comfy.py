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
import harness


def import_comfy() -> None:
    """The real ComfyUI on sys.path (GPU when there is one), or exit with status 2 saying why not."""
    if harness.comfyui_path() is None:
        sys.stderr.write(
            "ComfyUI not found: set COMFYUI_PATH (or install it at /opt/comfyui) to run this benchmark\n"
        )
        raise SystemExit(2)
    harness.import_comfy(cpu=not torch.cuda.is_available())


edm2_net = harness.edm2_with_gains
tiny_edm2 = harness.tiny_edm2
class_cond = harness.edm2_class_cond


def karras(steps: int, sigma_min: float = 0.002, sigma_max: float = 80.0, rho: float = 7.0) -> torch.Tensor:
    """What ComfyUI's KarrasScheduler node returns."""
    import comfy.k_diffusion.sampling as kds

    return kds.get_sigmas_karras(n=steps, sigma_min=sigma_min, sigma_max=sigma_max, rho=rho)


def interleaved_medians(
    cases: dict[str, Callable[[], object]], repeats: int, warm_up: bool = True
) -> dict[str, float]:
    """Median wall time of each case over ``repeats`` rounds that run every case once, in turn.

    Interleaving makes a machine's drift (other load, clocks) hit every case alike, so the ratios
    between cases stay meaningful on a busy machine; a first untimed round warms up (``warm_up``).
    """
    times: dict[str, list[float]] = {name: [] for name in cases}
    for round_ in range(repeats + int(warm_up)):
        for name, fn in cases.items():
            start = time.perf_counter()
            fn()
            if round_ or not warm_up:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}
