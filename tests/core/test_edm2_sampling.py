"""edm2.sample: the official edm_sampler computation, guide skipping, latent conventions."""

from __future__ import annotations

import torch
from torch.testing import assert_close

from comfyui_autoguidance.edm2 import EDM2, latents, sample

from ..conftest import harness

TINY = harness.tiny_edm2(img_channels=3, label_dim=4)


class Counted(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net, self.calls, self.label_dim = net, 0, net.label_dim

    def forward(self, x, sigma, labels=None):
        self.calls += 1
        return self.net(x, sigma, labels)


def tiny(seed):
    torch.manual_seed(seed)
    net = EDM2(**TINY).eval()
    with torch.no_grad():
        for p in net.parameters():
            if p.ndim == 0:
                p.fill_(0.7)  # official init has zero gains: make every block matter
    return net


def test_w_one_never_calls_guide():
    main, guide = Counted(tiny(0)), Counted(tiny(1))
    noise = torch.randn(2, 3, 8, 8)
    labels = torch.eye(4)[[1, 2]]
    out = sample(main, noise, labels, guide=guide, guidance=1.0, num_steps=4)
    assert guide.calls == 0 and main.calls == 7
    assert torch.equal(out, sample(tiny(0), noise, labels, num_steps=4))


def test_guided_sampler_equals_official_style_loop():
    net, gnet = tiny(0), tiny(1)
    noise = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(3))
    labels = torch.eye(4)[[0, 3]]
    w, steps = 2.1, 6
    ours = sample(net, noise, labels, guide=gnet, guidance=w, num_steps=steps)

    def denoise(x, t):
        with torch.no_grad():
            return gnet(x, t, labels).to(torch.float32).lerp(net(x, t, labels).to(torch.float32), w)

    i = torch.arange(steps, dtype=torch.float32)
    t = (80 ** (1 / 7) + i / (steps - 1) * (0.002 ** (1 / 7) - 80 ** (1 / 7))) ** 7
    t = torch.cat([t, torch.zeros_like(t[:1])])
    x = noise.to(torch.float32) * t[0]
    for k in range(steps):
        d = (x - denoise(x, t[k])) / t[k]
        x_next = x + (t[k + 1] - t[k]) * d
        if k < steps - 1:
            d2 = (x_next - denoise(x_next, t[k + 1])) / t[k + 1]
            x_next = x + (t[k + 1] - t[k]) * (0.5 * d + 0.5 * d2)
        x = x_next
    assert_close(ours, x, rtol=0, atol=1e-6 * max(1.0, x.abs().max().item()))


def test_interval_schedule_skips_guide_outside():
    main, guide = Counted(tiny(0)), Counted(tiny(1))
    sample(
        main,
        torch.randn(1, 3, 8, 8),
        torch.eye(4)[[2]],
        guide=guide,
        num_steps=8,
        schedule={"kind": "interval", "w": 2.0, "sigma_lo": 0.28, "sigma_hi": 5.42},
    )
    assert 0 < guide.calls < main.calls == 15


def test_latent_normalisation_round_trip_and_targets():
    raw = torch.randn(2, 4, 8, 8) * torch.tensor([4.17, 4.62, 3.71, 3.28]).reshape(1, 4, 1, 1) + torch.tensor(
        [5.81, 3.25, 0.12, -2.15]
    ).reshape(1, 4, 1, 1)
    z = latents.raw_to_normalized(raw)
    assert_close(latents.normalized_to_raw(z), raw, rtol=1e-5, atol=1e-5)
    mean_raw = torch.tensor([5.81, 3.25, 0.12, -2.15]).reshape(1, 4, 1, 1).expand(1, 4, 1, 1)
    assert_close(latents.raw_to_normalized(mean_raw), torch.zeros(1, 4, 1, 1), rtol=0, atol=1e-6)
    one_std = latents.raw_to_normalized(mean_raw + torch.tensor([4.17, 0, 0, 0]).reshape(1, 4, 1, 1))
    assert abs(one_std[0, 0].item() - 0.5) < 1e-6  # one raw std above the mean → the final std 0.5
    assert latents.model_to_pixels(latents.pixels_to_model(torch.tensor([0.0, 0.25, 1.0]))).tolist() == [
        0.0,
        0.25,
        1.0,
    ]
