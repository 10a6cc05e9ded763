"""Intensity statistics and the per-σ calibration of a denoiser (the diagnosis's maths)."""

from __future__ import annotations

import pytest
import torch

from research.glyphs_diagnose import calibration, contrast_push
from research.glyphs_metrics import intensity_stats


def test_intensity_stats_of_known_pixels():
    x = torch.tensor([-1.0, -0.99, 0.0, 0.5, 0.981, 0.9]).reshape(1, 1, 2, 3)
    stats = intensity_stats(x)
    assert stats["saturated"] == pytest.approx(3 / 6)  # |x| > 0.98: −1, −0.99, 0.981
    assert stats["mean"] == pytest.approx(0.391 / 6)
    assert stats["std"] == pytest.approx(float(x.double().std()))


def test_the_ideal_denoiser_is_calibrated_and_an_overconfident_one_is_not():
    """x0 ~ N(0.2, s²), x = x0 + σn: E[x0 | x] = 0.2 + s²/(s² + σ²)(x − 0.2) has bias 0 and slope 1;
    D = x (the noisy input, too much contrast) has slope s²/(s² + σ²)."""
    g = torch.Generator().manual_seed(0)
    s, sigma = 0.5, 1.0
    x0 = 0.2 + s * torch.randn(400_000, generator=g)
    x = x0 + sigma * torch.randn(400_000, generator=g)
    ideal = 0.2 + s**2 / (s**2 + sigma**2) * (x - 0.2)
    bias, slope = calibration(ideal, x0)
    assert abs(bias) < 3e-3 and slope == pytest.approx(1.0, abs=0.01)
    _, slope_x = calibration(x, x0)
    assert slope_x == pytest.approx(s**2 / (s**2 + sigma**2), abs=0.01)


def test_calibration_of_affine_denoisers():
    x0 = torch.linspace(-1, 1, 101)
    bias, slope = calibration(2 * x0 + 0.1, x0)
    assert bias == pytest.approx(0.1) and slope == pytest.approx(0.5)


def test_contrast_push_is_the_share_of_contrast_the_guide_lacks():
    d1 = torch.linspace(-1, 1, 64) + 0.3
    assert contrast_push(d1, 0.5 * (d1 - d1.mean()) + d1.mean()) == pytest.approx(0.5)
    assert contrast_push(d1, d1 - 0.2) == pytest.approx(0.0, abs=1e-6)  # a brightness shift only
