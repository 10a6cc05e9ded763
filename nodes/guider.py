"""``AutoguidanceGuider``: a GUIDER for ``SamplerCustomAdvanced`` (maths in nodes/step.py).

The main model D1 (edm2's ``net``) and the weaker guide D0 (edm2's ``gnet``) are both
ComfyUI model patchers; the guide rides along as an additional model of a clone of the main
patcher so ComfyUI's model management loads, partially loads and offloads both.
"""

from __future__ import annotations

from typing import Any

import torch

from ..guidance import Constant, Schedule
from ._api import CFGGuider, io, sampler_helpers, samplers
from .guide_model import attach_guide, evaluate_guide, guide_model_options, process_guide_conds
from .pair_checks import check_conditioning, check_pair
from .schedules import ScheduleType
from .shared_checkpoint import separate_guide
from .step import finish_step


class AutoguidanceCFGGuider(CFGGuider):
    """CFGGuider whose step is D1(c) + (w_cfg − 1)(D1(c) − D1(∅)) + (w_ag − 1)(D1(c) − D0(c))."""

    def __init__(self, main: Any, guide: Any, ag_schedule: Schedule, cfg_schedule: Schedule):
        super().__init__(attach_guide(main, guide))
        self.guide = guide
        self.ag_schedule = ag_schedule
        self.cfg_schedule = cfg_schedule
        self.guide_original_conds: list[dict] = []
        self.guide_calls = 0  # guide evaluations in the last run (read by tests and benchmarks)

    def set_conds(self, positive: list, negative: list | None = None, guide_positive: list | None = None) -> None:
        conds = {"positive": positive} if negative is None else {"positive": positive, "negative": negative}
        self.inner_set_conds(conds)
        self.guide_original_conds = sampler_helpers.convert_cond(guide_positive if guide_positive else positive)

    def inner_sample(self, noise, latent_image, device, sampler, sigmas, denoise_mask, callback, disable_pbar, seed):
        self.guide_conds = process_guide_conds(
            self.guide, self.guide_original_conds, noise, device, latent_image, denoise_mask, seed
        )
        self.guide_options = guide_model_options(self.guide, sigmas)
        self.guide_calls = 0
        return super().inner_sample(noise, latent_image, device, sampler, sigmas, denoise_mask, callback,
                                    disable_pbar, seed)

    def predict_noise(self, x: torch.Tensor, timestep: torch.Tensor, model_options: dict = {}, seed=None):  # noqa: B006 (ComfyUI's signature)
        w_ag = self.ag_schedule.weight(timestep).to(x.device)  # [B]
        w_cfg = self.cfg_schedule.weight(timestep).to(x.device)  # [B]
        positive, negative = self.conds.get("positive"), self.conds.get("negative")
        wants_uncond = bool((w_cfg != 1).any()) or model_options.get("disable_cfg1_optimization", False)
        if wants_uncond and negative is None and model_options.get("disable_cfg1_optimization", False):
            raise ValueError(
                "Autoguidance Guider: this sampler needs the unconditional pass (a negative prompt), "
                "but 'negative' is not connected. Connect a negative conditioning or pick another sampler."
            )
        uncond = negative if wants_uncond else None
        cond_pred, uncond_pred = samplers.calc_cond_batch(self.inner_model, [positive, uncond], x, timestep, model_options)
        guide_pred = None
        if bool((w_ag != 1).any()):
            self.guide_calls += 1
            guide_pred = evaluate_guide(self.guide, self.guide_conds, x, timestep, self.guide_options)
        return finish_step(self.inner_model, x, timestep, cond_pred, uncond_pred, guide_pred, w_cfg, w_ag, model_options, positive, uncond)


def cfg_schedule_for(cfg: float, cfg_schedule: Schedule | None) -> Schedule:
    """The CFG weight: a connected schedule, else the constant ``cfg`` widget."""
    return cfg_schedule if cfg_schedule is not None else Constant(cfg)


# ----------------------------------------------------------------------------
# The node.

GUIDER_NAME = "Autoguidance Guider"
MIX_TIP = ("For text-to-image the paper mixes both: pick a total weight w and a share α, then "
           "w_cfg = (1 − α)(w − 1) + 1 and w_ag = α(w − 1) + 1.")


def model_inputs() -> list:
    """The main/guide model sockets, shared with the model-patch node."""
    return [
        io.Model.Input("model", tooltip="The main model: the good one whose pictures you want."),
        io.Model.Input("guide_model", tooltip=(
            "The guide: a weaker version of the same model family (same latent space), e.g. one size "
            "smaller and trained ~1/16 as long, or the same checkpoint without your LoRA.")),
    ]


def w_input() -> io.Float.Input:
    return io.Float.Input("w", default=2.0, min=0.0, max=30.0, step=0.05, round=0.001, tooltip=(
        "Autoguidance weight: 1 = off (the guide is never run); the paper's best is about 2. Higher pushes "
        "away from the guide's mistakes: cleaner, more typical pictures, less variety. " + MIX_TIP))


def schedule_input(name: str, what: str) -> Any:
    return ScheduleType.Input(name, optional=True, tooltip=what)


class AutoguidanceGuider(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="AutoguidanceGuider", display_name=GUIDER_NAME, category="sampling/custom_sampling/guiders",
            description=("Autoguidance (Karras et al. 2024): guide the main model with a weaker version of itself, "
                         "optionally together with CFG. Plug into SamplerCustomAdvanced."),
            inputs=[
                *model_inputs(),
                io.Conditioning.Input("positive", tooltip="What you want (the prompt or class)."),
                io.Conditioning.Input("negative", optional=True, tooltip=(
                    "Optional: enables the CFG term (what to steer away from). Leave empty for pure autoguidance.")),
                io.Conditioning.Input("guide_positive", optional=True, tooltip=(
                    "Optional: the guide's own conditioning, for a guide that needs a different text encoding. "
                    "Default: the same 'positive'.")),
                w_input(),
                io.Float.Input("cfg", default=1.0, min=0.0, max=100.0, step=0.1, round=0.01, tooltip=(
                    "CFG weight with the negative prompt: 1 = off. Typical 3-8 for SD1.5/SDXL. " + MIX_TIP)),
                schedule_input("schedule", "Optional w(σ) for the autoguidance term; replaces 'w' when connected. "
                               "The paper found a constant w best: an interval reduced autoguidance's benefit."),
                schedule_input("cfg_schedule", "Optional w(σ) for the CFG term; replaces 'cfg' when connected. "
                               "An interval such as (0.28, 5.42] is what helps CFG most."),
            ],
            outputs=[io.Guider.Output()],
        )

    @classmethod
    def execute(cls, model, guide_model, positive, w, cfg, negative=None, guide_positive=None, schedule=None,
                cfg_schedule=None) -> io.NodeOutput:
        check_pair(GUIDER_NAME, model, guide_model)
        for socket, cond, target in (("positive", positive, model), ("negative", negative, model),
                                     ("guide_positive", guide_positive, guide_model)):
            check_conditioning(GUIDER_NAME, socket, target, cond)
        guide = separate_guide(GUIDER_NAME, model, guide_model)
        ag = schedule if schedule is not None else Constant(w)
        guider = AutoguidanceCFGGuider(model, guide, ag, cfg_schedule_for(cfg, cfg_schedule))
        guider.set_conds(positive, negative, guide_positive)
        return io.NodeOutput(guider)
