"""Building, loading and running the tiny families of ``families.py`` through ComfyUI itself.

:func:`build` makes a family's ``BaseModel`` through its config class (``config.get_model``),
fills every weight with small random numbers (ComfyUI skips weight init: real weights come from
files) and wraps it in a ``ModelPatcher``. Where ComfyUI's model detection recognises the family
at that size, :func:`make_model` saves the diffusion model's state dict to
``models/diffusion_models`` and loads it back through the stock ``UNETLoader``. Stock nodes run
in graph order as the executor would; :func:`denoise` calls a model directly, with no sampler or
guider in between, for the expected values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from .families import Family, is_current, is_detected

# ----------------------------------------------------------------------------
# Building.


def _fill(model: torch.nn.Module, seed: int) -> None:
    """Small random weights everywhere (norm scales near 1), deterministic for ``seed``."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g, dtype=torch.float32).to(p.dtype)
            is_scale = "norm" in name and (name.endswith("weight") or name.endswith("scale"))
            p.copy_(1.0 + 0.1 * noise if is_scale else 0.1 * noise)
        for b in model.buffers():  # stored tables such as SD3's pos_embed (torch.empty until a file fills it)
            if b.is_floating_point():
                b.copy_(0.1 * torch.randn(b.shape, generator=g, dtype=torch.float32).to(b.dtype))


def build(family: Family, seed: int) -> Any:
    """The family's BaseModel from its own config class, random weights, in a CPU ModelPatcher."""
    import comfy.model_base
    import comfy.model_patcher
    import comfy.supported_models

    unet_config = {**family.unet_config, **(family.current_extra if is_current() else {})}
    config = getattr(comfy.supported_models, family.config)(dict(unet_config))
    config.unet_config.update(unet_config)  # tiny sizes win over the class's extras (SD2's head width)
    config.set_inference_dtype(torch.float32, None)
    if family.model_type is None:
        model = config.get_model({}, device="cpu")
    else:
        model = comfy.model_base.BaseModel(
            config, model_type=comfy.model_base.ModelType[family.model_type], device="cpu"
        )
    _fill(model.diffusion_model, seed)
    model.eval()
    return comfy.model_patcher.ModelPatcher(
        model, load_device=torch.device("cpu"), offload_device=torch.device("cpu")
    )


def save_unet(patcher: Any, folder: Path, name: str) -> str:
    """Write the diffusion model's state dict as ``folder/name.safetensors`` (as ComfyUI ships UNETs)."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    sd = {k: v.contiguous() for k, v in patcher.model.diffusion_model.state_dict().items()}
    save_file(sd, str(folder / f"{name}.safetensors"))
    return f"{name}.safetensors"


def load_unet(file_name: str) -> Any:
    """ComfyUI's stock ``UNETLoader`` (model detection) on a file in ``models/diffusion_models``."""
    import nodes

    return nodes.UNETLoader().load_unet(file_name, "default")[0]


def make_model(family: Family, seed: int, folder: Path | None = None) -> Any:
    """The family's model: through a file and UNETLoader where detection knows it, else :func:`build`."""
    built = build(family, seed)
    if folder is None or not is_detected(family):
        return built
    return load_unet(save_unet(built, folder, f"{family.name}-{seed}"))


def conditioning(family: Family, seed: int) -> list:
    """The family's hand-made CONDITIONING, with Flux-style guidance added by the stock node."""
    cond = family.cond(seed)
    if family.flux_guidance is not None:
        from comfy_extras.nodes_flux import FluxGuidance

        cond = _node_output(FluxGuidance, conditioning=cond, guidance=family.flux_guidance)[0]
    return cond


def _node_output(node: Any, **kwargs: Any) -> tuple:
    """Run a stock node (V1 or V3) and return its outputs."""
    if hasattr(node, "execute"):
        out = node.execute(**kwargs)
        return tuple(out.result)
    return getattr(node(), node.FUNCTION)(**kwargs)


# ----------------------------------------------------------------------------
# Calling a model directly: D(x; σ) for hand-made conditioning, no sampler or guider involved.


def processed(patcher: Any, cond: list, x: torch.Tensor) -> list[dict]:
    """``cond`` processed against this model's own ``extra_conds`` (SDXL's adm, Flux's guidance, …)."""
    import comfy.sampler_helpers
    import comfy.samplers

    conds = {"positive": comfy.sampler_helpers.convert_cond(cond)}
    return comfy.samplers.process_conds(patcher.model, x, conds, x.device, torch.zeros_like(x), None, 0)[
        "positive"
    ]


def denoise(patcher: Any, cond: list, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """D(x; σ) = ``model.apply_model`` with the conditioning's model inputs, for the whole batch."""
    c = processed(patcher, cond, x)[0]
    kwargs = {
        k: v.process_cond(batch_size=x.shape[0], device=x.device, area=None).concat([])
        for k, v in c["model_conds"].items()
    }
    with torch.no_grad():
        return patcher.model.apply_model(x, sigma, **kwargs)


# ----------------------------------------------------------------------------
# Stock nodes, run in graph order as the executor would (V1 or V3 classes alike).


def run_node(module: str, name: str, **inputs: Any) -> tuple:
    """Outputs of ComfyUI's node ``name`` from ``module`` ('nodes', 'comfy_extras.nodes_flux', …)."""
    import importlib

    cls = getattr(importlib.import_module(module), name)
    return _node_output(cls, **inputs)


CUSTOM = "comfy_extras.nodes_custom_sampler"


def sample_with_guider(
    model: Any,
    guider: Any,
    latent: dict,
    steps: int,
    seed: int,
    scheduler: str = "simple",
    sampler: str = "euler",
) -> dict:
    """RandomNoise, KSamplerSelect, BasicScheduler(model) → SamplerCustomAdvanced: the output LATENT."""
    noise = run_node(CUSTOM, "RandomNoise", noise_seed=seed)[0]
    sampler_obj = run_node(CUSTOM, "KSamplerSelect", sampler_name=sampler)[0]
    sigmas = run_node(CUSTOM, "BasicScheduler", model=model, scheduler=scheduler, steps=steps, denoise=1.0)[0]
    return run_node(
        CUSTOM,
        "SamplerCustomAdvanced",
        noise=noise,
        guider=guider,
        sampler=sampler_obj,
        sigmas=sigmas,
        latent_image=latent,
    )[0]


def sample_with_ksampler(
    model: Any,
    positive: list,
    negative: list,
    latent: dict,
    steps: int,
    cfg: float,
    seed: int,
    scheduler: str = "simple",
    sampler: str = "euler",
) -> dict:
    """The plain ``KSampler`` node."""
    return run_node(
        "nodes",
        "KSampler",
        model=model,
        seed=seed,
        steps=steps,
        cfg=cfg,
        sampler_name=sampler,
        scheduler=scheduler,
        positive=positive,
        negative=negative,
        latent_image=latent,
        denoise=1.0,
    )[0]


def empty_latent(family: Family) -> dict:
    """A zero LATENT of the family's shape (video families: [B, C, T, H, W])."""
    return {"samples": torch.zeros(family.latent)}


def step_sigmas(model: Any, steps: int, scheduler: str = "simple") -> torch.Tensor:
    """The σ the samplers above visit (BasicScheduler's)."""
    return run_node(CUSTOM, "BasicScheduler", model=model, scheduler=scheduler, steps=steps, denoise=1.0)[0]


class Spy:
    """Records the σ of every call of a model's ``apply_model`` (an I/O edge: the maths runs untouched)."""

    def __init__(self, patcher: Any):
        self.model, self.sigmas = patcher.model, []
        self.original = self.model.apply_model

    def __enter__(self) -> Spy:
        def recorded(x: torch.Tensor, t: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
            self.sigmas.append(float(t.reshape(-1)[0]))
            return self.original(x, t, *args, **kwargs)

        self.model.apply_model = recorded
        return self

    def __exit__(self, *exc: Any) -> None:
        del self.model.apply_model  # back to the class's method
