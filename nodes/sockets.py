"""The sockets the guider, the KSampler patch and the inspector share: the model pair, w, schedules."""

from __future__ import annotations

from typing import Any

from ._api import io

ScheduleType = io.Custom("GUIDANCE_SCHEDULE")

MIX_TIP = (
    "For text-to-image the paper mixes both: pick a total weight w and a share α, then "
    "w_cfg = (1 − α)(w − 1) + 1 and w_ag = α(w − 1) + 1."
)


def model_inputs() -> list:
    """The main/guide model sockets."""
    return [
        io.Model.Input("model", tooltip="The main model: the good one whose pictures you want."),
        io.Model.Input(
            "guide_model",
            tooltip=(
                "The guide: a weaker version of the same model family (same latent space), e.g. one size "
                "smaller and trained ~1/16 as long, or the same checkpoint without your LoRA."
            ),
        ),
    ]


W_MIN, W_MAX = 0.0, 30.0
"""Every w widget's range (guider, patch, schedules, inspector): a schedule may drive the guider's w
or its cfg, so one range for all. w = 0 is the guide alone (for CFG the negative alone, the cfg
widget's own lower end); below it the step overshoots the guide, away from the main model, which no
paper tests. 30 is far past the paper's best (about 2)."""


def weight_input(name: str, default: float, tooltip: str) -> io.Float.Input:
    """A guidance-weight widget over [W_MIN, W_MAX]."""
    return io.Float.Input(
        name, default=default, min=W_MIN, max=W_MAX, step=0.05, round=0.001, tooltip=tooltip
    )


def w_input() -> io.Float.Input:
    return weight_input(
        "w",
        2.0,
        "Autoguidance weight: 1 = off (the guide is never run); the paper's best is about 2. "
        "Higher pushes away from the guide's mistakes: cleaner, more typical pictures, less variety. "
        + MIX_TIP,
    )


def schedule_input(name: str, what: str) -> Any:
    return ScheduleType.Input(name, optional=True, tooltip=what)


def node_id(node: type[io.ComfyNode]) -> str | None:
    """The executing node's id in the prompt (None when called outside ComfyUI's executor)."""
    return getattr(getattr(node, "hidden", None), "unique_id", None)
