"""Every node id of the pack: the one list (workflows store these ids forever).

No ComfyUI import, so the core tests and the tools can read it. The front end keeps no copy: it
finds the nodes it plots in their schemas (``plotRole`` in ``web/schedule_math.js``), and
``tests/web/test_node_ids.py`` checks that it finds these and that the extension registers them.
"""

from __future__ import annotations

GUIDER = "AutoguidanceGuider"
MODEL_PATCH = "AutoguidanceModelPatch"

SCHEDULE_CONSTANT = "AutoguidanceScheduleConstant"
SCHEDULE_INTERVAL = "AutoguidanceScheduleInterval"
SCHEDULE_RAMP = "AutoguidanceScheduleRamp"
SCHEDULE_KNOTS = "AutoguidanceScheduleKnots"
SCHEDULE_LIMIT = "AutoguidanceScheduleLimit"

PAIR_INSPECTOR = "AutoguidancePairInspector"
MODEL_DEVICE = "AutoguidanceModelDevice"

EDM2_LOADER = "AutoguidanceEDM2Loader"
EDM2_CLASS_CONDITIONING = "AutoguidanceEDM2ClassConditioning"
EDM2_EMPTY_LATENT = "AutoguidanceEDM2EmptyLatent"
EDM2_PIXELS_TO_IMAGE = "AutoguidanceEDM2PixelsToImage"
EDM2_VAE_DECODE = "AutoguidanceEDM2VAEDecode"

GUIDED_NODE_IDS: tuple[str, ...] = (GUIDER, MODEL_PATCH)
"""Nodes that apply a schedule (and draw it with the sampler's evaluations)."""

SCHEDULE_NODE_IDS: tuple[str, ...] = (
    SCHEDULE_CONSTANT,
    SCHEDULE_INTERVAL,
    SCHEDULE_RAMP,
    SCHEDULE_KNOTS,
    SCHEDULE_LIMIT,
)
"""Nodes whose widgets define a ``GUIDANCE_SCHEDULE`` (see ``schedule_widgets``)."""

EDM2_NODE_IDS: tuple[str, ...] = (
    EDM2_LOADER,
    EDM2_CLASS_CONDITIONING,
    EDM2_EMPTY_LATENT,
    EDM2_PIXELS_TO_IMAGE,
    EDM2_VAE_DECODE,
)

ALL_NODE_IDS: tuple[str, ...] = (
    *GUIDED_NODE_IDS,
    *SCHEDULE_NODE_IDS,
    PAIR_INSPECTOR,
    MODEL_DEVICE,
    *EDM2_NODE_IDS,
)
