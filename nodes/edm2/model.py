"""EDM2 networks as ComfyUI models: latent formats, model config, ``BaseModel`` subclass.

ComfyUI's ``ModelSamplingContinuousEDM`` + ``model_sampling.EDM`` compute exactly EDM2's
preconditioning (c_in = 1/√(σ² + σ_data²), c_noise = ¼·log σ, c_skip, c_out with
σ_data = 0.5), so the raw EDM2 UNet F plugs in behind them:
D(x; σ) = c_skip·x + c_out·F(c_in·x; c_noise, labels).

Class labels travel in the conditioning as ``edm2_labels`` [1, label_dim] and reach the UNet
as the ``y`` extra cond.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from ...edm2 import EDM2
from ...edm2 import latents as edm2_latents
from ...edm2 import sampling as edm2_sampling
from .._api import (
    BASE,
    EDM,
    BaseModel,
    CONDRegular,
    LatentFormat,
    ModelPatcher,
    ModelSamplingContinuousEDM,
    ModelType,
    get_torch_device,
    unet_offload_device,
)

LABELS_KEY = "edm2_labels"
SAMPLING = {
    "sigma_min": edm2_sampling.SIGMA_MIN,
    "sigma_max": edm2_sampling.SIGMA_MAX,
    "sigma_data": edm2_sampling.SIGMA_DATA,
}


class EDM2Latent(LatentFormat):
    """EDM2 img512: SD VAE latents normalised per channel to mean 0, std 0.5.

    ComfyUI's VAE encode gives raw (unscaled) SD-VAE latents; ``process_in`` maps them to
    EDM2's space, ``process_out`` maps samples back so the stock VAE Decode works.
    """

    latent_channels = 4
    scale_factor = 1.0

    def process_in(self, latent: torch.Tensor) -> torch.Tensor:
        return edm2_latents.raw_to_normalized(latent)

    def process_out(self, latent: torch.Tensor) -> torch.Tensor:
        return edm2_latents.normalized_to_raw(latent)


class EDM2Pixels(LatentFormat):
    """Pixel-space EDM2 (img64, the bundled digits): the 'latent' is the image in [-1, 1] itself."""

    latent_channels = 3
    scale_factor = 1.0

    def __init__(self, channels: int = 3):
        self.latent_channels = channels


class EDM2Config(BASE):
    """A ComfyUI model config for one EDM2 network (the UNet is built by our own code)."""

    unet_config: ClassVar[dict[str, Any]] = {"disable_unet_model_creation": True}
    unet_extra_config: ClassVar[dict[str, Any]] = {}
    sampling_settings = SAMPLING
    latent_format = EDM2Latent
    memory_usage_factor = 1.0
    supported_inference_dtypes: ClassVar[list[torch.dtype]] = [torch.float16, torch.bfloat16, torch.float32]

    def __init__(self, pixel_space: bool, channels: int = 4):
        super().__init__(dict(self.unet_config))
        if pixel_space:
            self.latent_format = EDM2Pixels(channels)


class EDM2UNet(torch.nn.Module):
    """Calls the raw EDM2 UNet F(x_in, c_noise, labels) the way ComfyUI calls a diffusion model."""

    def __init__(self, net: EDM2):
        super().__init__()
        self.net = net

    @property
    def dtype(self) -> torch.dtype:
        return self.net.compute_dtype

    def forward(self, x: torch.Tensor, timesteps: torch.Tensor, y: torch.Tensor | None = None, **_: Any):
        labels = self.net.labels_or_zeros(y, x.device)  # float32 embeddings, as the official network
        return self.net.unet(x.to(self.dtype), timesteps.float(), labels)  # [B, C, H, W]


class EDMNoiseScaling(EDM):
    """EDM's x_σ = x0 + σ·n at every σ, the first step included (EDM2's ``edm_sampler`` starts from
    σ_max·n); ComfyUI's EPS family starts a full denoise from n·√(1 + σ_max²) instead."""

    def noise_scaling(
        self, sigma: torch.Tensor, noise: torch.Tensor, latent_image: torch.Tensor, max_denoise: bool = False
    ) -> torch.Tensor:
        return latent_image + noise * sigma.reshape(sigma.shape[:1] + (1,) * (noise.ndim - 1))


class EDM2Sampling(ModelSamplingContinuousEDM, EDMNoiseScaling):
    """ComfyUI's continuous EDM σ schedule (σ ∈ [0.002, 80], c_noise = ¼·log σ) with EDM's noise scaling."""


class EDM2Model(BaseModel):
    """ComfyUI ``BaseModel`` for EDM2 (model type EDM, σ ∈ [0.002, 80], σ_data = 0.5)."""

    def __init__(self, net: EDM2, pixel_space: bool, device: Any = None):
        config = EDM2Config(pixel_space, int(net.img_channels))
        config.set_inference_dtype(next(net.parameters()).dtype, None)
        super().__init__(config, model_type=ModelType.EDM, device=device)
        self.model_sampling = EDM2Sampling(config)
        self.diffusion_model = EDM2UNet(net)
        self.label_dim = int(net.label_dim)

    def extra_conds(self, **kwargs: Any) -> dict:
        labels = kwargs.get(LABELS_KEY)
        if labels is None or not self.label_dim:
            return {}
        return {"y": CONDRegular(labels)}

    def accepts_conditioning(self, conditioning: list) -> str | None:
        """Why ``conditioning`` cannot drive this model (None when it can)."""
        for _, meta in conditioning:
            labels = meta.get(LABELS_KEY)
            if labels is None:
                return (
                    "EDM2 models take a class, not text. Use 'EDM2 Class Conditioning' instead of a text "
                    "encoder (CLIP Text Encode) for this input."
                )
            if self.label_dim and labels.shape[-1] != self.label_dim:
                return (
                    f"class vector has {labels.shape[-1]} entries but the model has {self.label_dim} classes"
                )
        return None


def edm2_patcher(net: EDM2, pixel_space: bool) -> Any:
    """Wrap one EDM2 network in a ComfyUI ``ModelPatcher`` managed by its model management."""
    offload = unet_offload_device()
    model = EDM2Model(net, pixel_space, device=offload)
    return ModelPatcher(model, load_device=get_torch_device(), offload_device=offload)
