"""``AutoguidanceEDM2Loader``: official EDM2 ``.pkl`` snapshots (read safely) and our ``.safetensors``.

Files are listed from ``models/edm2`` (registered here), ``models/diffusion_models`` and the
pack's bundled models (``edm2/assets``). The bundled LoRA for the digits (``edm2/loras``) is added to
ComfyUI's ``loras`` folder, so its own LoraLoader lists it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import torch

from ... import edm2
from .. import _api, node_ids
from .._api import io
from .model import edm2_patcher

log = logging.getLogger(__name__)

NAME = "EDM2 Loader"
FOLDER = "edm2"
EXTENSIONS = {".pkl", ".safetensors"}
BUNDLED = Path(edm2.__file__).resolve().parent / "assets"
BUNDLED_LORAS = BUNDLED.parent / "loras"  # research/train_digits_lora.py
DTYPES = {"default": None, "float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def register_folders() -> None:
    """Make ``models/edm2``, the bundled models and the bundled LoRA visible to ComfyUI's file lists."""
    _api.register_model_folder(FOLDER, str(BUNDLED), EXTENSIONS)
    _api.add_model_folder_path("loras", str(BUNDLED_LORAS))


register_folders()  # at import, before ComfyUI first lists its LoRAs (core nodes come first)


def checkpoint_options() -> list[str]:
    register_folders()
    own = _api.get_filename_list(FOLDER)
    others = [
        f
        for f in _api.get_filename_list("diffusion_models")
        if os.path.splitext(f)[1].lower() in EXTENSIONS and f not in own
    ]
    return own + others


def resolve(name: str) -> str:
    for folder in (FOLDER, "diffusion_models"):
        path = _api.get_full_path(folder, name)
        if path is not None:
            return path
    raise FileNotFoundError(
        f"{NAME}: '{name}' is not in models/{FOLDER} or models/diffusion_models. "
        "Put the file there and press 'r' to refresh the lists."
    )


class AutoguidanceEDM2Loader(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_ids.EDM2_LOADER,
            display_name=NAME,
            category="sampling/autoguidance/edm2",
            description=(
                "Loads an EDM2 network (the autoguidance paper's models): official .pkl snapshots, read "
                "without running any code from the file, or .safetensors converted by this pack."
            ),
            inputs=[
                io.Combo.Input(
                    "checkpoint",
                    options=checkpoint_options(),
                    tooltip=(
                        "An EDM2 file from models/edm2 (e.g. edm2-img512-s-2147483-0.070.pkl as main and "
                        "edm2-img512-xs-0134217-0.125.pkl as guide) or the bundled digits models."
                    ),
                ),
                io.Combo.Input(
                    "weight_dtype",
                    options=list(DTYPES),
                    default="default",
                    tooltip=(
                        "Weight precision. 'default' keeps the file's (official snapshots store float16); "
                        "float32 is safest on CPU, float16/bfloat16 halve memory on a GPU."
                    ),
                ),
            ],
            outputs=[io.Model.Output()],
        )

    @classmethod
    def validate_inputs(cls, checkpoint: str, weight_dtype: str = "default") -> bool | str:
        """Refuse, at queue time, a file that is missing or (for .safetensors) has no EDM2 header."""
        try:
            path = resolve(checkpoint)
            if path.lower().endswith(".safetensors"):
                edm2.loading.read_safetensors_config(path)
        except (FileNotFoundError, ValueError) as err:
            message = (
                str(err)
                if str(err).startswith(NAME)
                else f"{NAME}: '{checkpoint}' is not an EDM2 checkpoint: {err}"
            )
            return message
        return True

    @classmethod
    def execute(cls, checkpoint: str, weight_dtype: str = "default") -> io.NodeOutput:
        return io.NodeOutput(load_patcher(checkpoint, weight_dtype))


def load_patcher(checkpoint: str, weight_dtype: str = "default", disable_dynamic: bool = False) -> Any:
    """A fresh patcher of ``checkpoint``, which ComfyUI can call again for another copy (Select Model
    Device and MultiGPU CFG Split put one on another GPU; ours is never a dynamic patcher)."""
    path = resolve(checkpoint)
    try:
        net = edm2.load(path, device="cpu", dtype=DTYPES[weight_dtype])
    except (ValueError, OSError, KeyError) as err:
        raise ValueError(f"{NAME}: '{checkpoint}' is not a usable EDM2 checkpoint: {err}") from None
    pixel_space = int(net.img_channels) != 4  # img64 (RGB) and the bundled digits (gray)
    log.info(
        "%s: %s (%s, %d classes)", NAME, checkpoint, "pixels" if pixel_space else "latents", net.label_dim
    )
    patcher = edm2_patcher(net.eval().requires_grad_(False), pixel_space)
    _api.set_reload(patcher, load_patcher, (checkpoint, weight_dtype))
    return patcher
