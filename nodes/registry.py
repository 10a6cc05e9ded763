"""Every node class of the pack, in menu order."""

from __future__ import annotations

from .conditioning import AutoguidanceEDM2ClassConditioning
from .guider import AutoguidanceGuider
from .loaders import AutoguidanceEDM2Loader
from .model_patch import AutoguidanceModelPatch
from .pixels import AutoguidanceEDM2EmptyLatent, AutoguidanceEDM2PixelsToImage, AutoguidanceEDM2VAEDecode
from .schedules import SCHEDULE_NODES

NODE_CLASSES: tuple = (
    AutoguidanceGuider, AutoguidanceModelPatch, *SCHEDULE_NODES,
    AutoguidanceEDM2Loader, AutoguidanceEDM2ClassConditioning, AutoguidanceEDM2EmptyLatent, AutoguidanceEDM2PixelsToImage, AutoguidanceEDM2VAEDecode,
)
