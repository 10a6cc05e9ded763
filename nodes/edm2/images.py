"""EDM2 samples → IMAGE: pixel-space models directly, img512 latents through the SD VAE."""

from __future__ import annotations

from ...edm2 import latents as edm2_latents
from .. import node_ids
from .._api import io


class AutoguidanceEDM2PixelsToImage(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_ids.EDM2_PIXELS_TO_IMAGE,
            display_name="EDM2 Pixels to Image",
            category="sampling/autoguidance/edm2",
            description=(
                "Turns the output of a pixel-space EDM2 model (RGB or grey in [-1, 1]) into an IMAGE to save "
                "or preview. Latent models (img512) use the stock VAE Decode instead."
            ),
            inputs=[
                io.Latent.Input("samples", tooltip="Samples from a pixel-space (img64 or digits) EDM2 model.")
            ],
            outputs=[io.Image.Output()],
        )

    @classmethod
    def execute(cls, samples: dict) -> io.NodeOutput:
        x = samples["samples"]
        if x.ndim != 4 or x.shape[1] not in (1, 3):
            raise ValueError(
                "EDM2 Pixels to Image: expected pixel samples [B, 3, H, W] or [B, 1, H, W] from a "
                f"pixel-space model (got shape {tuple(x.shape)}); for latent models use VAE Decode"
            )
        image = edm2_latents.model_to_pixels(x.float())
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
            node_id=node_ids.EDM2_VAE_DECODE,
            display_name="EDM2 VAE Decode",
            category="sampling/autoguidance/edm2",
            description=(
                "VAE Decode for EDM2 img512 models (use the sd-vae-ft-mse VAE). The stock VAE Decode works "
                "too but gives washed-out colours, because EDM2 was trained on the VAE with pixels in [0, 1]."
            ),
            inputs=[
                io.Latent.Input("samples", tooltip="Samples from an EDM2 img512 model."),
                io.Vae.Input(
                    "vae", tooltip="The sd-vae-ft-mse VAE (vae-ft-mse-840000-ema-pruned.safetensors)."
                ),
            ],
            outputs=[io.Image.Output()],
        )

    @classmethod
    def execute(cls, samples: dict, vae) -> io.NodeOutput:
        image = vae.decode(samples["samples"])  # [B, H, W, 3] = clamp((y + 1)/2, 0, 1)
        return io.NodeOutput(edm2_latents.vae_output_to_pixels(image * 2 - 1))
