"""guidance.schedules: every kind at and around its boundaries, JSON round trips, errors."""

import json
import math

import pytest
import torch
from torch.testing import assert_close

from comfyui_autoguidance.guidance import schedule_from_dict
from comfyui_autoguidance.guidance.schedules import Constant, Interval, Knots, Ramp


def w_at(schedule, *sigmas):
    return schedule.weight(torch.tensor(sigmas, dtype=torch.float64)).tolist()


def test_constant():
    s = schedule_from_dict({"kind": "constant", "w": 2.0})
    assert w_at(s, 0.0, 0.002, 1.0, 80.0) == [2.0, 2.0, 2.0, 2.0]


def test_interval_is_open_below_closed_above():
    s = schedule_from_dict({"kind": "interval", "w": 2.0, "sigma_lo": 0.28, "sigma_hi": 5.42})
    # exactly at sigma_lo: outside (w = 1); exactly at sigma_hi: inside
    assert w_at(s, 0.28, 0.2800001, 1.0, 5.42, 5.4200001, 80.0) == [1.0, 2.0, 2.0, 2.0, 1.0, 1.0]


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_interval_boundaries_hold_in_the_samplers_precision(dtype):
    s = schedule_from_dict({"kind": "interval", "w": 2.0, "sigma_lo": 0.28, "sigma_hi": 5.42})
    sigma = torch.tensor([0.28, 5.42], dtype=dtype)  # σ exactly at the boundaries, as a sampler holds them
    assert s.weight(sigma).tolist() == [1.0, 2.0]


def test_interval_restricting_another_schedule():
    inner = {"kind": "knots", "sigmas": [1.0, 10.0], "weights": [3.0, 1.5]}
    s = schedule_from_dict({"kind": "interval", "schedule": inner, "sigma_lo": 2.0, "sigma_hi": 8.0})
    got = w_at(s, 2.0, math.sqrt(10), 8.0, 9.0)
    assert got[0] == 1.0 and got[3] == 1.0
    assert got[1] == pytest.approx(2.25, abs=1e-6)  # halfway in log σ between 3.0 and 1.5
    assert got[2] == pytest.approx(3.0 + (1.5 - 3.0) * math.log(8.0) / math.log(10.0), abs=1e-6)


def test_knots_piecewise_linear_in_log_sigma_held_at_ends():
    s = Knots((0.1, 1.0, 10.0), (1.0, 3.0, 2.0))
    got = w_at(s, 0.01, 0.1, math.sqrt(0.1), 1.0, math.sqrt(10.0), 10.0, 100.0)
    assert_close(torch.tensor(got), torch.tensor([1.0, 1.0, 2.0, 3.0, 2.5, 2.0, 2.0]), rtol=0, atol=1e-6)


def test_single_knot_is_constant():
    assert w_at(Knots((1.0,), (1.7,)), 0.5, 1.0, 9.0) == pytest.approx([1.7] * 3)


@pytest.mark.parametrize("shape", ["linear", "cosine"])
def test_ramp_log_space(shape):
    s = Ramp(w_start=3.0, w_end=1.0, sigma_start=10.0, sigma_end=0.1, space="log", shape=shape)
    got = w_at(s, 100.0, 10.0, 1.0, 0.1, 0.01)
    # held beyond both ends; the log-midpoint σ = 1 is halfway for both shapes
    assert got == pytest.approx([3.0, 3.0, 2.0, 1.0, 1.0], abs=1e-6)
    quarter = 10.0**0.5  # t = 1/4 in log space
    expected = 3.0 - 2.0 * (0.25 if shape == "linear" else (1 - math.cos(math.pi / 4)) / 2)
    assert w_at(s, quarter)[0] == pytest.approx(expected, abs=1e-6)


def test_ramp_linear_space():
    s = Ramp(w_start=1.0, w_end=2.0, sigma_start=0.0, sigma_end=1.0, space="linear")
    assert w_at(s, 0.0, 0.25, 1.0, 2.0) == pytest.approx([1.0, 1.25, 2.0, 2.0])


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "constant", "w": 2.5},
        {"kind": "interval", "w": 2.0, "sigma_lo": 0.28, "sigma_hi": 5.42},
        {
            "kind": "ramp",
            "w_start": 3.0,
            "w_end": 1.0,
            "sigma_start": 14.6,
            "sigma_end": 0.03,
            "space": "log",
            "shape": "cosine",
        },
        {"kind": "knots", "sigmas": [0.1, 1.0, 5.0, 80.0], "weights": [1.0, 2.0, 2.5, 1.5]},
        {
            "kind": "interval",
            "schedule": {
                "kind": "ramp",
                "w_start": 2.0,
                "w_end": 1.5,
                "sigma_start": 5.0,
                "sigma_end": 0.5,
                "space": "linear",
                "shape": "linear",
            },
            "sigma_lo": 0.19,
            "sigma_hi": 1.61,
        },
    ],
)
def test_json_round_trip(spec):
    s = schedule_from_dict(spec)
    d = s.to_dict()
    assert d == spec
    again = schedule_from_dict(json.loads(json.dumps(d)))
    assert again == s
    sig = torch.logspace(-3, 2, 50, dtype=torch.float64)
    assert torch.equal(again.weight(sig), s.weight(sig))


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        (
            {"kind": "cubic"},
            "unknown kind 'cubic'; valid kinds: \\['constant', 'interval', 'ramp', 'knots'\\]",
        ),
        ({"w": 2.0}, "unknown kind None"),
        ("constant", "expected a dict"),
        ({"kind": "constant"}, "missing field"),
        ({"kind": "constant", "w": 2.0, "wieght": 1}, "unknown field"),
        ({"kind": "constant", "w": float("nan")}, "w must be finite"),
        ({"kind": "constant", "w": "two"}, "w must be a number"),
        (
            {"kind": "interval", "w": 2.0, "sigma_lo": 5.42, "sigma_hi": 0.28},
            "sigma_lo must be below sigma_hi",
        ),
        ({"kind": "interval", "w": 2.0, "sigma_lo": 1.0, "sigma_hi": 1.0}, "sigma_lo must be below sigma_hi"),
        ({"kind": "interval", "w": 2.0, "sigma_lo": -0.1, "sigma_hi": 1.0}, "sigma_lo must be a noise level"),
        (
            {"kind": "interval", "w": 2.0, "sigma_lo": 0.1, "sigma_hi": float("inf")},
            "sigma_hi must be finite",
        ),
        ({"kind": "interval", "sigma_lo": 0.1, "sigma_hi": 1.0}, "exactly one of 'w' or 'schedule'"),
        (
            {
                "kind": "interval",
                "w": 2,
                "schedule": {"kind": "constant", "w": 2},
                "sigma_lo": 0.1,
                "sigma_hi": 1.0,
            },
            "exactly one of",
        ),
        (
            {"kind": "interval", "schedule": {"kind": "nope"}, "sigma_lo": 0.1, "sigma_hi": 1.0},
            "unknown kind 'nope'",
        ),
        (
            {"kind": "knots", "sigmas": [1.0, 0.5, 2.0], "weights": [1.0, 2.0, 3.0]},
            "sigmas must be strictly increasing",
        ),
        ({"kind": "knots", "sigmas": [1.0, 1.0], "weights": [1.0, 2.0]}, "strictly increasing"),
        ({"kind": "knots", "sigmas": [0.1, 1.0], "weights": [1.0]}, "same length"),
        ({"kind": "knots", "sigmas": [], "weights": []}, "sigmas is empty"),
        (
            {"kind": "knots", "sigmas": [0.0, 1.0], "weights": [1.0, 2.0]},
            "sigmas\\[0\\] must be a noise level with σ > 0",
        ),
        (
            {"kind": "knots", "sigmas": [0.1, 1.0], "weights": [1.0, float("nan")]},
            "weights\\[1\\] must be finite",
        ),
        ({"kind": "knots", "sigmas": "0.1, 1", "weights": [1.0]}, "sigmas must be a list"),
        ({"kind": "ramp", "w_start": 2, "w_end": 1, "sigma_start": 1, "sigma_end": 1}, "must differ"),
        (
            {"kind": "ramp", "w_start": 2, "w_end": 1, "sigma_start": 0, "sigma_end": 1},
            "sigma_start must be a noise level",
        ),
        (
            {"kind": "ramp", "w_start": 2, "w_end": 1, "sigma_start": 5, "sigma_end": 1, "space": "exp"},
            "space must be one of",
        ),
        (
            {"kind": "ramp", "w_start": 2, "w_end": 1, "sigma_start": 5, "sigma_end": 1, "shape": "step"},
            "shape must be one of",
        ),
    ],
)
def test_invalid_specs_raise_value_error_naming_the_field(spec, match):
    with pytest.raises(ValueError, match=match):
        schedule_from_dict(spec)


def test_schedules_are_frozen():
    s = Constant(2.0)
    with pytest.raises(AttributeError):
        s.w = 3.0  # type: ignore[misc]
    assert Interval(Constant(2.0), 0.28, 5.42).to_dict()["w"] == 2.0
