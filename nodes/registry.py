"""Every node class of the pack, in menu order."""

from __future__ import annotations

from .guider import AutoGuidanceGuider
from .model_patch import AutoGuidanceModelPatch
from .schedules import SCHEDULE_NODES

NODE_CLASSES: tuple = (AutoGuidanceGuider, AutoGuidanceModelPatch, *SCHEDULE_NODES)
