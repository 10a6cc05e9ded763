"""``load(path)``: an EDM2 network from an official ``.pkl`` snapshot or our ``.safetensors``.

Our safetensors files hold the state dict with official key names plus, in the metadata,
``edm2.config`` (the constructor arguments as JSON) and, when known, ``edm2.preset``.
"""

from __future__ import annotations

import json
import logging
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from .safe_pickle import ModuleRecord, PersistentRecord, UnsafePickleError, safe_load
from .unet import EDM2

log = logging.getLogger(__name__)

CONFIG_KEY = "edm2.config"
PRESET_KEY = "edm2.preset"
# Official ``Precond`` arguments with no meaning here: ``use_fp16`` picks the official forward's
# dtype, which the weights' own dtype decides in ours. Dropped from official and older configs.
OFFICIAL_ONLY_KWARGS = ("use_fp16",)


def _flatten(record: Any, prefix: str, out: dict[str, torch.Tensor]) -> None:
    """Collect parameters and persistent buffers of a pickled module tree under official key names."""
    state = record.state
    skip = set(state.get("_non_persistent_buffers_set") or ())
    for group in ("_parameters", "_buffers"):
        for name, value in (state.get(group) or {}).items():
            if value is not None and name not in skip:
                out[prefix + name] = value.detach() if isinstance(value, torch.Tensor) else value
    for name, child in (state.get("_modules") or {}).items():
        if isinstance(child, (PersistentRecord, ModuleRecord)):
            _flatten(child, f"{prefix}{name}.", out)


def read_snapshot(path: str | Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """(constructor kwargs, state dict) of the ``ema`` network in an official snapshot, read safely."""
    where = f"EDM2 snapshot {Path(path).name}"
    try:
        with open(path, "rb") as f:
            data = safe_load(f)
    except UnsafePickleError as err:
        raise ValueError(f"{where}: {err}") from None
    except (EOFError, pickle.UnpicklingError, ValueError, IndexError, TypeError, RuntimeError) as err:
        raise ValueError(
            f"{where}: the file is truncated or corrupt ({type(err).__name__}: {err}); download it again"
        ) from None
    net = data.get("ema") if isinstance(data, Mapping) else None
    if not isinstance(net, PersistentRecord) or net.class_name != "Precond":
        found = sorted(data) if isinstance(data, Mapping) else type(data).__name__
        raise ValueError(
            f"{where}: not an EDM2 network snapshot (expected an 'ema' Precond network, found "
            f"{found}); pick an official edm2-img*.pkl file"
        )
    kwargs = dict(net.state.get("_init_kwargs") or {})
    args = net.state.get("_init_args") or ()
    for name, value in zip(("img_resolution", "img_channels", "label_dim"), args, strict=False):
        kwargs[name] = value
    state: dict[str, torch.Tensor] = {}
    _flatten(net, "", state)
    return kwargs, state


def _edm2_header(path: str | Path) -> tuple[dict[str, Any], dict[str, str]]:
    """(EDM2 config, all metadata) from a safetensors header (reads no weights); ValueError if not EDM2."""
    where = f"EDM2 file {Path(path).name}"
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except Exception as err:  # safetensors raises its own error types for bad headers
        raise ValueError(f"{where}: not a readable safetensors file ({err})") from None
    if CONFIG_KEY not in meta:
        raise ValueError(
            f"{where}: has no '{CONFIG_KEY}' metadata, so it is not an EDM2 file made by this pack; "
            "convert official snapshots with: python -m comfyui_autoguidance.edm2.convert FILE.pkl"
        )
    try:
        return json.loads(meta[CONFIG_KEY]), meta
    except json.JSONDecodeError as err:
        raise ValueError(f"{where}: its '{CONFIG_KEY}' metadata is not valid JSON ({err})") from None


def read_safetensors_config(path: str | Path) -> dict[str, Any]:
    """The EDM2 config in a safetensors header (reads no weights); ValueError if it has none."""
    return _edm2_header(path)[0]


def read_safetensors(path: str | Path) -> tuple[dict[str, Any], dict[str, torch.Tensor], str | None]:
    """(EDM2 config, state dict, preset name or None) of one of our safetensors files."""
    config, meta = _edm2_header(path)
    return config, load_file(str(path)), meta.get(PRESET_KEY)


def build(
    config: Mapping[str, Any],
    state: Mapping[str, torch.Tensor],
    device: str | torch.device = "cpu",
    dtype: torch.dtype | None = None,
) -> EDM2:
    """Construct without allocating random weights, then adopt ``state`` (keeping its dtype unless given)."""
    config = {k: v for k, v in config.items() if k not in OFFICIAL_ONLY_KWARGS}
    try:
        with torch.device("meta"):
            net = EDM2(**config)
    except TypeError as err:
        raise ValueError(
            f"EDM2 config: unexpected constructor arguments ({err}); got {dict(config)}"
        ) from None
    try:
        net.load_state_dict(dict(state), strict=True, assign=True)
    except RuntimeError as err:
        raise ValueError(f"EDM2 weights do not fit the config {dict(config)}: {str(err)[:400]}") from None
    net = net.to(device=device, dtype=dtype) if dtype is not None else net.to(device=device)
    return net.eval().requires_grad_(False)


def load(path: str | Path, device: str | torch.device = "cpu", dtype: torch.dtype | None = None) -> EDM2:
    """Load an EDM2 network. Official snapshots store float16 weights: kept unless ``dtype`` is given."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"EDM2 load: no file at {path}")
    if path.suffix.lower() == ".safetensors":
        config, state, _ = read_safetensors(path)
    elif path.suffix.lower() == ".pkl":
        config, state = read_snapshot(path)
    else:
        raise ValueError(
            f"EDM2 load: unsupported file type '{path.suffix}' for {path.name}; "
            "use an official .pkl snapshot or a .safetensors made by this pack"
        )
    net = build(config, state, device, dtype)
    log.info("loaded EDM2 %s (%s, %d classes)", path.name, next(net.parameters()).dtype, net.label_dim)
    return net


def save(net: EDM2, path: str | Path, preset: str | None = None) -> None:
    """Write ``net`` as our safetensors: weights plus config (and preset name) in the metadata."""
    meta = {CONFIG_KEY: json.dumps(net.config, sort_keys=True)}
    if preset:
        meta[PRESET_KEY] = preset
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path), metadata=meta)
