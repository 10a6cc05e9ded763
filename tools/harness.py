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


# ----------------------------------------------------------------------------
# ComfyUI models and LoRA files for the shared-weights pair (tests/nodes, benchmarks).


def sd15_patcher(seed: int, model_channels: int = 32, context_dim: int = 32, image_size: int = 32) -> Any:
    """A small SD1.5-style UNet built by ComfyUI's own SD15 config/BaseModel, in a ModelPatcher, with
    seeded weights (ComfyUI skips weight init: weights come from files)."""
    import comfy.model_base
    import comfy.model_patcher
    import comfy.supported_models

    unet_config = {
        "context_dim": context_dim, "model_channels": model_channels, "use_linear_in_transformer": False,
        "adm_in_channels": None, "use_temporal_attention": False, "in_channels": 4, "out_channels": 4,
        "num_res_blocks": [1, 1], "channel_mult": [1, 2], "transformer_depth": [1, 1],
        "transformer_depth_output": [1, 1, 1, 1], "transformer_depth_middle": 1,
        "use_spatial_transformer": True, "legacy": False, "image_size": image_size, "num_heads": 4,
        "num_head_channels": -1, "dtype": torch.float32,
    }  # fmt: skip
    config = comfy.supported_models.SD15(unet_config)
    config.set_inference_dtype(torch.float32, None)
    torch.manual_seed(seed)
    model = comfy.model_base.BaseModel(config, device="cpu")
    with torch.no_grad():
        for name, p in model.diffusion_model.named_parameters():
            norm = "norm" in name and name.endswith("weight")
            p.copy_(1.0 + 0.1 * torch.randn_like(p) if norm else 0.1 * torch.randn_like(p))
    model.eval()
    cpu = torch.device("cpu")
    return comfy.model_patcher.ModelPatcher(model, load_device=cpu, offload_device=cpu)


def lora_targets(state_dict: dict[str, torch.Tensor], convs: bool = True) -> list[str]:
    """The weights a typical LoRA trains: attention/MLP Linears of the transformer blocks, and (with
    ``convs``) the residual blocks' 3×3 convolutions and the down-sampling one."""
    keys = []
    for key, w in state_dict.items():
        if not (key.startswith("diffusion_model.") and key.endswith(".weight")):
            continue
        if (w.ndim == 2 and ".transformer_blocks." in key) or (convs and w.ndim == 4 and w.shape[-1] == 3):
            keys.append(key)
    return keys


def lora_file(
    state_dict: dict[str, torch.Tensor],
    kind: str,
    keys: list[str],
    rank: int = 4,
    delta: float = 0.02,
    seed: int = 0,
) -> dict[str, torch.Tensor]:
    """A random adapter file for ``keys`` in the format ComfyUI's LoraLoader reads: ``kind`` 'lora',
    'loha' or 'lokr', each ΔW with entries of standard deviation about ``delta`` (alpha = rank)."""
    g = torch.Generator().manual_seed(seed)
    out: dict[str, torch.Tensor] = {}
    for key in keys:
        w, name = state_dict[key], key[: -len(".weight")]
        rows, cols = w.shape[0], w[0].numel()
        rand = lambda *shape, s: torch.randn(*shape, generator=g) * s
        out[f"{name}.alpha"] = torch.tensor(float(rank))
        if kind == "lora":
            s = (delta / rank**0.5) ** 0.5
            out[f"{name}.lora_up.weight"] = rand(rows, rank, *(1,) * (w.ndim - 2), s=s)
            out[f"{name}.lora_down.weight"] = rand(rank, *w.shape[1:], s=s)
        elif kind == "loha":
            s = (delta / rank) ** 0.25
            for i in (1, 2):
                out[f"{name}.hada_w{i}_a"], out[f"{name}.hada_w{i}_b"] = (
                    rand(rows, rank, s=s),
                    rand(rank, cols, s=s),
                )
        else:
            a, b = (4 if rows % 4 == 0 else 1), (4 if w.shape[1] % 4 == 0 else 1)
            s = (delta / rank**0.5) ** 0.5
            out[f"{name}.lokr_w1"] = rand(a, b, s=1.0)
            out[f"{name}.lokr_w2_a"] = rand(rows // a, rank, s=s)
            out[f"{name}.lokr_w2_b"] = rand(rank, cols // b, s=s)
    return out


def patcher_copy(patcher: Any) -> Any:
    """A new ModelPatcher over a deep copy of ``patcher``'s clean model (0.4.0+ model configs answer any
    attribute, so the config stays shared): a second, separate model for references."""
    import copy

    import comfy.model_patcher

    config = patcher.model.model_config
    model = copy.deepcopy(patcher.model, memo={id(config): config})
    return comfy.model_patcher.ModelPatcher(
        model, load_device=patcher.load_device, offload_device=patcher.offload_device
    )


def resident_bytes(modules: list[torch.nn.Module]) -> int:
    """Bytes of the unique storages of every parameter and buffer of ``modules`` and of the tensors
    their layers' hooks hold (a shared pair's side branches and per-pass copies; core's bypass
    adapters): the weights resident for them."""
    storages: dict[int, int] = {}
    for model in modules:
        held = [*model.parameters(), *model.buffers()]
        for layer in model.modules():
            for hook in layer._forward_hooks.values():
                held += getattr(getattr(hook, "__self__", None), "resident", list)()
            adapter = getattr(getattr(layer.__dict__.get("forward"), "__self__", None), "adapter", None)
            held += [t for t in getattr(adapter, "weights", ()) if isinstance(t, torch.Tensor)]
        for t in held:
            storages[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
    return sum(storages.values())


def diffusion_modules(exclude: set[int] = frozenset()) -> list[torch.nn.Module]:
    """Every ComfyUI UNet alive (``gc``), but those whose ``id`` is in ``exclude``."""
    import gc

    from comfy.ldm.modules.diffusionmodules.openaimodel import UNetModel

    return [o for o in gc.get_objects() if isinstance(o, UNetModel) and id(o) not in exclude]
