"""Schedule nodes → ``GUIDANCE_SCHEDULE`` (a :mod:`guidance.schedules` object).

Each node's widget values are all that is needed to rebuild its schedule, so a workflow
file carries it whole. What the values mean is said once, in ``schedule_widgets`` (the
front end's plot is tested against it); the maths lives in ``guidance/schedules.py``.
"""

from __future__ import annotations

from typing import Any

from ..guidance import Schedule
from . import node_ids
from ._api import io
from .schedule_widgets import schedule_from_widgets
from .sockets import ScheduleType

CATEGORY = "sampling/autoguidance/schedules"

W_TIP = (
    "Guidance weight w. 1 = off (the guide is not run); the autoguidance paper's best is about 2 "
    "(2.1 for EDM2-S with an XS guide); higher sharpens and simplifies the picture."
)
LO_TIP = (
    "Guide only above this noise level (exclusive), as the noise-to-signal ratio σ (EDM's σ): ComfyUI's σ "
    "for SD1.5/SDXL (about 0.03 to 14.6) and EDM2 (0.002 to 80); for flow models (SD3, Flux, Wan, …) "
    "σ_flow/(1 − σ_flow), converted per model, so one interval means the same on every family."
)
HI_TIP = (
    "Guide only up to this noise level (inclusive), as the noise-to-signal ratio σ; 5.42 on Flux is "
    "σ_flow ≈ 0.844, and σ_flow = 1 (pure noise) is infinitely high."
)


def _w(name: str, default: float, tooltip: str = W_TIP) -> io.Float.Input:
    return io.Float.Input(name, default=default, min=-10.0, max=30.0, step=0.05, round=0.001, tooltip=tooltip)


def _sigma(name: str, default: float, tooltip: str) -> io.Float.Input:
    return io.Float.Input(
        name, default=default, min=0.0, max=1000.0, step=0.01, round=0.0001, tooltip=tooltip
    )


class _ScheduleNode(io.ComfyNode):
    """Shared plumbing: ``build`` makes the schedule from the widgets; errors become node messages."""

    NODE_ID = ""
    DISPLAY = ""

    @classmethod
    def build(cls, schedule: Schedule | None = None, **widgets: Any) -> Schedule:
        """``schedule`` is a Limit node's input (absent while ComfyUI validates widgets alone)."""
        return schedule_from_widgets(cls.NODE_ID, widgets, schedule)

    @classmethod
    def validate_inputs(cls, **kwargs: Any) -> bool | str:
        try:
            cls.build(**kwargs)
        except (ValueError, TypeError) as err:
            return f"{cls.DISPLAY}: {err}"
        return True

    @classmethod
    def execute(cls, **kwargs: Any) -> io.NodeOutput:
        try:
            return io.NodeOutput(cls.build(**kwargs))
        except ValueError as err:
            raise ValueError(f"{cls.DISPLAY}: {err}") from None


class AutoguidanceScheduleConstant(_ScheduleNode):
    NODE_ID = node_ids.SCHEDULE_CONSTANT
    DISPLAY = "Guidance Schedule (Constant)"

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=cls.NODE_ID,
            display_name=cls.DISPLAY,
            category=CATEGORY,
            description=(
                "The same guidance weight w at every noise level (the paper's choice for autoguidance)."
            ),
            inputs=[_w("w", 2.0)],
            outputs=[ScheduleType.Output(display_name="schedule")],
        )


class AutoguidanceScheduleInterval(_ScheduleNode):
    NODE_ID = node_ids.SCHEDULE_INTERVAL
    DISPLAY = "Guidance Schedule (Interval)"

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=cls.NODE_ID,
            display_name=cls.DISPLAY,
            category=CATEGORY,
            description=(
                "Guide only for σ in (sigma_lo, sigma_hi]; w = 1 and no guide pass elsewhere. σ is the "
                "noise-to-signal ratio on every model (σ_flow/(1 − σ_flow) for SD3, Flux, Wan, …). "
                "Defaults are the guidance-interval paper's SD-XL choice (0.28, 5.42]; for EDM2 it "
                "found S (0.28, 2.90] and XXL (0.19, 1.61]. Helps the CFG term more than autoguidance."
            ),
            inputs=[_w("w", 2.0), _sigma("sigma_lo", 0.28, LO_TIP), _sigma("sigma_hi", 5.42, HI_TIP)],
            outputs=[ScheduleType.Output(display_name="schedule")],
        )


class AutoguidanceScheduleRamp(_ScheduleNode):
    NODE_ID = node_ids.SCHEDULE_RAMP
    DISPLAY = "Guidance Schedule (Ramp)"

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=cls.NODE_ID,
            display_name=cls.DISPLAY,
            category=CATEGORY,
            description=(
                "w moves from w_start at sigma_start to w_end at sigma_end, held beyond the ends; "
                "σ is the noise-to-signal ratio on every model (σ_flow/(1 − σ_flow) for flow models)."
            ),
            inputs=[
                _w("w_start", 3.0, "Weight at sigma_start (and above it when sigma_start is the larger σ)."),
                _w("w_end", 1.0, "Weight at sigma_end (and beyond it)."),
                _sigma("sigma_start", 14.6, "Noise level where the ramp starts (often the high-noise end)."),
                _sigma("sigma_end", 0.03, "Noise level where the ramp ends."),
                io.Combo.Input(
                    "space",
                    options=["log", "linear"],
                    default="log",
                    tooltip="Interpolate in log σ (even over the steps of a Karras schedule) or in σ.",
                ),
                io.Combo.Input(
                    "shape",
                    options=["linear", "cosine"],
                    default="linear",
                    tooltip="Straight ramp, or a smooth cosine ease in and out.",
                ),
            ],
            outputs=[ScheduleType.Output(display_name="schedule")],
        )


class AutoguidanceScheduleKnots(_ScheduleNode):
    NODE_ID = node_ids.SCHEDULE_KNOTS
    DISPLAY = "Guidance Schedule (Knots)"

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=cls.NODE_ID,
            display_name=cls.DISPLAY,
            category=CATEGORY,
            description=(
                "Any curve: weights at chosen noise levels, straight lines between them in log σ; "
                "σ is the noise-to-signal ratio on every model (σ_flow/(1 − σ_flow) for flow models)."
            ),
            inputs=[
                io.String.Input(
                    "sigmas",
                    default="80, 5, 1, 0.1",
                    tooltip="Noise levels σ > 0, comma separated, all increasing or all decreasing.",
                ),
                io.String.Input(
                    "weights",
                    default="1.5, 2.5, 2.0, 1.0",
                    tooltip="One weight per σ, comma separated; held constant beyond the ends.",
                ),
            ],
            outputs=[ScheduleType.Output(display_name="schedule")],
        )


class AutoguidanceScheduleLimit(_ScheduleNode):
    NODE_ID = node_ids.SCHEDULE_LIMIT
    DISPLAY = "Guidance Schedule (Limit to Interval)"

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=cls.NODE_ID,
            display_name=cls.DISPLAY,
            category=CATEGORY,
            description=(
                "Restrict any schedule to σ in (sigma_lo, sigma_hi]; w = 1 and no guide pass elsewhere. "
                "σ is the noise-to-signal ratio on every model (σ_flow/(1 − σ_flow) for flow models)."
            ),
            inputs=[
                ScheduleType.Input("schedule", tooltip="The schedule to restrict."),
                _sigma("sigma_lo", 0.28, LO_TIP),
                _sigma("sigma_hi", 5.42, HI_TIP),
            ],
            outputs=[ScheduleType.Output(display_name="schedule")],
        )


SCHEDULE_NODES = (
    AutoguidanceScheduleConstant,
    AutoguidanceScheduleInterval,
    AutoguidanceScheduleRamp,
    AutoguidanceScheduleKnots,
    AutoguidanceScheduleLimit,
)
