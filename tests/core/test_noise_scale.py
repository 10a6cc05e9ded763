"""σ_edm, the one noise scale every schedule is written in (guidance/noise_scale.py)."""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from comfyui_autoguidance.guidance import Constant, Interval
from comfyui_autoguidance.guidance.noise_scale import (
    NOISE_KINDS,
    edm_to_flow,
    flow_to_edm,
    from_edm,
    ratio_to_edm,
    to_edm,
)


def test_flow_map_is_noise_over_signal():
    """x = (1 − σ)·x0 + σ·ε has σ_edm = σ / (1 − σ): the flow map is b / a of its own mixture."""
    sigma = torch.tensor([0.0, 0.1, 0.5, 0.9, 0.999], dtype=torch.float64)
    assert_close(flow_to_edm(sigma), ratio_to_edm(1 - sigma, sigma), rtol=1e-12, atol=0)
    assert flow_to_edm(torch.tensor(0.5)).item() == 1.0  # equal parts signal and noise
    assert flow_to_edm(torch.tensor(0.0)).item() == 0.0


def test_pure_noise_maps_to_infinity_and_back():
    assert flow_to_edm(torch.tensor([1.0])).tolist() == [math.inf]
    assert edm_to_flow(torch.tensor([math.inf])).tolist() == [1.0]
    assert edm_to_flow(torch.tensor([0.0])).tolist() == [0.0]


@pytest.mark.parametrize("k", [1.0, 0.5, 2.0])
def test_round_trip(k):
    sigma = torch.linspace(0, 1, 101, dtype=torch.float64)
    assert_close(edm_to_flow(flow_to_edm(sigma, k), k), sigma, rtol=1e-12, atol=1e-12)
    sigma_edm = torch.logspace(-3, 3, 61, dtype=torch.float64)
    assert_close(flow_to_edm(edm_to_flow(sigma_edm, k), k), sigma_edm, rtol=1e-12, atol=0)


def test_noise_multiplier_scales_the_ratio():
    """x = (1 − σ)·x0 + σ·(k·ε): the noise part is k times larger."""
    sigma = torch.tensor([0.2, 0.6], dtype=torch.float64)
    assert_close(flow_to_edm(sigma, 0.5), 0.5 * flow_to_edm(sigma), rtol=1e-12, atol=0)
    assert_close(flow_to_edm(sigma, 0.5), ratio_to_edm(1 - sigma, 0.5 * sigma), rtol=1e-12, atol=0)


def test_flow_keeps_sigmas_precision_and_is_exact_enough_near_one():
    """A sampler's float32 σ near 1 stays float32 (MPS has no float64) and gives the ratio of
    *that* σ to float32 rounding: 1 − σ is exact there (Sterbenz), so only the division rounds."""
    sigma = torch.tensor([0.9999], dtype=torch.float32)
    out = flow_to_edm(sigma)
    assert out.dtype == torch.float32
    s = float(sigma.item())
    assert out.item() == pytest.approx(s / (1 - s), rel=2e-7)
    assert flow_to_edm(sigma.double()).dtype == torch.float64  # float64 only where σ already is
    assert flow_to_edm(torch.tensor([1], dtype=torch.int64)).dtype == torch.float32


def test_ve_is_the_identity_and_keeps_the_tensor():
    sigma = torch.tensor([0.03, 1.0, 14.6], dtype=torch.float32)
    assert to_edm("ve", sigma) is sigma  # bit for bit: EPS/V/EDM workflows keep their meaning
    assert from_edm("ve", sigma) is sigma


def test_dispatch_by_kind_and_unknown_kind_lists_the_valid_ones():
    sigma = torch.tensor([0.25])
    assert_close(to_edm("flow", sigma), torch.tensor([1 / 3]), rtol=2e-7, atol=0)
    assert_close(from_edm("flow", torch.tensor([1 / 3])), torch.tensor([0.25]), rtol=2e-7, atol=0)
    assert set(NOISE_KINDS) == {"ve", "flow"}
    with pytest.raises(ValueError, match=r"unknown noise kind \(got 'rf'\); valid kinds: flow, ve"):
        to_edm("rf", sigma)


def test_sdxl_interval_on_a_flow_model_means_the_same_noise_to_signal_ratios():
    """(0.28, 5.42] in σ_edm is σ_flow ∈ (0.21875, 0.84423…] — not σ_flow ∈ (0.28, 1]."""
    lo, hi = edm_to_flow(torch.tensor([0.28, 5.42])).tolist()
    assert lo == pytest.approx(0.28 / 1.28) and hi == pytest.approx(5.42 / 6.42)
    schedule = Interval(Constant(2.0), 0.28, 5.42)
    sigma_flow = torch.tensor([1.0, 0.9, 0.84, 0.5, 0.25, 0.2, 0.0])
    assert schedule.weight(flow_to_edm(sigma_flow)).tolist() == [1.0, 1.0, 2.0, 2.0, 2.0, 1.0, 1.0]


def test_every_schedule_kind_is_defined_at_a_flow_models_ends():
    """σ_flow = 1 (the first step, pure noise) is σ_edm = inf and σ_flow = 0 is 0: no schedule gives nan."""
    from comfyui_autoguidance.guidance import schedule_from_dict

    ends = flow_to_edm(torch.tensor([1.0, 0.0]))
    specs = [
        {"kind": "constant", "w": 2.0},
        {"kind": "interval", "w": 2.0, "sigma_lo": 0.28, "sigma_hi": 5.42},
        {
            "kind": "ramp",
            "w_start": 3,
            "w_end": 1,
            "sigma_start": 14.6,
            "sigma_end": 0.03,
            "space": "log",
            "shape": "cosine",
        },
        {
            "kind": "ramp",
            "w_start": 3,
            "w_end": 1,
            "sigma_start": 14.6,
            "sigma_end": 0.03,
            "space": "linear",
            "shape": "linear",
        },
        {"kind": "knots", "sigmas": [0.1, 1, 5, 80], "weights": [1, 2, 2.5, 1.5]},
    ]
    got = {s["kind"] + s.get("space", ""): schedule_from_dict(s).weight(ends).tolist() for s in specs}
    assert got == {
        "constant": [2.0, 2.0],
        "interval": [1.0, 1.0],
        "ramplog": [3.0, 1.0],
        "ramplinear": [3.0, 1.0],
        "knots": [1.5, 1.0],
    }
