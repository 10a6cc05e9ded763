"""``AutoguidanceGuider``: a GUIDER for ``SamplerCustomAdvanced``.

The main model D1 (edm2's ``net``) and the weaker guide D0 (edm2's ``gnet``) are both
ComfyUI model patchers; the guide rides along as an additional model of a clone of the main
patcher so ComfyUI's model management loads, partially loads and offloads both. Each step is
ComfyUI's own CFG step on that clone, whose pre-CFG hook adds the autoguidance term
(nodes/guide_term.py), exactly as the KSampler patch does:

    D = D1(∅) + w_cfg(σ)·(D1(c) − D1(∅)) + (w_ag(σ) − 1)·(D1(c) − D0(c))

Core's CFG Override on the main model sets ``guider.cfg`` for the steps in its window: there it
replaces w_cfg(σ) (``cfg`` or ``cfg_schedule``), as on every core guider (:class:`FromSchedule`).
"""

from __future__ import annotations

from typing import Any

import torch

from ..guidance import Constant, Schedule
from . import _api, node_ids
from ._api import CFGGuider, io
from .guide_term import GuideTerm, attach_guide, step_weight
from .pair.checks import check_conditioning, check_pair, check_text_width
from .pair.shared_weights import share_weights
from .sockets import MIX_TIP, model_inputs, node_id, schedule_input, w_input


class FromSchedule(float):
    """``guider.cfg`` while the CFG weight comes from the node's ``cfg`` / ``cfg_schedule``: a float
    (the ``cfg`` widget's value) marked as ours. A plain number assigned to ``guider.cfg`` for a
    step (core's CFG Override, or ``set_cfg``) replaces the schedule for that step, exactly as it
    replaces the cfg of core's guiders."""


class AutoguidanceCFGGuider(CFGGuider):
    """CFGGuider whose step is D1(c) + (w_cfg − 1)(D1(c) − D1(∅)) + (w_ag − 1)(D1(c) − D0(c))."""

    def __init__(self, main: Any, term: GuideTerm, cfg_schedule: Schedule, cfg: float = 1.0):
        self.term = term
        super().__init__(attach_guide(main, term))
        self.guide = term.guide
        self.cfg_schedule = cfg_schedule
        self.cfg = FromSchedule(cfg)

    def step_cfg(self, timestep: torch.Tensor) -> float:
        """This step's CFG weight: ``guider.cfg`` where something overrode it, else w_cfg(σ)."""
        if not isinstance(self.cfg, FromSchedule):
            return float(self.cfg)
        cfg = step_weight(self.cfg_schedule, self.inner_model, timestep)  # [B], equal across the batch
        return float(cfg.reshape(-1)[0])

    @property
    def guide_calls(self) -> int:
        """Guide evaluations in the last run (read by tests and benchmarks)."""
        return self.term.calls

    def set_conds(self, positive: list, negative: list | None = None) -> None:
        conds = {"positive": positive} if negative is None else {"positive": positive, "negative": negative}
        self.inner_set_conds(conds)

    def predict_noise(
        self,
        x: torch.Tensor,
        timestep: torch.Tensor,
        model_options: dict = {},  # noqa: B006 (ComfyUI's signature)
        seed=None,
        *args: Any,
        **kwargs: Any,
    ) -> torch.Tensor:
        return _api.sampling_function(
            self.inner_model,
            x,
            timestep,
            self.conds.get("negative"),
            self.conds.get("positive"),
            self.step_cfg(timestep),
            model_options,
            seed,
        )


def check_cfg_needs_negative(cfg: float, negative: Any, cfg_schedule: Schedule | None) -> None:
    """A CFG term (cfg ≠ 1 or a cfg_schedule) needs the unconditional pass: refuse it without 'negative'."""
    if negative is None and (cfg != 1.0 or cfg_schedule is not None):
        what = "a cfg_schedule is connected" if cfg_schedule is not None else f"cfg is {cfg:g}"
        raise ValueError(
            f"{GUIDER_NAME}: {what} but 'negative' is not connected, so there is no CFG term to apply. "
            "Connect a negative conditioning (an empty prompt works), "
            "or set cfg to 1 and disconnect cfg_schedule."
        )


def cfg_schedule_for(cfg: float, cfg_schedule: Schedule | None) -> Schedule:
    """The CFG weight: a connected schedule, else the constant ``cfg`` widget."""
    return cfg_schedule if cfg_schedule is not None else Constant(cfg)


# ----------------------------------------------------------------------------
# The node.

GUIDER_NAME = "Autoguidance Guider"


def guider_inputs() -> list:
    """The guider's sockets and widgets, in the order workflows store them."""
    return [
        *model_inputs(),
        io.Conditioning.Input("positive", tooltip="What you want (the prompt or class)."),
        io.Conditioning.Input(
            "negative",
            optional=True,
            tooltip=(
                "Optional: enables the CFG term (what to steer away from). Leave empty for pure autoguidance."
            ),
        ),
        io.Conditioning.Input(
            "guide_positive",
            optional=True,
            tooltip=(
                "Optional: the guide's own conditioning, for a guide that needs a different "
                "text encoding. Default: the same 'positive'."
            ),
        ),
        w_input(),
        io.Float.Input(
            "cfg",
            default=1.0,
            min=0.0,
            max=100.0,
            step=0.1,
            round=0.01,
            tooltip=(
                "CFG weight with the negative prompt: 1 = off; any other value needs "
                "'negative' connected. Typical 3-8 for SD1.5/SDXL. " + MIX_TIP
            ),
        ),
        schedule_input(
            "schedule",
            "Optional w(σ) for the autoguidance term; replaces 'w' when connected. "
            "The paper found a constant w best: an interval reduced autoguidance's benefit.",
        ),
        schedule_input(
            "cfg_schedule",
            "Optional w(σ) for the CFG term; replaces 'cfg' when connected. "
            "An interval such as (0.28, 5.42] is what helps CFG most.",
        ),
    ]


class AutoguidanceGuider(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_ids.GUIDER,
            display_name=GUIDER_NAME,
            category="sampling/custom_sampling/guiders",
            description=(
                "Autoguidance (Karras et al. 2024): guide the main model with a weaker version of itself, "
                "optionally together with CFG. Plug into SamplerCustomAdvanced."
            ),
            inputs=guider_inputs(),
            outputs=[io.Guider.Output()],
            hidden=[io.Hidden.unique_id],
        )

    @classmethod
    def execute(
        cls,
        model,
        guide_model,
        positive,
        w,
        cfg,
        negative=None,
        guide_positive=None,
        schedule=None,
        cfg_schedule=None,
    ) -> io.NodeOutput:
        check_pair(GUIDER_NAME, model, guide_model)
        check_cfg_needs_negative(cfg, negative, cfg_schedule)
        for socket, cond, target in (
            ("positive", positive, model),
            ("negative", negative, model),
            ("guide_positive", guide_positive, guide_model),
        ):
            check_conditioning(GUIDER_NAME, socket, target, cond)
        check_text_width(GUIDER_NAME, model, guide_model, guide_positive)
        model, guide = share_weights(GUIDER_NAME, model, guide_model)
        ag = schedule if schedule is not None else Constant(w)
        term = GuideTerm(guide, ag, guide_positive, node_id(cls))
        guider = AutoguidanceCFGGuider(model, term, cfg_schedule_for(cfg, cfg_schedule), cfg)
        guider.set_conds(positive, negative)
        return io.NodeOutput(guider)
