"""Widget values of a schedule node → its schedule: the one place that says what they mean.

Every schedule node builds (and validates) through :func:`schedule_from_widgets`; the front
end's twin, ``specFromWidgets`` / ``specProblem`` in ``web/schedule_math.js``, is tested
against this module over every schedule node of the bundled workflows and the edge cases
(``tests/web/test_schedule_widgets.py``). No ComfyUI import: the maths is
``guidance/schedules.py``, whose messages the widget shows word for word up to "(got".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..guidance import Schedule, schedule_from_dict
from .node_ids import SCHEDULE_CONSTANT, SCHEDULE_INTERVAL, SCHEDULE_KNOTS, SCHEDULE_LIMIT, SCHEDULE_RAMP

WIDGETS: dict[str, tuple[str, ...]] = {
    SCHEDULE_CONSTANT: ("w",),
    SCHEDULE_INTERVAL: ("w", "sigma_lo", "sigma_hi"),
    SCHEDULE_RAMP: ("w_start", "w_end", "sigma_start", "sigma_end", "space", "shape"),
    SCHEDULE_KNOTS: ("sigmas", "weights"),
    SCHEDULE_LIMIT: ("sigma_lo", "sigma_hi"),
}
"""Each schedule node's widgets in schema order (the order of a workflow's ``widgets_values``)."""

_KIND = {
    SCHEDULE_CONSTANT: "constant",
    SCHEDULE_INTERVAL: "interval",
    SCHEDULE_RAMP: "ramp",
    SCHEDULE_KNOTS: "knots",
    SCHEDULE_LIMIT: "interval",
}
_TEXT_WIDGETS = frozenset({"space", "shape", "sigmas", "weights"})
NO_GUIDANCE: dict[str, Any] = {"kind": "constant", "w": 1.0}
"""What a Limit node restricts while its ``schedule`` input is not known (validation, the widget)."""

# A decimal number as Python's float() and JavaScript's Number() both read it (no inf/nan/0x/_).
_NUMBER = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")


def parse_numbers(where: str, field: str, text: Any) -> list[float]:
    """'80, 5, 1, 0.1' → [80.0, 5.0, 1.0, 0.1] (commas, semicolons or new lines between)."""
    parts = [p for p in re.split(r"[,;\n]", text) if p.strip()] if isinstance(text, str) else None
    if parts is None or not all(_NUMBER.fullmatch(p) for p in parts):
        raise ValueError(
            f"{where}: '{field}' must be numbers separated by commas, e.g. 80, 5, 1, 0.1 (got {text!r})"
        )
    return [float(p) for p in parts]


def _number(where: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where}: {name} must be a number (got {value!r})")
    return float(value)


def _knots(v: dict[str, Any], where: str) -> dict[str, Any]:
    # Either order: guidance's Knots sorts a list written high σ first.
    return {
        "kind": "knots",
        "sigmas": parse_numbers(where, "sigmas", v["sigmas"]),
        "weights": parse_numbers(where, "weights", v["weights"]),
    }


def _limit(v: dict[str, Any], inner: Mapping[str, Any] | None) -> dict[str, Any]:
    schedule = dict(inner) if inner is not None else dict(NO_GUIDANCE)
    return {"kind": "interval", "schedule": schedule, "sigma_lo": v["sigma_lo"], "sigma_hi": v["sigma_hi"]}


_SPECS = {  # node id → (widget values, inner spec, where) → spec
    SCHEDULE_CONSTANT: lambda v, inner, where: {"kind": "constant", "w": v["w"]},
    SCHEDULE_INTERVAL: lambda v, inner, where: {"kind": "interval", **v},
    SCHEDULE_RAMP: lambda v, inner, where: {"kind": "ramp", **v},
    SCHEDULE_KNOTS: lambda v, inner, where: _knots(v, where),
    SCHEDULE_LIMIT: lambda v, inner, where: _limit(v, inner),
}


def schedule_spec(
    node_id: str, values: Mapping[str, Any], inner: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The ``Schedule.to_dict()`` form a schedule node's widget values stand for.

    ``inner`` is the spec feeding a Limit node's ``schedule`` input (w = 1 when unknown). Raises
    ``ValueError`` for an unknown node, a missing widget, a number widget holding anything but a
    number, or knots text that is not numbers; the schedule's own rules are checked by
    :func:`schedule_from_widgets`.
    """
    if node_id not in WIDGETS:
        raise ValueError(f"schedule widgets: unknown schedule node {node_id!r}; known: {list(WIDGETS)}")
    where = f"{_KIND[node_id]} schedule"
    missing = [name for name in WIDGETS[node_id] if name not in values]
    if missing:
        raise ValueError(f"{where}: missing widget value(s) {missing} (got {dict(values)!r})")
    v = {
        name: values[name] if name in _TEXT_WIDGETS else _number(where, name, values[name])
        for name in WIDGETS[node_id]
    }
    return _SPECS[node_id](v, inner, where)


def schedule_from_widgets(
    node_id: str, values: Mapping[str, Any], inner: Schedule | Mapping[str, Any] | None = None
) -> Schedule:
    """The schedule a node's widget values build, validated (``ValueError`` with guidance's message)."""
    inner_spec = inner if inner is None or isinstance(inner, Mapping) else inner.to_dict()
    return schedule_from_dict(schedule_spec(node_id, values, inner_spec))


def widget_values(node_id: str, widgets_values: Sequence[Any]) -> dict[str, Any]:
    """A workflow node's positional ``widgets_values`` as {widget name: value}."""
    if node_id not in WIDGETS:
        raise ValueError(f"schedule widgets: unknown schedule node {node_id!r}; known: {list(WIDGETS)}")
    return dict(zip(WIDGETS[node_id], widgets_values, strict=False))
