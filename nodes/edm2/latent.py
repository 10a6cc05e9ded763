"""``AutoguidanceEDM2EmptyLatent``: a blank start of the right shape for an EDM2 model."""

from __future__ import annotations

import torch

from .. import node_ids
from .._api import intermediate_device, io


class AutoguidanceEDM2EmptyLatent(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_ids.EDM2_EMPTY_LATENT,
            display_name="EDM2 Empty Latent",
            category="sampling/autoguidance/edm2",
            description=(
                "A blank start for EDM2 sampling: 4×64×64 latents for img512 models, 3×64×64 pixels for "
                "img64 models, 1×16×16 for the bundled digits."
            ),
            inputs=[
                io.Int.Input(
                    "channels",
                    default=4,
                    min=1,
                    max=16,
                    tooltip="4 for latent models, 3 for RGB pixel models, 1 for the bundled digits.",
                ),
                io.Int.Input(
                    "size",
                    default=64,
                    min=4,
                    max=512,
                    step=4,
                    tooltip=(
                        "Side of the square model input: 64 for EDM2 img512 (512/8) and img64, "
                        "16 for the digits."
                    ),
                ),
                io.Int.Input("batch_size", default=1, min=1, max=256, tooltip="How many images at once."),
            ],
            outputs=[io.Latent.Output()],
        )

    @classmethod
    def execute(cls, channels: int, size: int, batch_size: int) -> io.NodeOutput:
        device = intermediate_device()
        return io.NodeOutput({"samples": torch.zeros(batch_size, channels, size, size, device=device)})
