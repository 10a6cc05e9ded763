"""Every node class of the pack, in menu order."""

from __future__ import annotations

from .conditioning import EDM2ClassConditioning
from .guider import AutoGuidanceGuider
from .loaders import EDM2Loader
from .model_patch import AutoGuidanceModelPatch
from .pixels import EDM2EmptyLatent, EDM2PixelsToImage, EDM2VAEDecode
from .schedules import SCHEDULE_NODES

NODE_CLASSES: tuple = (
    AutoGuidanceGuider, AutoGuidanceModelPatch, *SCHEDULE_NODES,
    EDM2Loader, EDM2ClassConditioning, EDM2EmptyLatent, EDM2PixelsToImage, EDM2VAEDecode,
)
