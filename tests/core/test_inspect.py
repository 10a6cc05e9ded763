"""guidance.inspect: D1 − D0, D_w, RMS ratios, the signed colour map and grid tiling."""

import math

import pytest
import torch
from torch.testing import assert_close

from comfyui_autoguidance.guidance import Constant, Interval
from comfyui_autoguidance.guidance.inspect import (
    PairInspection,
    guided_spans,
    log_spaced_sigmas,
    pixels_to_image,
    rms,
    rms_ratio,
    signed_colormap,
    signed_field,
    symmetric_scale,
    tile,
    upscale,
)


def test_rms_ratio_by_hand():
    d1 = torch.tensor([[3.0, 4.0], [1.0, 1.0]])  # RMS 5/√2 and 1
    d0 = torch.tensor([[3.0, 2.0], [1.0, 1.0]])  # differences (0, 2) and (0, 0)
    assert_close(rms(d1), torch.tensor([5 / math.sqrt(2), 1.0]))
    assert_close(rms_ratio(d1, d0), torch.tensor([math.sqrt(2) / (5 / math.sqrt(2)), 0.0]))


def test_inspection_difference_guided_and_cfg():
    g = torch.Generator().manual_seed(0)
    d1, d0, unc = (torch.randn(3, 2, 4, 4, generator=g) for _ in range(3))
    w = torch.tensor([2.0, 1.0, 3.0], dtype=torch.float64)
    ins = PairInspection(torch.tensor([10.0, 1.0, 0.1]), torch.zeros_like(d1), d1, d0, w, unc)
    assert_close(ins.difference, d1 - d0, rtol=0, atol=0)
    expected = torch.stack([2 * d1[0] - d0[0], d1[1], 3 * d1[2] - 2 * d0[2]])  # w·D1 + (1 − w)·D0
    assert_close(ins.guided, expected, rtol=1e-6, atol=1e-6)
    assert_close(ins.ratios, rms(d1 - d0) / rms(d1))
    assert_close(ins.cfg_difference, d1 - unc, rtol=0, atol=0)
    assert_close(ins.cfg_ratios, rms(d1 - unc) / rms(d1))
    plain = PairInspection(ins.sigmas, ins.x, d1, d0, w)
    assert plain.cfg_difference is None and plain.cfg_ratios is None


def test_colour_map_is_symmetric_about_zero():
    v = torch.linspace(-2, 2, 9).reshape(3, 3)
    pos, neg = signed_colormap(v, 2.0), signed_colormap(-v, 2.0)
    assert_close(neg, pos[..., [2, 1, 0]], rtol=0, atol=0)  # −v: red and blue swapped
    assert_close(signed_colormap(torch.zeros(1, 1), 1.0)[0, 0], torch.ones(3), rtol=0, atol=0)  # 0 is white
    assert_close(
        signed_colormap(torch.tensor([[2.0, -2.0, 9.0]]), 2.0)[0],
        torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]),
        rtol=0,
        atol=0,
    )
    assert pos.min() >= 0 and pos.max() <= 1
    with pytest.raises(ValueError, match="scale must be positive"):
        signed_colormap(v, 0.0)


def test_scale_and_signed_field():
    assert symmetric_scale(torch.tensor([0.5, -3.0]), torch.tensor([2.0])) == 3.0
    assert symmetric_scale(torch.zeros(4)) == 1.0
    v = torch.randn(4, 5, 6, generator=torch.Generator().manual_seed(1))
    assert_close(signed_field(v), v.mean(0))
    factors = torch.randn(4, 3, generator=torch.Generator().manual_seed(2))
    by_hand = (v.permute(1, 2, 0) @ factors).mean(-1)
    assert_close(signed_field(v, factors), by_hand, rtol=1e-5, atol=1e-6)
    assert_close(signed_field(-v, factors), -by_hand, rtol=1e-5, atol=1e-6)  # linear: sign kept


def test_tile_places_each_panel():
    a, b, c = (torch.full((2, 3, 3), k) for k in (0.1, 0.2, 0.3))
    grid = tile([[a, b], [c]], pad=1, background=1.0)
    assert grid.shape == (2 * 2 + 1, 2 * 3 + 1, 3)
    assert_close(grid[0:2, 0:3], a)
    assert_close(grid[0:2, 4:7], b)
    assert_close(grid[3:5, 0:3], c)
    assert (grid[2] == 1).all() and (grid[:, 3] == 1).all() and (grid[3:5, 4:7] == 1).all()
    with pytest.raises(ValueError, match="no panels"):
        tile([])
    with pytest.raises(ValueError, match=r"panel \(0, 1\)"):
        tile([[a, torch.zeros(3, 3, 3)]])


def test_pixels_upscale_sigmas_and_spans():
    grey = torch.tensor([[[-1.0, 0.0], [1.0, 3.0]]])  # [1, 2, 2]
    image = pixels_to_image(grey)
    assert (
        image.shape == (2, 2, 3) and image[0, 1].tolist() == [0.5] * 3 and image[1, 1].tolist() == [1.0] * 3
    )
    assert upscale(image, 3).shape == (6, 6, 3) and upscale(image, 3)[2, 5].tolist() == [0.5] * 3
    s = log_spaced_sigmas(0.002, 80.0, 5)
    assert s[0] == pytest.approx(80.0) and s[-1] == pytest.approx(0.002)
    assert all(a > b for a, b in zip(s, s[1:], strict=False))
    assert math.log(s[0] / s[1]) == pytest.approx(math.log(s[1] / s[2]))
    with pytest.raises(ValueError, match="sigma_min < sigma_max"):
        log_spaced_sigmas(1.0, 0.5, 3)
    grid = torch.logspace(-3, 2, 501, dtype=torch.float64)
    spans = guided_spans(grid, Interval(Constant(2.0), 0.28, 5.42).weight(grid))
    assert len(spans) == 1
    lo, hi = spans[0]
    assert 0.28 < lo < 0.29 and 5.3 < hi <= 5.42
    assert guided_spans(grid, Constant(1.0).weight(grid)) == []
    assert guided_spans(grid, Constant(2.0).weight(grid)) == [(0.001, 100.0)]
