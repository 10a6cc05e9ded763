"""The ComfyUI surface this pack depends on: the one module in ``nodes/`` that imports ComfyUI.

Every ComfyUI name the pack uses is named here, one at a time (never a whole module), and was read
against ComfyUI 0.3.64 (Oct 2025, commit a125cd84) and 0.33.0 (Aug 2026, commit 783545f6); where
the two differ, the name's comment or docstring says how. Three kinds:

- classes the pack subclasses or builds, the V3 node API, and stable functions: re-exported as
  they are (same signature in both versions);
- internals an upgrade can break (private attributes, data layouts, call sequences): each behind
  a small function of ours that says what it relies on, so such a break is a fix in one place;
- attributes and methods of ComfyUI objects that other modules read directly: listed in
  :data:`HOST_ATTRIBUTES`. ``tests/nodes/test_gate.py`` fails on a read that is not listed, on a
  listed name this ComfyUI lacks, and on a ComfyUI module reachable through this one.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import comfy.float as _float
import comfy.lora as _lora
import comfy.model_management as _mm
import comfy.model_patcher as _model_patcher
import comfy.patcher_extension as _patcher_extension
import comfy.sampler_helpers as _sampler_helpers
import comfy.samplers as _samplers
import comfy.utils as _utils
import comfy.weight_adapter as _weight_adapter
import folder_paths as _folder_paths
import torch

# Classes subclassed or built, and stable functions. ``CFGGuider``: our guider overrides ``predict_noise``.
# ``LatentFormat``: 0.33.0 adds ``spacial_downscale_ratio`` (default 8). ``BASE``, a family's config:
# 0.4.0+ answers unknown names with None. ``EDM``: EDM's c_skip, c_out, c_in.
from comfy.conds import CONDRegular as CONDRegular
from comfy.latent_formats import LatentFormat as LatentFormat
from comfy.model_base import BaseModel as BaseModel
from comfy.model_base import ModelType as ModelType
from comfy.model_management import InterruptProcessingException as InterruptProcessingException  # Cancel
from comfy.model_patcher import ModelPatcher as ModelPatcher
from comfy.model_patcher import create_model_options_clone
from comfy.model_sampling import EDM as EDM
from comfy.model_sampling import ModelSamplingContinuousEDM as ModelSamplingContinuousEDM
from comfy.samplers import CFGGuider as CFGGuider
from comfy.supported_models_base import BASE as BASE
from comfy.utils import ProgressBar as ProgressBar  # a node's progress bar in the front end
from comfy_api.latest import ComfyExtension as ComfyExtension
from comfy_api.latest import io as io

sampling_function = _samplers.sampling_function  # the stock CFG step: batch, pre-CFG hooks, cfg_function
calc_cond_batch = _samplers.calc_cond_batch  # (model, [cond list, …], x, σ, options) → one D per list
process_conds = _samplers.process_conds  # conds made model-ready; 0.33.0 adds latent_shapes= (forwarded)
convert_cond = _sampler_helpers.convert_cond  # CONDITIONING → cond dicts
get_free_memory = _mm.get_free_memory  # bytes free on a device
intermediate_device = _mm.intermediate_device  # where nodes hand tensors to each other
get_torch_device = _mm.get_torch_device  # a diffusion model's load device
unet_offload_device = _mm.unet_offload_device  # … and its offload device
check_interrupted = _mm.throw_exception_if_processing_interrupted  # raise when the user pressed Cancel
get_filename_list = _folder_paths.get_filename_list  # file names under a model folder
get_full_path = _folder_paths.get_full_path  # (folder, name) → path or None
add_model_folder_path = _folder_paths.add_model_folder_path  # one more path for a folder (loras, …)

HOST_ATTRIBUTES: dict[str, str] = {
    "model": "ModelPatcher.model: its BaseModel (a torch module)",
    "load_device": "ModelPatcher.load_device",
    "offload_device": "ModelPatcher.offload_device",
    "model_options": "ModelPatcher.model_options: the options a sampler is given",
    "model_size": "ModelPatcher.model_size(): bytes of its weights",
    "get_model_object": "ModelPatcher.get_model_object(name): e.g. model_sampling, object patches applied",
    "set_model_sampler_pre_cfg_function": "ModelPatcher: appends a pre-CFG hook",
    "model_sampling": "BaseModel.model_sampling: the running model's σ parameterisation",
    "latent_format": "BaseModel.latent_format",
    "model_config": "BaseModel.model_config: the family's config (a BASE)",
    "diffusion_model": "BaseModel.diffusion_model: the network it wraps",
    "process_latent_in": "BaseModel.process_latent_in: a LATENT's samples → the model's space",
    "process_latent_out": "BaseModel.process_latent_out: the model's space → a LATENT's samples",
    "unet_config": "BASE.unet_config",
    "set_inference_dtype": "BASE.set_inference_dtype(dtype, manual_cast)",
    "latent_channels": "LatentFormat.latent_channels",
    "sigma_min": "ModelSampling*.sigma_min",
    "sigma_max": "ModelSampling*.sigma_max",
    "calculate_input": "ModelSampling*.calculate_input(σ, x): the network's input scaling",
    "noise_scaling": "ModelSampling*.noise_scaling(σ, noise, latent[, max_denoise]): x_σ",
    "conds": "CFGGuider.conds: the run's conds by name, set in sample()",
    "model_patcher": "CFGGuider.model_patcher",
    "cfg": "CFGGuider.cfg: the CFG weight; core's CFG Override sets it for the steps in its window",
    "inner_model": "CFGGuider.inner_model: the loaded BaseModel during a run",
    "inner_set_conds": "CFGGuider.inner_set_conds(dict): conds by name (set_conds takes two)",
    "set_conds": "CFGGuider.set_conds(positive, negative): our guider's takes negative=None",
    "decode": "VAE.decode(latent) → pixels",
    "patches": "ModelPatcher.patches: key → [(strength_patch, data, strength_model, offset, function)]",
    "injections": "ModelPatcher.injections: key → [PatcherInjection], run when the patcher loads",
}
"""Attributes and methods of ComfyUI objects that other modules read directly: what each is."""

# ----------------------------------------------------------------------------
# Internals: sampling, model patchers, memory, the server, model folders.


def guide_model_options(guide: Any, sigmas: torch.Tensor | None) -> dict:
    """A guide patcher's own model_options for one run, its wrappers and callbacks merged in, as
    ``CFGGuider.sample`` builds the main's (``create_model_options_clone``, ``merge_nested_dicts``,
    ``ModelPatcher.wrappers`` / ``.callbacks``, ``transformer_options['sample_sigmas']``)."""
    options = create_model_options_clone(guide.model_options)
    transformer = options.setdefault("transformer_options", {})
    if sigmas is not None:
        transformer["sample_sigmas"] = sigmas
    for name in ("wrappers", "callbacks"):
        _patcher_extension.merge_nested_dicts(
            transformer.setdefault(name, {}), getattr(guide, name), copy_dict1=False
        )
    return options


def sample_sigmas(model_options: dict) -> torch.Tensor | None:
    """The σ steps of the running sampler: ``model_options['transformer_options']['sample_sigmas']``."""
    return model_options.get("transformer_options", {}).get("sample_sigmas")


@contextlib.contextmanager
def current_patcher(patcher: Any) -> Iterator[None]:
    """Make ``patcher`` its ``BaseModel``'s ``current_patcher`` for one evaluation (hooks read it):
    ComfyUI sets it when a patcher is loaded; two patchers over one model must swap it."""
    previous = getattr(patcher.model, "current_patcher", None)
    patcher.model.current_patcher = patcher
    try:
        yield
    finally:
        patcher.model.current_patcher = previous


ADDITIONAL_MODELS_KEY = "autoguidance_guide"


def with_additional_model(main: Any, guide: Any) -> Any:
    """A clone of ``main`` that makes ComfyUI load, partially load and offload ``guide`` with it
    (``set_additional_models``, read back by ``prepare_sampling``)."""
    patched = main.clone()
    patched.set_additional_models(ADDITIONAL_MODELS_KEY, [guide])
    return patched


def add_run_wrapper(patcher: Any, key: str, wrapper: Any) -> None:
    """Wrap every sampling run of ``patcher``: ``wrapper(executor, *args, **kwargs)`` around
    ``CFGGuider.outer_sample`` (``WrappersMP.OUTER_SAMPLE``); the guider and the KSampler both run it."""
    patcher.add_wrapper_with_key(_patcher_extension.WrappersMP.OUTER_SAMPLE, key, wrapper)


def unload(model: Any) -> None:
    """Unload every loaded patcher of the ``BaseModel`` ``model`` (weights back clean, offloaded):
    edits ``current_loaded_models`` (0.33's ``unload_model_and_clones`` matches by uuid, not model)."""
    loaded = _mm.current_loaded_models
    for i in reversed(range(len(loaded))):
        patcher = loaded[i].model
        if patcher is not None and patcher.model is model:
            loaded[i].model_unload()
            loaded.pop(i)


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


@contextlib.contextmanager
def loaded_for_sampling(
    patcher: Any, noise_shape: Any, cond_dict: dict, options: dict
) -> Iterator[tuple[Any, dict]]:
    """Load ``patcher`` and its additional models as a sampler would; yield (``BaseModel``, conds).

    The steps of ``CFGGuider.outer_sample`` around ``inner_sample``: ``prepare_sampling`` (one
    ``load_models_gpu`` call; 0.33.0 adds keywords with defaults), ``cast_to_load_options``,
    ``pre_run`` / ``cleanup``, ``cleanup_models``. The Pair Inspector evaluates both models in it.
    """
    real_model, cond_dict, models = _sampler_helpers.prepare_sampling(
        patcher, noise_shape, cond_dict, options
    )
    _samplers.cast_to_load_options(options, device=patcher.load_device, dtype=patcher.model_dtype())
    patcher.pre_run()
    try:
        yield real_model, cond_dict
    finally:
        patcher.cleanup()
        _sampler_helpers.cleanup_models(cond_dict, models)


# ----------------------------------------------------------------------------
# Devices and worker threads (nodes/pair/devices.py, nodes/pair/device_node.py).


def add_step_wrapper(patcher: Any, key: str, wrapper: Any) -> None:
    """Wrap every evaluation: ``wrapper(executor, x, timestep, model_options, seed)`` around
    ``CFGGuider.predict_noise`` (``WrappersMP.PREDICT_NOISE``; ``executor.class_obj`` is the guider)."""
    patcher.add_wrapper_with_key(_patcher_extension.WrappersMP.PREDICT_NOISE, key, wrapper)


def device_thread_pool(devices: list[torch.device]) -> Any | None:
    """``comfy.multigpu.MultiGPUThreadPool(devices)`` (0.23+; ``submit`` / ``get_result`` /
    ``shutdown``, a thread per device made current), or None where it does not exist (0.3.64)."""
    try:
        from comfy.multigpu import MultiGPUThreadPool
    except ImportError:
        return None
    return MultiGPUThreadPool(devices)


def set_reload(patcher: Any, factory: Any, args: tuple) -> None:
    """``ModelPatcher.cached_patcher_init`` (0.33.0; none on 0.3.64): how Select Model Device and
    MultiGPU CFG Split load another copy, ``factory(*args)`` (or with ``disable_dynamic=True``)."""
    if hasattr(patcher, "cached_patcher_init"):
        patcher.cached_patcher_init = (factory, args)


def model_device_options() -> list[str]:
    """Device choices ("default", "cpu", "gpu:N" with 2+ GPUs): 0.33's ``get_gpu_device_options``."""
    if hasattr(_mm, "get_gpu_device_options"):
        return list(_mm.get_gpu_device_options())
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    return ["default", "cpu"] + ([f"gpu:{i}" for i in range(count)] if count > 1 else [])


def place_model(patcher: Any, option: str) -> Any:
    """A clone of ``patcher`` loaded on ``option``'s device: 0.33's Select Model Device (another GPU gets
    its own copy of the weights; an unknown device passes through); on 0.3.64, which has none, the
    clone's ``load_device`` (and for "cpu" ``offload_device``) is set for ComfyUI's loader."""
    try:
        from comfy_extras.nodes_multigpu import SelectModelDeviceNode
    except ImportError:
        SelectModelDeviceNode = None  # noqa: N806
    if SelectModelDeviceNode is not None:
        return SelectModelDeviceNode.execute(patcher, option).result[0]
    placed, index = patcher.clone(), option.removeprefix("gpu:")
    if option == "cpu":
        placed.load_device = placed.offload_device = torch.device("cpu")
    elif option.startswith("gpu:") and index.isdigit() and int(index) < torch.cuda.device_count():
        placed.load_device = torch.device("cuda", int(index))
    return placed


def send_to_front_end(event: str, data: dict) -> None:
    """``PromptServer.instance.send_sync``; a no-op where no server runs (tests)."""
    try:
        from server import PromptServer
    except ImportError:
        return
    instance = getattr(PromptServer, "instance", None)
    if instance is not None:
        instance.send_sync(event, data)


def register_model_folder(name: str, extra_path: str, extensions: set[str]) -> None:
    """Make ``models/<name>`` and ``extra_path`` a model folder with these file extensions: a new entry
    in ``folder_names_and_paths`` (``add_model_folder_path`` alone keeps the default extensions)."""
    paths = [os.path.join(_folder_paths.models_dir, name), extra_path]  # models_dir: set at start-up
    if name not in _folder_paths.folder_names_and_paths:
        _folder_paths.folder_names_and_paths[name] = (list(paths), set(extensions))
        return
    for path in paths:
        _folder_paths.add_model_folder_path(name, path)


# ----------------------------------------------------------------------------
# A pair over one model (nodes/pair/): ``ModelPatcher.patches[key]`` lists ``(strength_patch, data,
# strength_model, offset, function)``; ``.injections`` (``PatcherInjection``s) run at load.


def with_weight_patches(patcher: Any, patches: dict[str, list[tuple]]) -> Any:
    """A clone with these weight patches and a new ``patches_uuid`` (so ComfyUI re-patches on load)."""
    clone = patcher.clone()
    clone.patches, clone.patches_uuid = {k: list(v) for k, v in patches.items()}, uuid.uuid4()
    return clone


def adapter_parts(data: Any) -> tuple[str, tuple] | None:
    """(``name``, ``weights``) of a ``comfy.weight_adapter.WeightAdapterBase`` ('lora', 'loha', 'lokr', …)."""
    return (data.name, tuple(data.weights)) if isinstance(data, _weight_adapter.WeightAdapterBase) else None


def patched_weight(patches: list[tuple], weight: torch.Tensor, key: str) -> torch.Tensor:
    """As ``ModelPatcher.patch_weight_to_device`` merges: ``comfy.lora.calculate_weight`` in float32,
    then ``stochastic_rounding`` (``string_to_seed``: comfy.model_patcher in 0.3.64, comfy.utils later)."""
    seed = getattr(_utils, "string_to_seed", None) or _model_patcher.string_to_seed
    out = _lora.calculate_weight(patches, weight.to(torch.float32, copy=True), key)
    return _float.stochastic_rounding(out, weight.dtype, seed=seed(key))


def set_injection_first(patcher: Any, key: str, inject: Callable, eject: Callable) -> None:
    """``PatcherInjection(inject, eject)`` under ``key``, run before the patcher's other injections."""
    others = {k: v for k, v in patcher.injections.items() if k != key}
    patcher.injections = {key: [_patcher_extension.PatcherInjection(inject=inject, eject=eject)], **others}


def run_injections(injections: list, patcher: Any, on: bool) -> None:
    for injection in injections:
        (injection.inject if on else injection.eject)(patcher)


def add_apply_model_wrapper(patcher: Any, key: str, wrapper: Callable) -> None:
    patcher.add_wrapper_with_key(_patcher_extension.WrappersMP.APPLY_MODEL, key, wrapper)


def grow_model_size(patcher: Any, extra_bytes: int) -> None:
    """``model_size()``, which ComfyUI's loads and partial loads plan with, plus ``extra_bytes``."""
    patcher.size = patcher.model_size() + int(extra_bytes)


def sharing_problem(main: Any, guide: Any) -> str | None:
    """What two patchers of one model differ by that no pass can switch (``hook_patches``: 0.33.0)."""
    for name in ("object_patches", "weight_wrapper_patches", "hook_patches"):
        a, b = getattr(main, name, {}) or {}, getattr(guide, name, {}) or {}
        if a.keys() != b.keys() or any(a[k] is not b[k] for k in a):
            return f"different {name}"
    return None


def quantized_param(module: Any, name: str) -> bool:
    """A weight in a custom format: ``set_<name>``/``convert_<name>`` on the op (fp8 scaled, GGUF)."""
    return hasattr(module, f"set_{name}") or hasattr(module, f"convert_{name}")


def context_width(model: Any) -> int | None:
    """The text-embedding width a ``BaseModel`` reads, from ``model_config.unet_config`` (UNet
    ``context_dim``, Flux ``context_in_dim``, SD3's context embedder, …); None if unknown."""
    config = getattr(getattr(model, "model_config", None), "unet_config", None) or {}
    for key in ("context_dim", "context_in_dim", "text_dim", "cap_feat_dim"):
        if isinstance(config.get(key), int) and config[key] > 1:
            return config[key]
    width = (config.get("context_embedder_config") or {}).get("params", {}).get("in_features")
    return width if isinstance(width, int) else None
