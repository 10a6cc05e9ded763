"""EDM2's data conventions.

img512: SD-VAE (sd-vae-ft-mse) latents, normalised per channel c to mean 0, std 0.5:
    z = raw·scale_c + bias_c, scale_c = 0.5/raw_std_c, bias_c = −raw_mean_c·scale_c,
with raw_mean = [5.81, 3.25, 0.12, −2.15], raw_std = [4.17, 4.62, 3.71, 3.28] (the EDM2
encoder's constants, float32 as there). "raw" are unscaled VAE latents of images in [0, 1]:
EDM2 feeds the VAE pixels in [0, 1], not its nominal [−1, 1] (NVlabs/edm2 issue #9).
img64: pixels p ∈ [0, 1] ↔ x = 2p − 1 ∈ [−1, 1].
"""

from __future__ import annotations

import torch
from torch import Tensor

RAW_MEAN = (5.81, 3.25, 0.12, -2.15)
RAW_STD = (4.17, 4.62, 3.71, 3.28)
FINAL_MEAN, FINAL_STD = 0.0, 0.5


def _scale_bias(x: Tensor) -> tuple[Tensor, Tensor]:
    scale = torch.tensor(FINAL_STD, dtype=torch.float32) / torch.tensor(RAW_STD, dtype=torch.float32)
    bias = torch.tensor(FINAL_MEAN, dtype=torch.float32) - torch.tensor(RAW_MEAN, dtype=torch.float32) * scale
    shape = (1, -1, 1, 1)
    return scale.reshape(shape).to(x.device, x.dtype), bias.reshape(shape).to(x.device, x.dtype)


def raw_to_normalized(raw: Tensor) -> Tensor:
    """Raw VAE latents [B, 4, H, W] → EDM2's normalised latents."""
    scale, bias = _scale_bias(raw)
    return raw * scale + bias


def normalized_to_raw(z: Tensor) -> Tensor:
    """EDM2's normalised latents → raw VAE latents (what the VAE decoder takes)."""
    scale, bias = _scale_bias(z)
    return (z - bias) / scale


def pixels_to_model(p: Tensor) -> Tensor:
    """Pixels in [0, 1] → img64 model space [−1, 1]."""
    return p * 2 - 1


def model_to_pixels(x: Tensor) -> Tensor:
    """img64 model output → pixels in [0, 1] (clamped)."""
    return ((x + 1) / 2).clamp(0, 1)


def vae_output_to_pixels(y: Tensor) -> Tensor:
    """The SD VAE decoder's output for an EDM2 latent → pixels in [0, 1] (clamped).

    EDM2 encoded images in [0, 1], so the decoder's output y already is the image; a decoder
    wrapper that maps y ↦ (y + 1)/2 (ComfyUI's VAE Decode) is undone by 2·(·) − 1.
    """
    return y.clamp(0, 1)
