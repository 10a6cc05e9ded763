"""``AutoguidanceModelPatch``: autoguidance for the plain KSampler (and detailers).

The same pre-CFG hook as the guider (nodes/guide_term.py) shifts the main model's
conditional *and* unconditional predictions by Δ = (w(σ) − 1)·(D1(c) − D0(c)); ComfyUI's CFG
then gives D1(∅) + cfg·(D1(c) − D1(∅)) + Δ, the guider's hybrid, with the KSampler's own cfg
and negative prompt as the CFG term. At the start of each run the guide's conds are made from
``guide_positive`` (or the sampler's positive prompt) and processed against the guide's own
model, as the guider does.
"""

from __future__ import annotations

from typing import Any

from ..guidance import Constant, Schedule
from . import node_ids
from ._api import io
from .guide_term import GuideTerm, attach_guide
from .pair.checks import check_conditioning, check_pair, check_text_width
from .pair.shared_weights import share_weights
from .sockets import model_inputs, node_id, schedule_input, w_input

PATCH_NAME = "Autoguidance (KSampler patch)"


def patch_model(
    main: Any, guide: Any, schedule: Schedule, node: str | None = None, guide_positive: list | None = None
) -> Any:
    """A clone of ``main`` that loads ``guide`` with it and applies autoguidance each step."""
    return attach_guide(main, GuideTerm(guide, schedule, guide_positive, node))


class AutoguidanceModelPatch(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_ids.MODEL_PATCH,
            display_name=PATCH_NAME,
            category="sampling/autoguidance",
            description=(
                "Adds autoguidance to a MODEL for the plain KSampler (and detailers). The KSampler's cfg "
                "and negative prompt keep working as the CFG term: together they are the paper's hybrid."
            ),
            inputs=[
                *model_inputs(),
                io.Conditioning.Input(
                    "guide_positive",
                    optional=True,
                    tooltip=(
                        "Optional: the guide's own conditioning, for a guide with another text encoder "
                        "(e.g. Flux.2 Klein 4B guiding Klein 9B). Default: the KSampler's positive."
                    ),
                ),
                w_input(),
                schedule_input("schedule", "Optional w(σ) for autoguidance; replaces 'w' when connected."),
            ],
            outputs=[io.Model.Output()],
            hidden=[io.Hidden.unique_id],
        )

    @classmethod
    def execute(cls, model, guide_model, w, schedule=None, guide_positive=None) -> io.NodeOutput:
        check_pair(PATCH_NAME, model, guide_model)
        check_conditioning(PATCH_NAME, "guide_positive", guide_model, guide_positive)
        check_text_width(PATCH_NAME, model, guide_model, guide_positive)
        main, guide = share_weights(PATCH_NAME, model, guide_model)
        schedule = schedule if schedule is not None else Constant(w)
        return io.NodeOutput(patch_model(main, guide, schedule, node_id(cls), guide_positive))
