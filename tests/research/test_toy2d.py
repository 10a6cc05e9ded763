"""The 2-D toy: exact mixture maths, sampler on the exact denoiser, deterministic training, the demo."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from comfyui_autoguidance.guidance import heun_sample, karras_sigmas
from research.toy2d import QUICK, run, toy_metrics
from research.toy2d_data import toy_classes, tree_mixture
from research.toy2d_model import ToyDenoiser, train_denoiser


def test_mixture_log_prob_matches_torch_distributions():
    mix = tree_mixture(1.7)
    assert abs(float(mix.weights.sum()) - 1.0) < 1e-12
    x = torch.randn(7, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2)) * 0.5
    comps = torch.distributions.MultivariateNormal(mix.means, covariance_matrix=mix.covs)
    expected = torch.logsumexp(comps.log_prob(x[:, None, :]) + mix.weights.log(), dim=1)
    assert_close(mix.log_prob(x), expected, rtol=1e-10, atol=1e-10)


def test_exact_denoiser_matches_tweedie_by_autograd():
    """D(x; σ) = x + σ²·∇ log p_σ(x) (Tweedie), with p_σ = p * N(0, σ²I)."""
    mix = tree_mixture(1.4)
    x = torch.randn(5, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)).requires_grad_(
        True
    )
    sigma = torch.tensor(0.3, dtype=torch.float64)
    logp = torch.logsumexp(mix._log_components(x, sigma**2), dim=1).sum()
    (grad,) = torch.autograd.grad(logp, x)
    assert_close(mix.denoise(x.detach(), sigma.expand(5)), x.detach() + sigma**2 * grad, rtol=1e-9, atol=1e-9)


def test_heun_on_the_exact_denoiser_stays_on_the_support():
    classes = toy_classes()
    mix = classes[0]
    n = 800
    g = torch.Generator().manual_seed(1)
    truth = mix.sample(n, g)
    x = heun_sample(
        lambda x, s: mix.denoise(x, s),
        torch.randn(n, 2, generator=g, dtype=torch.float64),
        karras_sigmas(32, 0.002, 10.0),
        dtype=torch.float64,
    )
    m = toy_metrics([mix], x, truth)
    assert m["outside"] < 0.03  # the truth itself is at 0.5% by construction of the threshold
    assert 0.6 < m["tips"] < 1.5


def test_training_is_deterministic_for_a_seed_and_learns():
    mix = toy_classes()[0]

    def sampler(n, g):
        return mix.sample(n, g).float(), torch.zeros(n, dtype=torch.long)

    def trained(seed):
        torch.manual_seed(0)
        losses = []
        model = train_denoiser(
            ToyDenoiser(32, 2, 1, 0.5),
            sampler,
            60,
            batch=256,
            seed=seed,
            progress=lambda step, loss: losses.append(loss),
        )
        return model, losses

    (a, la), (b, _), (c, _) = trained(3), trained(3), trained(4)
    assert all(
        torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    )
    assert not all(
        torch.equal(p, q) for p, q in zip(a.state_dict().values(), c.state_dict().values(), strict=True)
    )
    assert sum(la[-10:]) < sum(la[:10])


def test_quick_demo_writes_figure_and_table(tmp_path):
    from PIL import Image

    out = tmp_path / "toy.png"
    table = run(out, quick=True)
    assert list(table) == ["ground truth", "no guidance", "CFG", "autoguidance"]
    assert table["ground truth"]["outside"] == pytest.approx(0.005, abs=1 / QUICK.samples_per_class)
    assert 0.8 < table["ground truth"]["tips"] < 1.25
    # The paper's Figure 1 claim, even for the quick models: the weaker guide pulls samples back
    # onto the support (fewer outside) and out to the thin tips, where the unguided model smears.
    none, ag = table["no guidance"], table["autoguidance"]
    assert ag["outside"] < 0.85 * none["outside"], table
    assert ag["tips"] > 1.5 * none["tips"] and table["CFG"]["tips"] > none["tips"], table
    with Image.open(out) as img:
        assert img.size == (4 * 360, 360 + 22)  # four 360-px panels under a title strip
        colours = {c for _, c in img.convert("RGB").getcolors(1 << 16) or []}
        assert len(colours) > 10 and (255, 255, 255) in colours  # points drawn on white
