"""guided_denoiser and the EDM Heun sampler: NFE counts, skipping the guide, hand-rolled loop."""

import math

import pytest
import torch
from torch.testing import assert_close

from comfyui_autoguidance.guidance import guided_denoiser, heun_sample, karras_sigmas, schedule_from_dict


class Counting:
    """A toy denoiser D(x; σ) = x·a/(1 + σ) that records every σ it is called with."""

    def __init__(self, a: float):
        self.a = a
        self.sigmas: list[float] = []
        self.calls = 0

    def __call__(self, x, sigma, **kwargs):
        self.calls += 1
        self.sigmas.extend(sigma.tolist())
        return x * self.a / (1 + sigma.reshape(-1, *([1] * (x.ndim - 1))))


def test_karras_sigmas_match_eq5():
    s = karras_sigmas(32, 0.002, 80.0, 7.0)
    assert len(s) == 33 and s[-1] == 0
    assert s[0].item() == pytest.approx(80.0, rel=1e-12) and s[31].item() == pytest.approx(0.002, rel=1e-12)
    i = 10
    expected = (80 ** (1 / 7) + i / 31 * (0.002 ** (1 / 7) - 80 ** (1 / 7))) ** 7
    assert s[i].item() == pytest.approx(expected, rel=1e-12)


def expected_evaluation_sigmas(num_steps=32, sigma_min=0.002, sigma_max=80.0, rho=7.0):
    """σ of every denoiser evaluation of a deterministic Heun run, computed by hand."""
    t = [
        (sigma_max ** (1 / rho) + i / (num_steps - 1) * (sigma_min ** (1 / rho) - sigma_max ** (1 / rho)))
        ** rho
        for i in range(num_steps)
    ] + [0.0]
    evals = []
    for i in range(num_steps):
        evals.append(t[i])
        if i < num_steps - 1:
            evals.append(t[i + 1])
    return evals


def test_interval_guide_called_once_per_evaluation_inside_interval():
    main, guide = Counting(0.9), Counting(0.7)
    schedule = schedule_from_dict({"kind": "interval", "w": 2.0, "sigma_lo": 0.28, "sigma_hi": 5.42})
    denoise = guided_denoiser(main, guide, schedule)
    heun_sample(
        denoise, torch.randn(2, 3, 4, 4, generator=torch.Generator().manual_seed(0)), karras_sigmas(32)
    )
    evals = expected_evaluation_sigmas()
    inside = [s for s in evals if 0.28 < s <= 5.42]
    assert main.calls == len(evals) == 63
    assert guide.calls == len(inside) > 0
    assert len(inside) < len(evals)
    assert guide.sigmas == pytest.approx([s for s in inside for _ in range(2)], rel=1e-6)


def test_w_one_never_calls_guide_and_equals_unguided():
    main, guide = Counting(0.9), Counting(0.7)
    noise = torch.randn(2, 3, 4, 4, generator=torch.Generator().manual_seed(1))
    guided = heun_sample(guided_denoiser(main, guide, 1.0), noise, karras_sigmas(8))
    plain = heun_sample(Counting(0.9), noise, karras_sigmas(8))
    assert guide.calls == 0
    assert torch.equal(guided, plain)


def test_guided_sampler_matches_hand_rolled_official_loop():
    main, guide = Counting(0.9), Counting(0.6)
    w = 2.1
    noise = torch.randn(3, 2, 4, 4, generator=torch.Generator().manual_seed(2))
    ours = heun_sample(guided_denoiser(main, guide, w), noise, karras_sigmas(16), dtype=torch.float64)

    def denoise(x, t):
        s = t.expand(x.shape[0])
        return guide(x, s).lerp(main(x, s), w)

    t = karras_sigmas(16)
    x = noise.double() * t[0]
    for i in range(16):
        d = (x - denoise(x, t[i])) / t[i]
        x_next = x + (t[i + 1] - t[i]) * d
        if i < 15:
            d2 = (x_next - denoise(x_next, t[i + 1])) / t[i + 1]
            x_next = x + (t[i + 1] - t[i]) * (0.5 * d + 0.5 * d2)
        x = x_next
    assert_close(ours, x, rtol=0, atol=1e-10)


def test_per_sample_weights_keep_d1_where_w_is_one():
    seen = {}

    def main(x, sigma, labels=None):
        return x + labels.reshape(-1, 1)

    def guide(x, sigma, labels=None):
        seen["batch"], seen["labels"] = x.shape[0], labels.clone()
        return x

    schedule = schedule_from_dict({"kind": "interval", "w": 3.0, "sigma_lo": 1.0, "sigma_hi": 10.0})
    denoise = guided_denoiser(main, guide, schedule)
    x = torch.zeros(3, 2)
    labels = torch.tensor([1.0, 2.0, 3.0])
    out = denoise(x, torch.tensor([0.5, 5.0, 20.0]), labels=labels)
    assert seen["batch"] == 3 and seen["labels"].tolist() == [1.0, 2.0, 3.0]  # the kwargs, whole
    assert_close(out, torch.tensor([[1.0, 1.0], [6.0, 6.0], [3.0, 3.0]]), rtol=0, atol=0)


def test_two_guides_hybrid_with_own_weights():
    d = guided_denoiser(lambda x, s: x * 3, [lambda x, s: x * 2, lambda x, s: x * 1], [2.0, 3.0])
    assert d(torch.ones(1, 1), 1.0).item() == 8.0
    with pytest.raises(ValueError, match="2 guides but 3 weights"):
        guided_denoiser(lambda x, s: x, [lambda x, s: x] * 2, [1.0, 2.0, 3.0])


def test_churn_is_deterministic_for_a_generator_and_changes_result():
    main = Counting(0.9)
    noise = torch.randn(1, 2, 4, 4, generator=torch.Generator().manual_seed(3))
    a = heun_sample(main, noise, karras_sigmas(8), S_churn=10, generator=torch.Generator().manual_seed(5))
    b = heun_sample(main, noise, karras_sigmas(8), S_churn=10, generator=torch.Generator().manual_seed(5))
    c = heun_sample(main, noise, karras_sigmas(8))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert math.isfinite(a.abs().max().item())


def test_bad_sampler_arguments():
    with pytest.raises(ValueError, match="num_steps"):
        karras_sigmas(0)
    with pytest.raises(ValueError, match="sigma_min"):
        karras_sigmas(8, sigma_min=10, sigma_max=1)
