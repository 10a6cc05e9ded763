"""EDM2 networks in pure PyTorch (never imports ComfyUI), written from the papers.

``EDM2`` is the preconditioned denoiser D(x; σ, c) with the official ``Precond`` constructor
arguments and parameter names, so official state dicts load as they are; ``load`` reads
official ``.pkl`` snapshots without executing anything, and our ``.safetensors``.
"""

from . import latents, presets
from .loading import load, save
from .sampling import sample
from .unet import EDM2, UNet

__all__ = ["EDM2", "UNet", "latents", "load", "presets", "sample", "save"]
