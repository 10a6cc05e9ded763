"""The ComfyUI surface this pack depends on: the one module in ``nodes/`` that imports ComfyUI.

Every ComfyUI function, class and attribute the pack uses is named here, each with the
ComfyUI versions it was read and tested against (0.3.64, Oct 2025, commit a125cd84; 0.33.0,
Aug 2026, commit 783545f6). Public, stable APIs (the V3 node API, ``folder_paths``) are
re-exported; internals (``model_management.current_loaded_models``, ``ModelPatcher.backup``,
``BaseModel.current_patcher``, the outer-sample wrapper) are wrapped in small functions so
an upgrade that breaks one is a fix in one place. Other modules import only from here.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
from collections.abc import Iterator
from typing import Any

import comfy.conds as conds
import comfy.latent_formats as latent_formats
import comfy.model_base as model_base
import comfy.model_management as model_management
import comfy.model_patcher as model_patcher
import comfy.model_sampling as model_sampling
import comfy.patcher_extension as patcher_extension
import comfy.sampler_helpers as sampler_helpers
import comfy.samplers as samplers
import comfy.supported_models_base as supported_models_base
import comfy.utils as comfy_utils  # pair inspector: ProgressBar
import folder_paths
import torch
from comfy_api.latest import ComfyExtension, io

__all__ = [
    "CFGGuider",
    "ComfyExtension",
    "conds",
    "folder_paths",
    "io",
    "latent_formats",
    "model_base",
    "model_management",
    "model_patcher",
    "model_sampling",
    "supported_models_base",
]

# ----------------------------------------------------------------------------
# Classes we subclass or build (0.3.64, 0.33.0: same constructors and hooks).

# ``CFGGuider``: we override ``predict_noise`` (which calls :func:`sampling_function`); the guide's
# conds are made in the outer-sample wrapper (:func:`add_run_wrapper`), forwarding every keyword
# (0.3.67+ adds ``latent_shapes``).
CFGGuider = samplers.CFGGuider

# ----------------------------------------------------------------------------
# Sampling internals.


def sampling_function(
    model: Any,
    x: torch.Tensor,
    sigma: torch.Tensor,
    uncond: Any,
    cond: Any,
    cond_scale: float,
    model_options: dict,
    seed: Any,
) -> torch.Tensor:
    """ComfyUI's CFG step: cond/uncond batch, pre-CFG hooks, ``cfg_function``, post-CFG hooks.

    ``comfy.samplers.sampling_function`` (0.3.64, 0.33.0: same signature and order of hooks).
    """
    return samplers.sampling_function(
        model, x, sigma, uncond, cond, cond_scale, model_options=model_options, seed=seed
    )


def calc_cond_batch(
    model: Any, cond_lists: list, x: torch.Tensor, sigma: torch.Tensor, options: dict
) -> list:
    """One denoised prediction per cond list (``None`` list → zeros), batched.

    ``comfy.samplers.calc_cond_batch`` (0.3.64, 0.33.0).
    """
    return samplers.calc_cond_batch(model, cond_lists, x, sigma, options)


def process_conds(
    model: Any,
    noise: torch.Tensor,
    cond_dict: dict,
    device: Any,
    latent_image: Any,
    denoise_mask: Any,
    seed: Any,
    **kwargs: Any,
) -> dict:
    """Conds made model-ready (areas, ``extra_conds``) for one model; ``kwargs`` as the guider got them.

    ``comfy.samplers.process_conds`` (0.3.64; 0.33.0 adds ``latent_shapes``, forwarded when given).
    """
    return samplers.process_conds(model, noise, cond_dict, device, latent_image, denoise_mask, seed, **kwargs)


def convert_cond(cond: list) -> list:
    """CONDITIONING → ComfyUI's cond dicts: ``comfy.sampler_helpers.convert_cond`` (0.3.64, 0.33.0)."""
    return sampler_helpers.convert_cond(cond)


def guide_model_options(guide: Any, sigmas: torch.Tensor | None) -> dict:
    """A guide patcher's own model_options for one run, its wrappers and callbacks merged in.

    ``model_patcher.create_model_options_clone``, ``patcher_extension.merge_nested_dicts``,
    ``ModelPatcher.wrappers`` / ``.callbacks`` (0.3.64, 0.33.0).
    """
    options = model_patcher.create_model_options_clone(guide.model_options)
    transformer = options.setdefault("transformer_options", {})
    if sigmas is not None:
        transformer["sample_sigmas"] = sigmas
    for name in ("wrappers", "callbacks"):
        patcher_extension.merge_nested_dicts(
            transformer.setdefault(name, {}), getattr(guide, name), copy_dict1=False
        )
    return options


def sample_sigmas(model_options: dict) -> torch.Tensor | None:
    """The σ steps of the running sampler: ``model_options['transformer_options']['sample_sigmas']``."""
    return model_options.get("transformer_options", {}).get("sample_sigmas")


@contextlib.contextmanager
def current_patcher(patcher: Any) -> Iterator[None]:
    """Make ``patcher`` its ``BaseModel``'s ``current_patcher`` for one evaluation (hooks read it).

    ``BaseModel.current_patcher`` (0.3.64, 0.33.0): set by ComfyUI when a patcher is loaded; two
    patchers over one model (a guide sharing the main's weights) must swap it.
    """
    previous = getattr(patcher.model, "current_patcher", None)
    patcher.model.current_patcher = patcher
    try:
        yield
    finally:
        patcher.model.current_patcher = previous


# ----------------------------------------------------------------------------
# Model attributes read (0.3.64, 0.33.0); ``ModelPatcher.model`` (its BaseModel) is read directly.


def sampling_of(patcher: Any) -> Any:
    """``patcher``'s model sampling, object patches applied: ``get_model_object("model_sampling")``."""
    return patcher.get_model_object("model_sampling")


def step_sampling(model: Any) -> Any:
    """Inside a sampling step, the running ``BaseModel``'s ``model_sampling`` (object patches are
    applied to it while it is loaded); a pre-CFG hook receives the model as ``args["model"]``."""
    return model.model_sampling


def latent_format_of(model: Any) -> Any:
    """A ``BaseModel``'s ``latent_format`` (``latent_channels``, ``latent_rgb_factors``[``_bias``],
    ``scale_factor``; ``spacial_downscale_ratio`` on 0.33.0)."""
    return model.latent_format


def family_name(model: Any) -> str:
    """The model's family, from its ``BaseModel.model_config`` class ('SDXL', 'Flux', …)."""
    return type(getattr(model, "model_config", model)).__name__


def latent_in(model: Any, x: torch.Tensor) -> torch.Tensor:
    """A LATENT's samples → the model's own space: ``BaseModel.process_latent_in``."""
    return model.process_latent_in(x)


def latent_out(model: Any, x: torch.Tensor) -> torch.Tensor:
    """The model's own space → a LATENT's samples (what a VAE decodes): ``BaseModel.process_latent_out``."""
    return model.process_latent_out(x)


# ----------------------------------------------------------------------------
# Model patchers and memory.

ADDITIONAL_MODELS_KEY = "autoguidance_guide"


def with_additional_model(main: Any, guide: Any) -> Any:
    """A clone of ``main`` that makes ComfyUI load, partially load and offload ``guide`` with it.

    ``ModelPatcher.clone``, ``ModelPatcher.set_additional_models`` (0.3.64, 0.33.0); read back by
    ``sampler_helpers.prepare_sampling`` through ``get_nested_additional_models``.
    """
    patched = main.clone()
    patched.set_additional_models(ADDITIONAL_MODELS_KEY, [guide])
    return patched


def add_pre_cfg_hook(patcher: Any, hook: Any) -> None:
    """Append ``hook`` to the patcher's ``sampler_pre_cfg_function`` list (0.3.64, 0.33.0)."""
    patcher.set_model_sampler_pre_cfg_function(hook)


def add_run_wrapper(patcher: Any, key: str, wrapper: Any) -> None:
    """Wrap every sampling run of ``patcher``: ``wrapper(executor, *args, **kwargs)`` around
    ``CFGGuider.outer_sample`` (``ModelPatcher.add_wrapper_with_key``, ``WrappersMP.OUTER_SAMPLE``;
    0.3.64, 0.33.0). Both the guider and the plain KSampler run through it."""
    patcher.add_wrapper_with_key(patcher_extension.WrappersMP.OUTER_SAMPLE, key, wrapper)


def unload(model: Any) -> None:
    """Unload every loaded patcher of the ``BaseModel`` ``model`` (weights back clean and offloaded).

    Edits ``model_management.current_loaded_models`` and calls ``LoadedModel.model_unload``
    (0.3.64, 0.33.0); 0.33's ``unload_model_and_clones`` matches clones by uuid, not by model.
    """
    loaded = model_management.current_loaded_models
    for i in reversed(range(len(loaded))):
        patcher = loaded[i].model
        if patcher is not None and patcher.model is model:
            loaded[i].model_unload()
            loaded.pop(i)


def free_memory_bytes(device: Any) -> int:
    """Free memory on ``device``: ``model_management.get_free_memory`` (0.3.64, 0.33.0)."""
    return int(model_management.get_free_memory(device))


def patcher_over_own_copy(patcher: Any) -> Any:
    """A clone of ``patcher`` over its own deep copy of the (clean) model weights.

    0.4.0+ model configs answer any missing attribute with None, so ``copy.deepcopy`` of a
    ``BaseModel`` must keep its ``model_config`` shared (memo entry). A plain clone shares the
    original's ``backup`` / ``object_patches_backup`` (all versions) and ``backup_buffers`` /
    ``pinned`` (0.16.0+): the copy gets empty ones. 0.33.0 clones take ``model_override``.
    """
    model = patcher.model
    config = getattr(model, "model_config", None)
    own_model = copy.deepcopy(model, memo={id(config): config} if config is not None else None)
    if "model_override" in inspect.signature(patcher.clone).parameters:  # 0.33.0
        own = patcher.clone(model_override=(own_model, ({}, {}, {}, set())))
        own.hook_backup = {}
        return own
    own = patcher.clone()  # 0.3.64
    own.model = own_model
    own.backup, own.object_patches_backup = {}, {}
    return own


# ----------------------------------------------------------------------------
# Server messages to the front end.


def send_to_front_end(event: str, data: dict) -> None:
    """``PromptServer.instance.send_sync`` (0.3.64, 0.33.0); a no-op where no server runs (tests)."""
    try:
        from server import PromptServer
    except ImportError:
        return
    instance = getattr(PromptServer, "instance", None)
    if instance is not None:
        instance.send_sync(event, data)


# ----------------------------------------------------------------------------
# Pair inspector (nodes/inspector/evaluate.py): both models evaluated outside a sampler.


@contextlib.contextmanager
def loaded_for_sampling(
    patcher: Any, noise_shape: Any, cond_dict: dict, options: dict
) -> Iterator[tuple[Any, dict]]:
    """Load ``patcher`` and its additional models as a sampler would, yield (``BaseModel``, conds), clean up.

    ``sampler_helpers.prepare_sampling`` (one ``load_models_gpu`` call with the memory estimate;
    0.33.0 adds keywords with defaults), ``samplers.cast_to_load_options``,
    ``ModelPatcher.pre_run`` / ``.cleanup``, ``sampler_helpers.cleanup_models`` (0.3.64, 0.33.0):
    the steps of ``CFGGuider.outer_sample`` around its ``inner_sample``.
    """
    real_model, cond_dict, models = sampler_helpers.prepare_sampling(patcher, noise_shape, cond_dict, options)
    samplers.cast_to_load_options(options, device=patcher.load_device, dtype=patcher.model_dtype())
    patcher.pre_run()
    try:
        yield real_model, cond_dict
    finally:
        patcher.cleanup()
        sampler_helpers.cleanup_models(cond_dict, models)


def progress_bar(total: int) -> Any:
    """The node's progress bar in the front end: ``comfy.utils.ProgressBar`` (0.3.64, 0.33.0)."""
    return comfy_utils.ProgressBar(total)


def check_interrupted() -> None:
    """Raise ComfyUI's interrupt when the user pressed Cancel (0.3.64, 0.33.0)."""
    model_management.throw_exception_if_processing_interrupted()
