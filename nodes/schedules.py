"""Schedule nodes → ``GUIDANCE_SCHEDULE`` from one table; a node's widgets rebuild its schedule
(so a workflow carries it whole), and which widgets, meaning what, is said in ``schedule_widgets``."""

from __future__ import annotations

from typing import Any, ClassVar

from ..guidance import Schedule
from . import node_ids as ids
from ._api import io
from .schedule_widgets import WIDGETS, schedule_from_widgets
from .sockets import ScheduleType, weight_input

CATEGORY = "sampling/autoguidance/schedules"
W_TIP = (
    "Guidance weight w. 1 = off (the guide is not run); the autoguidance paper's best is about 2 "
    "(2.1 for EDM2-S with an XS guide); higher sharpens and simplifies the picture."
)
LO_TIP = (
    "Guide only above this noise level (exclusive). σ is EDM's noise-to-signal ratio: ComfyUI's σ on "
    "SD1.5/SDXL (0.03 to 14.6) and EDM2 (0.002 to 80), σ_flow/(1 − σ_flow) on flow models (SD3, Flux, …)."
)
HI_TIP = (
    "Guide only up to this noise level (inclusive), as the noise-to-signal ratio σ; 5.42 on Flux is "
    "σ_flow ≈ 0.844, and σ_flow = 1 (pure noise) is infinitely high."
)
SIGMA_IS = "σ is the noise-to-signal ratio on every model (σ_flow/(1 − σ_flow) for flow models)."


def _sigma(name: str, default: float, tooltip: str) -> io.Float.Input:
    return io.Float.Input(name, default=default, min=0.0, max=1e3, step=0.01, round=1e-4, tooltip=tooltip)


def _choice(name: str, default: str | list[str], tooltip: str) -> io.String.Input | io.Combo.Input:
    """A text box, or a combo of the options in a list (the first is the default)."""
    if isinstance(default, list):
        return io.Combo.Input(name, options=default, default=default[0], tooltip=tooltip)
    return io.String.Input(name, default=default, tooltip=tooltip)


INPUTS: dict[str, tuple[Any, Any, str]] = {  # input name → (input, default, tooltip)
    "w": (weight_input, 2.0, W_TIP),
    "sigma_lo": (_sigma, 0.28, LO_TIP),
    "sigma_hi": (_sigma, 5.42, HI_TIP),
    "w_start": (weight_input, 3.0, "Weight at sigma_start (and above it when sigma_start is the larger σ)."),
    "w_end": (weight_input, 1.0, "Weight at sigma_end (and beyond it)."),
    "sigma_start": (_sigma, 14.6, "Noise level where the ramp starts (often the high-noise end)."),
    "sigma_end": (_sigma, 0.03, "Noise level where the ramp ends."),
    "space": (_choice, ["log", "linear"], "Interpolate in log σ (even over Karras steps) or in σ."),
    "shape": (_choice, ["linear", "cosine"], "Straight ramp, or a smooth cosine ease in and out."),
    "sigmas": (_choice, "80, 5, 1, 0.1", "Noise levels σ > 0, comma separated, increasing or decreasing."),
    "weights": (_choice, "1.5, 2.5, 2.0, 1.0", "One weight per σ, comma separated; held beyond the ends."),
}
NODES: dict[str, tuple[str, str]] = {  # node id → (display name, description)
    ids.SCHEDULE_CONSTANT: (
        "Guidance Schedule (Constant)",
        "The same guidance weight w at every noise level (the paper's choice for autoguidance).",
    ),
    ids.SCHEDULE_INTERVAL: (
        "Guidance Schedule (Interval)",
        "Guide only for σ in (sigma_lo, sigma_hi]; w = 1 and no guide pass elsewhere. σ is the "
        "noise-to-signal ratio on every model (σ_flow/(1 − σ_flow) for SD3, Flux, Wan, …). "
        "Defaults are the guidance-interval paper's SD-XL choice (0.28, 5.42]; for EDM2 it "
        "found S (0.28, 2.90] and XXL (0.19, 1.61]. Helps the CFG term more than autoguidance.",
    ),
    ids.SCHEDULE_RAMP: (
        "Guidance Schedule (Ramp)",
        f"w moves from w_start at sigma_start to w_end at sigma_end, held beyond the ends; {SIGMA_IS}",
    ),
    ids.SCHEDULE_KNOTS: (
        "Guidance Schedule (Knots)",
        f"Any curve: weights at chosen noise levels, straight lines between them in log σ; {SIGMA_IS}",
    ),
    ids.SCHEDULE_LIMIT: (
        "Guidance Schedule (Limit to Interval)",
        f"Restrict any schedule to σ in (sigma_lo, sigma_hi]; w = 1 and no guide pass elsewhere. {SIGMA_IS}",
    ),
}


class _ScheduleNode(io.ComfyNode):
    """One row of ``NODES``, its widgets those of ``WIDGETS``; errors become the node's messages."""

    NODE_ID: ClassVar[str] = ""

    @classmethod
    def define_schema(cls) -> io.Schema:
        inputs = [INPUTS[name][0](name, *INPUTS[name][1:]) for name in WIDGETS[cls.NODE_ID]]
        if cls.NODE_ID == ids.SCHEDULE_LIMIT:  # the schedule it restricts, then its widgets
            inputs.insert(0, ScheduleType.Input("schedule", tooltip="The schedule to restrict."))
        display, description = NODES[cls.NODE_ID]
        return io.Schema(
            node_id=cls.NODE_ID,
            display_name=display,
            category=CATEGORY,
            description=description,
            inputs=inputs,
            outputs=[ScheduleType.Output(display_name="schedule")],
        )

    @classmethod
    def validate_inputs(cls, **kwargs: Any) -> bool | str:
        try:
            cls.execute(**kwargs)
        except ValueError as err:
            return str(err)
        return True

    @classmethod
    def execute(cls, schedule: Schedule | None = None, **widgets: Any) -> io.NodeOutput:
        """``schedule`` is a Limit node's input (absent while ComfyUI validates widgets alone)."""
        try:
            return io.NodeOutput(schedule_from_widgets(cls.NODE_ID, widgets, schedule))
        except (ValueError, TypeError) as err:
            raise ValueError(f"{NODES[cls.NODE_ID][0]}: {err}") from None


SCHEDULE_NODES: dict[str, type[_ScheduleNode]] = {  # one class per row, named by its node id
    nid: type(nid, (_ScheduleNode,), {"NODE_ID": nid, "__module__": __name__}) for nid in NODES
}
