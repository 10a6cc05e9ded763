"""The pair inspector without ComfyUI: D1 − D0, D_w and RMS ratios (guidance.inspect), and the
pictures' pure parts (nodes/inspector/pictures.py): the signed colour map, the difference field
and the display of pixel-space samples."""

import math
from types import SimpleNamespace

import pytest
import torch
from torch.testing import assert_close

from comfyui_autoguidance.guidance.inspect import PairInspection, rms
from comfyui_autoguidance.nodes.inspector.pictures import Display, signed_colormap


def test_rms_and_ratio_by_hand():
    d1 = torch.tensor([[3.0, 4.0], [1.0, 1.0]])  # RMS 5/√2 and 1
    d0 = torch.tensor([[3.0, 2.0], [1.0, 1.0]])  # differences (0, 2) and (0, 0)
    assert_close(rms(d1), torch.tensor([5 / math.sqrt(2), 1.0]))
    ins = PairInspection(torch.tensor([1.0, 0.1]), d1, d1, d0, torch.ones(2))
    assert_close(ins.ratios, torch.tensor([math.sqrt(2) / (5 / math.sqrt(2)), 0.0]))


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


def test_difference_field_is_linear_through_the_preview_factors():
    v = torch.randn(4, 5, 6, generator=torch.Generator().manual_seed(1))
    assert_close(Display(SimpleNamespace()).field(v), v.mean(0))  # no preview factors: channel mean
    factors = torch.randn(4, 3, generator=torch.Generator().manual_seed(2))
    latent = Display(SimpleNamespace(latent_rgb_factors=factors.tolist(), latent_rgb_factors_bias=[0.1] * 3))
    by_hand = (v.permute(1, 2, 0) @ factors).mean(-1)  # bias-free: a difference has none
    assert_close(latent.field(v), by_hand, rtol=1e-5, atol=1e-6)
    assert_close(latent.field(-v), -by_hand, rtol=1e-5, atol=1e-6)  # linear: the sign is kept


def test_pixel_space_samples_show_as_they_are():
    grey = torch.tensor([[[[-1.0, 0.0], [1.0, 3.0]]]])  # [1, 1, 2, 2] in [−1, 1], one value over
    image = Display(SimpleNamespace()).images(grey)
    assert image.shape == (1, 2, 2, 3) and image[0, 0, 1].tolist() == [0.5] * 3
    assert image[0, 1, 1].tolist() == [1.0] * 3  # clamped
