"""``AutoguidanceModelPatch``: autoguidance for the plain KSampler (and detailers).

A ``sampler_pre_cfg_function`` shifts the main model's conditional *and* unconditional
predictions by the same autoguidance term Δ = (w − 1)·(D1(c) − D0(c)); ComfyUI's CFG then
gives D1(∅) + cfg·(D1(c) − D1(∅)) + Δ, i.e. the hybrid of the guider, with the KSampler's own
cfg and negative prompt as the CFG term. The guide reuses the main model's processed
positive conds, so it must be of the same family (checked before sampling).
"""

from __future__ import annotations

from typing import Any

from ..guidance import Constant, Schedule, guidance_term
from ._api import io
from .guide_model import attach_guide, evaluate_guide, guide_model_options
from .guider import model_inputs, schedule_input, w_input
from .pair_checks import check_pair
from .shared_checkpoint import separate_guide

PATCH_NAME = "Autoguidance (KSampler patch)"


def autoguidance_pre_cfg(guide: Any, schedule: Schedule):
    """The pre-CFG hook adding Δ to every prediction of the step (a no-op where w(σ) = 1)."""

    def pre_cfg(args: dict) -> list:
        out, sigma, x = args["conds_out"], args["sigma"], args["input"]
        w = schedule.weight(sigma).to(x.device)  # [B]
        if not bool((w != 1).any()):
            return out
        options = args["model_options"]
        sigmas = options.get("transformer_options", {}).get("sample_sigmas")
        guide_pred = evaluate_guide(guide, args["conds"][0], x, sigma, guide_model_options(guide, sigmas))
        delta = guidance_term(out[0].float(), guide_pred.float(), w).to(out[0].dtype)
        return [o + delta for o in out]

    return pre_cfg


def patch_model(main: Any, guide: Any, schedule: Schedule) -> Any:
    """A clone of ``main`` that loads ``guide`` with it and applies autoguidance each step."""
    patched = attach_guide(main, guide)
    patched.set_model_sampler_pre_cfg_function(autoguidance_pre_cfg(guide, schedule))
    return patched


class AutoguidanceModelPatch(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="AutoguidanceModelPatch", display_name=PATCH_NAME, category="sampling/autoguidance",
            description=("Adds autoguidance to a MODEL for the plain KSampler (and detailers). The KSampler's cfg "
                         "and negative prompt keep working as the CFG term: together they are the paper's hybrid."),
            inputs=[*model_inputs(), w_input(),
                    schedule_input("schedule", "Optional w(σ) for autoguidance; replaces 'w' when connected.")],
            outputs=[io.Model.Output()],
        )

    @classmethod
    def execute(cls, model, guide_model, w, schedule=None) -> io.NodeOutput:
        check_pair(PATCH_NAME, model, guide_model)
        guide = separate_guide(PATCH_NAME, model, guide_model)
        return io.NodeOutput(patch_model(model, guide, schedule if schedule is not None else Constant(w)))
