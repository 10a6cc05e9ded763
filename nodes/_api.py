"""The one place that imports ComfyUI, so an API change is a one-line fix here.

Everything in ``nodes/`` reaches ComfyUI through the names below.
"""

import comfy.conds as conds  # noqa: F401
import comfy.latent_formats as latent_formats  # noqa: F401
import comfy.model_base as model_base  # noqa: F401
import comfy.model_management as model_management  # noqa: F401
import comfy.model_patcher as model_patcher  # noqa: F401
import comfy.model_sampling as model_sampling  # noqa: F401
import comfy.patcher_extension as patcher_extension  # noqa: F401
import comfy.sampler_helpers as sampler_helpers  # noqa: F401
import comfy.samplers as samplers  # noqa: F401
import comfy.supported_models_base as supported_models_base  # noqa: F401
import comfy.utils as comfy_utils  # noqa: F401
import folder_paths  # noqa: F401
from comfy_api.latest import ComfyExtension, io  # noqa: F401

ModelPatcher = model_patcher.ModelPatcher
CFGGuider = samplers.CFGGuider
