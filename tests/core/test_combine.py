"""guidance.combine: D = D1 + Σ_k (w_k − 1)(D1 − D0_k), hand-computed values."""

import pytest
import torch
from torch.testing import assert_close

from comfyui_autoguidance.guidance import combine


def test_autoguidance_is_lerp_from_guide_to_main():
    d1 = torch.tensor([[1.0, 2.0], [-1.0, 4.0]])
    d0 = torch.tensor([[0.5, 1.0], [0.0, 5.0]])
    # w·D1 + (1 − w)·D0 with w = 2: 2·D1 − D0
    assert_close(combine(d1, [(d0, 2.0)]), torch.tensor([[1.5, 3.0], [-2.0, 3.0]]), rtol=0, atol=0)
    assert_close(combine(d1, [(d0, 2.0)]), d0.lerp(d1, 2.0), rtol=0, atol=1e-7)


def test_cfg_and_hybrid():
    d1 = torch.tensor([3.0])
    d0_weak = torch.tensor([2.0])
    d0_uncond = torch.tensor([1.0])
    # CFG alone, w = 3: 3 + 2·(3 − 1) = 7
    assert combine(d1, [(d0_uncond, 3.0)]).item() == 7.0
    # hybrid: 3 + (2 − 1)(3 − 2) + (3 − 1)(3 − 1) = 8
    assert combine(d1, [(d0_weak, 2.0), (d0_uncond, 3.0)]).item() == 8.0


def test_w_one_returns_main_bit_for_bit():
    d1 = torch.randn(2, 4, 8, 8, dtype=torch.float16)
    d0 = torch.randn(2, 4, 8, 8, dtype=torch.float16)
    out = combine(d1, [(d0, 1.0), (d0, torch.ones(2))])
    assert out is d1


def test_per_sample_weights_and_ones_in_batch_keep_main_exactly():
    d1 = torch.randn(3, 2, 4)
    d0 = torch.randn(3, 2, 4)
    w = torch.tensor([1.0, 2.5, 0.0])
    out = combine(d1, [(d0, w)])
    assert torch.equal(out[0], d1[0])
    assert_close(out[1], d1[1] + 1.5 * (d1[1] - d0[1]), rtol=1e-6, atol=1e-6)
    assert_close(out[2], d0[2], rtol=1e-6, atol=1e-6)


def test_half_inputs_are_combined_in_float32():
    d1 = torch.tensor([1000.0, 60000.0], dtype=torch.float16)
    d0 = torch.tensor([999.0, 59000.0], dtype=torch.float16)
    out = combine(d1, [(d0, 3.0)])
    assert out.dtype == torch.float16
    expected = (d1.float() + 2 * (d1.float() - d0.float())).half()
    assert torch.equal(out, expected)  # 64000 fits fp16; an fp16 difference chain would round early


def test_bad_weight_shape_names_the_problem():
    with pytest.raises(ValueError, match="one per sample"):
        combine(torch.zeros(2, 3), [(torch.zeros(2, 3), torch.ones(3) * 2)])
    with pytest.raises(ValueError, match="shape"):
        combine(torch.zeros(2, 3), [(torch.zeros(2, 4), 2.0)])
