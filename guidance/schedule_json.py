"""Schedules ↔ plain JSON: ``schedule_from_dict`` rebuilds any ``to_dict()`` form.

One builder per kind (a dispatch table, not an if/elif chain); every message names the field
and says what is accepted, so a workflow file with a bad schedule fails clearly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .schedules import Constant, Interval, Knots, Ramp, Schedule


def _fields(
    d: Mapping[str, Any], kind: str, required: Sequence[str], optional: Sequence[str] = ()
) -> dict[str, Any]:
    missing = [k for k in required if k not in d]
    if missing:
        raise ValueError(f"{kind} schedule: missing field(s) {missing} (got {dict(d)!r})")
    unknown = sorted(set(d) - set(required) - set(optional) - {"kind"})
    if unknown:
        raise ValueError(
            f"{kind} schedule: unknown field(s) {unknown}; accepted: {list(required) + list(optional)}"
        )
    return {k: d[k] for k in (*required, *optional) if k in d}


def _interval_from_dict(d: Mapping[str, Any]) -> Interval:
    f = _fields(d, "interval", ("sigma_lo", "sigma_hi"), ("w", "schedule"))
    if ("w" in f) == ("schedule" in f):
        raise ValueError(
            f"interval schedule: give exactly one of 'w' or 'schedule' (got {sorted(f)}); "
            "'w' for a constant weight inside the interval, 'schedule' to restrict another schedule"
        )
    inner = Constant(f["w"]) if "w" in f else schedule_from_dict(f["schedule"])
    return Interval(inner, f["sigma_lo"], f["sigma_hi"])


_BUILDERS: dict[str, Callable[[Mapping[str, Any]], Schedule]] = {
    "constant": lambda d: Constant(**_fields(d, "constant", ("w",))),
    "interval": _interval_from_dict,
    "ramp": lambda d: Ramp(
        **_fields(d, "ramp", ("w_start", "w_end", "sigma_start", "sigma_end"), ("space", "shape"))
    ),
    "knots": lambda d: Knots(**_fields(d, "knots", ("sigmas", "weights"))),
}


def schedule_from_dict(d: Mapping[str, Any]) -> Schedule:
    """Rebuild a schedule from its ``to_dict()`` form; invalid specs raise ``ValueError``."""
    if not isinstance(d, Mapping):
        raise ValueError(f"schedule: expected a dict with a 'kind' field (got {d!r})")
    kind = d.get("kind")
    if kind not in _BUILDERS:
        raise ValueError(f"schedule: unknown kind {kind!r}; valid kinds: {list(_BUILDERS)}")
    return _BUILDERS[kind](d)


def as_schedule(value: Schedule | float | Mapping[str, Any]) -> Schedule:
    """A float becomes a constant schedule, a dict is parsed, a schedule passes through."""
    if isinstance(value, Mapping):
        return schedule_from_dict(value)
    if isinstance(value, (int, float)):
        return Constant(float(value))
    if hasattr(value, "weight") and hasattr(value, "to_dict"):
        return value
    raise ValueError(f"schedule: expected a number, a schedule or a dict (got {value!r})")
