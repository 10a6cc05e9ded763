"""Pixel-space EDM2 (img64, the bundled digits): an empty 'latent' of the right shape and samples → IMAGE."""

from __future__ import annotations

import torch

from ._api import io, model_management


class AutoguidanceEDM2EmptyLatent(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="AutoguidanceEDM2EmptyLatent", display_name="EDM2 Empty Latent", category="sampling/autoguidance/edm2",
            description="A blank start for EDM2 sampling: 4×64×64 latents for img512 models, 3×64×64 pixels for "
                        "img64 models, 1×16×16 for the bundled digits.",
            inputs=[
                io.Int.Input("channels", default=4, min=1, max=16,
                             tooltip="4 for latent models, 3 for RGB pixel models, 1 for the bundled digits."),
                io.Int.Input("size", default=64, min=4, max=512, step=4,
                             tooltip="Side of the square model input: 64 for EDM2 img512 (512/8) and img64, 16 for the digits."),
                io.Int.Input("batch_size", default=1, min=1, max=256, tooltip="How many images at once."),
            ],
            outputs=[io.Latent.Output()],
        )

    @classmethod
    def execute(cls, channels: int, size: int, batch_size: int) -> io.NodeOutput:
        device = model_management.intermediate_device()
        return io.NodeOutput({"samples": torch.zeros(batch_size, channels, size, size, device=device)})


class AutoguidanceEDM2PixelsToImage(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="AutoguidanceEDM2PixelsToImage", display_name="EDM2 Pixels to Image", category="sampling/autoguidance/edm2",
            description="Turns the output of a pixel-space EDM2 model (RGB or grey in [-1, 1]) into an IMAGE to save or "
                        "preview. Latent models (img512) use the stock VAE Decode instead.",
            inputs=[io.Latent.Input("samples", tooltip="Samples from a pixel-space (img64 or digits) EDM2 model.")],
            outputs=[io.Image.Output()],
        )

    @classmethod
    def execute(cls, samples: dict) -> io.NodeOutput:
        x = samples["samples"]
        if x.ndim != 4 or x.shape[1] not in (1, 3):
            raise ValueError(f"EDM2 Pixels to Image: expected pixel samples [B, 3, H, W] or [B, 1, H, W] from a pixel-space model "
                             f"(got shape {tuple(x.shape)}); for latent models use VAE Decode")
        image = ((x.float() + 1) / 2).clamp(0, 1)
        if image.shape[1] == 1:
            image = image.expand(-1, 3, -1, -1)
        return io.NodeOutput(image.permute(0, 2, 3, 1).contiguous())  # [B, H, W, 3]


class AutoguidanceEDM2VAEDecode(io.ComfyNode):
    """VAE Decode for EDM2 img512 latents.

    EDM2 trained on SD-VAE latents of images in [0, 1] (not the VAE's nominal [-1, 1]; see
    NVlabs/edm2 issue #9), so the decoder's output already is the image in [0, 1]. ComfyUI's
    stock VAE Decode maps the output y ↦ (y + 1)/2, which washes EDM2 pictures out; this node
    inverts that map exactly: image = clamp(2·stock − 1, 0, 1) = clamp(y, 0, 1).
    """

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="AutoguidanceEDM2VAEDecode", display_name="EDM2 VAE Decode", category="sampling/autoguidance/edm2",
            description="VAE Decode for EDM2 img512 models (use the sd-vae-ft-mse VAE). The stock VAE Decode works "
                        "too but gives washed-out colours, because EDM2 was trained on the VAE with pixels in [0, 1].",
            inputs=[io.Latent.Input("samples", tooltip="Samples from an EDM2 img512 model."),
                    io.Vae.Input("vae", tooltip="The sd-vae-ft-mse VAE (vae-ft-mse-840000-ema-pruned.safetensors).")],
            outputs=[io.Image.Output()],
        )

    @classmethod
    def execute(cls, samples: dict, vae) -> io.NodeOutput:
        image = vae.decode(samples["samples"])  # [B, H, W, 3] = clamp((y + 1)/2, 0, 1)
        return io.NodeOutput((image * 2 - 1).clamp(0, 1))
