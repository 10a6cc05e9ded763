"""The pack's ``ComfyExtension`` and the one list of its node classes, in menu order."""

from __future__ import annotations

from ._api import ComfyExtension, io
from .edm2.conditioning import AutoguidanceEDM2ClassConditioning
from .edm2.images import AutoguidanceEDM2PixelsToImage, AutoguidanceEDM2VAEDecode
from .edm2.latent import AutoguidanceEDM2EmptyLatent
from .edm2.loader import AutoguidanceEDM2Loader
from .guider import AutoguidanceGuider
from .inspector.node import AutoguidancePairInspector
from .model_patch import AutoguidanceModelPatch
from .pair.device_node import AutoguidanceModelDevice
from .schedules import SCHEDULE_NODES

NODE_CLASSES: tuple[type[io.ComfyNode], ...] = (
    AutoguidanceGuider,
    AutoguidanceModelPatch,
    *SCHEDULE_NODES.values(),
    AutoguidanceEDM2Loader,
    AutoguidanceEDM2ClassConditioning,
    AutoguidanceEDM2EmptyLatent,
    AutoguidanceEDM2PixelsToImage,
    AutoguidanceEDM2VAEDecode,
    AutoguidancePairInspector,
    AutoguidanceModelDevice,
)


class AutoguidanceExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return list(NODE_CLASSES)
