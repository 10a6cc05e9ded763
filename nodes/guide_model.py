"""Evaluating the guide model D0 inside a ComfyUI sampling step.

The guide is a ComfyUI ``ModelPatcher`` of its own: its weight patches (LoRAs) and its
``model_options`` apply to it, its conds are processed against its own ``BaseModel``
(model-specific extras such as SDXL's ``adm`` or EDM2's class labels), and ComfyUI's model
management loads it beside the main model (it is registered with
``set_additional_models`` on a clone of the main patcher).
"""

from __future__ import annotations

from typing import Any

import torch

from ._api import model_patcher, patcher_extension, samplers

ADDITIONAL_MODELS_KEY = "autoguidance_guide"


def attach_guide(main: Any, guide: Any) -> Any:
    """A clone of ``main`` that makes ComfyUI load and manage ``guide`` with it."""
    patched = main.clone()
    patched.set_additional_models(ADDITIONAL_MODELS_KEY, [guide])
    return patched


def guide_model_options(guide: Any, sigmas: torch.Tensor | None) -> dict:
    """The guide's own model_options for one sampling run (its wrappers and callbacks merged in)."""
    options = model_patcher.create_model_options_clone(guide.model_options)
    transformer = options.setdefault("transformer_options", {})
    if sigmas is not None:
        transformer["sample_sigmas"] = sigmas
    for name in ("wrappers", "callbacks"):
        patcher_extension.merge_nested_dicts(transformer.setdefault(name, {}), getattr(guide, name), copy_dict1=False)
    return options


def process_guide_conds(guide: Any, conds: list[dict], noise: torch.Tensor, device: Any,
                        latent_image: torch.Tensor | None, denoise_mask: Any, seed: Any) -> list[dict]:
    """Process ``conds`` against the guide's own model (areas, extra conds, control)."""
    fresh = {"positive": [c.copy() for c in conds]}
    processed = samplers.process_conds(guide.model, noise, fresh, device, latent_image, denoise_mask, seed)
    return processed["positive"]


def evaluate_guide(guide: Any, conds: list[dict], x: torch.Tensor, sigma: torch.Tensor, options: dict) -> torch.Tensor:
    """D0(x; σ) for the whole batch, with the guide set as its model's current patcher."""
    previous = getattr(guide.model, "current_patcher", None)
    guide.model.current_patcher = guide
    try:
        return samplers.calc_cond_batch(guide.model, [conds], x, sigma, options)[0]
    finally:
        guide.model.current_patcher = previous
