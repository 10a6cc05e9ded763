"""The pack's ``ComfyExtension`` and the one list of its node classes, in menu order."""

from __future__ import annotations

from ._api import ComfyExtension, io
from .edm2_conditioning import AutoguidanceEDM2ClassConditioning
from .edm2_images import AutoguidanceEDM2PixelsToImage, AutoguidanceEDM2VAEDecode
from .edm2_latent import AutoguidanceEDM2EmptyLatent
from .edm2_loader import AutoguidanceEDM2Loader
from .guider import AutoguidanceGuider
from .inspector import AutoguidancePairInspector
from .model_patch import AutoguidanceModelPatch
from .schedules import SCHEDULE_NODES

NODE_CLASSES: tuple[type[io.ComfyNode], ...] = (
    AutoguidanceGuider,
    AutoguidanceModelPatch,
    *SCHEDULE_NODES,
    AutoguidanceEDM2Loader,
    AutoguidanceEDM2ClassConditioning,
    AutoguidanceEDM2EmptyLatent,
    AutoguidanceEDM2PixelsToImage,
    AutoguidanceEDM2VAEDecode,
    AutoguidancePairInspector,
)


class AutoguidanceExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return list(NODE_CLASSES)
