"""What the tests and the benchmarks share: finding and importing a real ComfyUI, and EDM2 inputs.

Tests load this file through ``tests/conftest.py``; benchmarks through ``benchmarks/_comfy.py``.
It never puts the repository root on ``sys.path`` (our ``nodes/`` would shadow ComfyUI's), only
the ComfyUI checkout.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

import torch

# Modules ComfyUI imports at start-up, from its requirements.txt (import names).
COMFYUI_DEPENDENCIES = (
    "aiohttp", "yaml", "scipy", "psutil", "sqlalchemy", "alembic", "torchsde", "torchvision", "transformers",
    "comfyui_frontend_package",
)  # fmt: skip
SETUP_HINT = "../shared/tools/comfyui-setup.sh"

# ----------------------------------------------------------------------------
# Tolerances for float32 results compared with golden data or a second implementation
# (tests/README.md, "How tolerances are chosen"). float32 kernels sum in an order that depends on
# the CPU (AVX2 or AVX-512 paths) and the thread count, so a result made on one machine moves by a
# few float32 epsilons of its own scale on another: bounds are that scale times a budget of
# epsilons, never a bare absolute number.

FLOAT32_EPS = torch.finfo(torch.float32).eps  # 2^-23 ≈ 1.19e-7

EPS_FORWARD = 16
"""One network evaluation: measured ≤ 4.2 eps·max|ref| (AMD EPYC and Intel Xeon, 1 or 2 threads)."""

EPS_SAMPLER = 32
"""A sampled output (8 Heun steps, 15 evaluations of each net): measured ≤ 9.7 eps·max|ref| across
CPUs; a real error (ComfyUI's default first-step noise scaling, √(1 + σ_max²) for σ_max) is ~580."""


def float32_bound(reference: torch.Tensor, eps_budget: float) -> float:
    """The largest |ours − reference| that float32 rounding explains: ``eps_budget``·eps·max|reference|."""
    return eps_budget * FLOAT32_EPS * float(reference.abs().max())


def comfyui_path() -> Path | None:
    """The ComfyUI checkout to use: ``$COMFYUI_PATH``, else ``/opt/comfyui``, else None."""
    for candidate in (os.environ.get("COMFYUI_PATH"), "/opt/comfyui"):
        if candidate and (Path(candidate) / "comfy" / "samplers.py").is_file():
            return Path(candidate)
    return None


def comfyui_skip_reason() -> str | None:
    """Why ComfyUI cannot be imported by this interpreter, or None when it can."""
    path = comfyui_path()
    if path is None:
        return f"no ComfyUI found: set COMFYUI_PATH to a ComfyUI 0.3.64 checkout (see README: {SETUP_HINT})"
    missing = [m for m in COMFYUI_DEPENDENCIES if importlib.util.find_spec(m) is None]
    if missing:
        return (
            f"ComfyUI at {path} lacks its dependencies in this Python ({', '.join(missing)} missing): "
            f"run PYTHON={sys.executable} {SETUP_HINT} --deps-only {path}"
        )
    return None


def import_comfy(cpu: bool = True) -> None:
    """Put the ComfyUI checkout on ``sys.path`` and import its model management (on the CPU by default)."""
    path = comfyui_path()
    if path is None:
        raise RuntimeError(comfyui_skip_reason())
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
    import comfy.cli_args

    comfy.cli_args.args.cpu = cpu
    import comfy.model_management


TINY_EDM2: dict[str, Any] = {
    "img_resolution": 8,
    "img_channels": 4,
    "label_dim": 10,
    "model_channels": 16,
    "channel_mult": [1, 2],
    "num_blocks": 1,
    "attn_resolutions": [4],
}
"""The tiny EDM2 of the tests and of the benchmarks' quick runs: two levels, one block each."""


def tiny_edm2(**changes: Any) -> dict[str, Any]:
    """``TINY_EDM2`` with ``changes`` (e.g. ``img_channels=1``): each case says only what it varies."""
    return {**TINY_EDM2, **changes}


def edm2_with_gains(config: dict[str, Any], seed: int, gain: float = 0.5) -> torch.nn.Module:
    """An EDM2 net with seeded random weights and every scalar gain set to ``gain``.

    Training starts the gains at 0, which would leave most blocks idle; non-zero gains make every
    block do work (timings) and matter (comparisons).
    """
    from comfyui_autoguidance.edm2 import EDM2

    torch.manual_seed(seed)
    net = EDM2(**config).eval().requires_grad_(False)
    for p in net.parameters():
        if p.ndim == 0:
            p.fill_(gain)
    return net


def edm2_class_cond(index: int, label_dim: int, unconditional: bool = False) -> list:
    """CONDITIONING for class ``index`` from the EDM2 Class Conditioning node (ComfyUI imported)."""
    from comfyui_autoguidance.nodes.edm2.conditioning import BY_INDEX, AutoguidanceEDM2ClassConditioning

    node = AutoguidanceEDM2ClassConditioning
    return node.execute(
        class_name=BY_INDEX,
        class_index=index,
        label_dim=label_dim,
        second_class_index=-1,
        mix=0.0,
        unconditional=unconditional,
    ).result[0]
