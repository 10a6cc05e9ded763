"""The EDM2 training loop: the paper's constants, determinism for a seed, learning on data."""

from __future__ import annotations

import math

import pytest
import torch

from comfyui_autoguidance.edm2 import EDM2
from research.edm2_training import TrainConfig, edm2_loss, ema_gamma, learning_rate, train

from ..conftest import harness


def tiny(label_dim: int = 3) -> EDM2:
    torch.manual_seed(0)
    return EDM2(
        **harness.tiny_edm2(img_channels=1, label_dim=label_dim, model_channels=8, attn_resolutions=[])
    )


def toy_data(n: int = 96) -> tuple[torch.Tensor, torch.Tensor]:
    """Three classes of 8×8 images: a bright left, middle or right third."""
    g = torch.Generator().manual_seed(1)
    labels = torch.arange(n) % 3
    images = -torch.ones(n, 1, 8, 8)
    for i, c in enumerate(labels.tolist()):
        images[i, :, :, c * 3 : c * 3 + 2] = 1.0
    return images + 0.05 * torch.randn(images.shape, generator=g), torch.nn.functional.one_hot(
        labels, 3
    ).float()


def test_ema_gamma_matches_the_paper():
    # EDM2 (Karras et al. 2024, Sec. 3.1): σ_rel = 0.10 ↔ γ = 6.94, σ_rel = 0.05 ↔ γ = 16.97.
    assert ema_gamma(0.10) == pytest.approx(6.94, abs=0.01)
    assert ema_gamma(0.05) == pytest.approx(16.97, abs=0.01)
    g = ema_gamma(0.13)
    assert math.sqrt((g + 1) / ((g + 2) ** 2 * (g + 3))) == pytest.approx(0.13, rel=1e-9)


def test_learning_rate_ramps_up_then_decays_as_inverse_square_root():
    cfg = TrainConfig(ref_lr=0.01, ref_steps=100, rampup_steps=10)
    assert learning_rate(0, cfg) == pytest.approx(0.001)
    assert learning_rate(50, cfg) == pytest.approx(0.01)
    assert learning_rate(400, cfg) == pytest.approx(0.01 / 2)


def test_loss_is_eq21_with_the_learned_uncertainty():
    net = tiny().eval()
    images, labels = toy_data(8)
    loss = edm2_loss(net, images, labels, torch.Generator().manual_seed(0), -0.8, 1.6)
    g = torch.Generator().manual_seed(0)  # the same draws, by hand
    sigma = (torch.randn(8, 1, 1, 1, generator=g) * 1.6 - 0.8).exp()
    noisy = images + torch.randn(images.shape, generator=g) * sigma
    denoised, u = net(noisy, sigma, labels, return_logvar=True)
    lam = (sigma**2 + 0.5**2) / (sigma * 0.5) ** 2  # λ(σ) = (σ² + σ_data²)/(σ·σ_data)²
    torch.testing.assert_close(loss, lam / u.exp() * (denoised - images) ** 2 + u)


def test_training_is_deterministic_for_a_seed_and_learns():
    images, labels = toy_data()
    cfg = TrainConfig(steps=40, batch=16, ref_steps=20, rampup_steps=4, seed=3)
    a = train(tiny(), images, labels, cfg)
    b = train(tiny(), images, labels, cfg)
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(pa, pb), name
    c = train(tiny(), images, labels, TrainConfig(**{**cfg.__dict__, "seed": 4}))
    assert any(
        not torch.equal(x, y) for x, y in zip(a.state_dict().values(), c.state_dict().values(), strict=True)
    )
    # Denoising error at a mid σ: the trained EMA network beats the untrained one.
    g = torch.Generator().manual_seed(9)
    sigma = torch.full((len(images),), 0.5)
    noisy = images + torch.randn(images.shape, generator=g) * 0.5
    with torch.no_grad():
        err_trained = (a(noisy, sigma, labels) - images).square().mean()
        err_untrained = (tiny().eval()(noisy, sigma, labels) - images).square().mean()
    assert err_trained < 0.7 * err_untrained, (float(err_trained), float(err_untrained))


def test_ema_is_the_power_function_average_of_the_iterates():
    """EDM2's power-function EMA: β_t = (1 − 1/t)^(γ+1) weighs the iterate θ_t by
    (t^(γ+1) − (t−1)^(γ+1))/T^(γ+1), the closed form of the recursion."""
    images, labels = toy_data(16)
    cfg = TrainConfig(steps=6, batch=4, seed=0, ema_std=0.2)
    net = tiny()
    iterates: list[dict[str, torch.Tensor]] = []
    ema = train(
        net,
        images,
        labels,
        cfg,
        progress=lambda s, loss: iterates.append({k: v.clone() for k, v in net.named_parameters()}),
    )
    e, big_t = ema_gamma(cfg.ema_std) + 1, float(cfg.steps)
    weights = [(t**e - (t - 1) ** e) / big_t**e for t in range(1, cfg.steps + 1)]
    assert sum(weights) == pytest.approx(1.0, abs=1e-12) and weights[-1] > weights[0]
    for name, value in ema.named_parameters():
        expected = sum(w * theta[name] for w, theta in zip(weights, iterates, strict=True))
        torch.testing.assert_close(value, expected, rtol=1e-5, atol=1e-6, msg=name)
    assert not torch.equal(
        dict(ema.named_parameters())["unet.out_conv.weight"], iterates[-1]["unet.out_conv.weight"]
    )


def test_progress_callback_sees_every_step():
    images, labels = toy_data(16)
    seen = []
    train(
        tiny(), images, labels, TrainConfig(steps=5, batch=4, seed=0), progress=lambda s, loss: seen.append(s)
    )
    assert seen == [0, 1, 2, 3, 4]
