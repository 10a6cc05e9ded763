"""Import a real ComfyUI in process (tier 2) and build tiny models through its own classes."""

from __future__ import annotations

import torch

from ..conftest import harness

import_comfy = harness.import_comfy  # real ComfyUI on sys.path (never our repo root), CPU
edm2_with_gains = harness.edm2_with_gains
edm2_class_cond = harness.edm2_class_cond


def tiny_sd15(
    seed: int, model_channels: int = 32, context_dim: int = 32, channels: int = 4, latent_format=None
):
    """A small SD1.5-style UNet built by ComfyUI's own SD15 config/BaseModel, in a ModelPatcher."""
    import comfy.model_base
    import comfy.model_patcher
    import comfy.supported_models

    unet_config = {
        "context_dim": context_dim,
        "model_channels": model_channels,
        "use_linear_in_transformer": False,
        "adm_in_channels": None,
        "use_temporal_attention": False,
        "in_channels": channels,
        "out_channels": channels,
        "num_res_blocks": [1, 1],
        "channel_mult": [1, 2],
        "transformer_depth": [1, 1],
        "transformer_depth_output": [1, 1, 1, 1],
        "transformer_depth_middle": 1,
        "use_spatial_transformer": True,
        "legacy": False,
        "image_size": 32,
        "num_heads": 4,
        "num_head_channels": -1,
        "dtype": torch.float32,
    }
    config = comfy.supported_models.SD15(unet_config)
    config.set_inference_dtype(torch.float32, None)
    torch.manual_seed(seed)
    model = comfy.model_base.BaseModel(config, device="cpu")
    with torch.no_grad():  # ComfyUI skips weight init (weights come from files): fill every one
        for name, p in model.diffusion_model.named_parameters():
            p.copy_(
                1.0 + 0.1 * torch.randn_like(p)
                if "norm" in name and name.endswith("weight")
                else 0.1 * torch.randn_like(p)
            )
    model.eval()
    if latent_format is not None:  # e.g. a 16-channel latent space for mismatch tests
        model.latent_format = latent_format
    return comfy.model_patcher.ModelPatcher(
        model, load_device=torch.device("cpu"), offload_device=torch.device("cpu")
    )


def text_cond(seed: int, tokens: int = 8, context_dim: int = 32) -> list:
    """Hand-made CONDITIONING: one cross-attention tensor [1, tokens, context_dim]."""
    g = torch.Generator().manual_seed(seed)
    return [[torch.randn(1, tokens, context_dim, generator=g), {}]]


def run_guider(guider, sigmas, seed=0, sampler="heun"):
    import comfy.samplers

    noise = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(seed))
    latent = torch.zeros_like(noise)
    return guider.sample(
        noise, latent, comfy.samplers.sampler_object(sampler), sigmas, seed=seed, disable_pbar=True
    )


def record_steps(guider):
    """Wrap the guider's predict_noise to keep every (x, σ, result)."""
    steps, original = [], guider.predict_noise

    def recorded(x, timestep, model_options={}, seed=None):  # noqa: B006
        out = original(x, timestep, model_options=model_options, seed=seed)
        steps.append((x.clone(), timestep.clone(), out.clone()))
        return out

    guider.predict_noise = recorded
    return steps
