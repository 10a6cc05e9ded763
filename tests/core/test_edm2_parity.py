"""Our EDM2 against golden outputs of the official network (tests/fixtures/edm2).

Bounds are float32 rounding at the reference's scale (tools/harness.py: ``float32_bound``), so they
hold on any CPU and still catch a real error.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from comfyui_autoguidance.edm2 import EDM2, sample

from ..conftest import harness

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "edm2"


def fixture_config(name: str = "latent16_c10") -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())["config"]


def fixture_io() -> dict:
    return load_file(FIXTURES / "latent16_c10.io.safetensors")


def net_from_state_dict(name: str = "latent16_c10") -> EDM2:
    net = EDM2(**fixture_config(name)).eval()
    net.load_state_dict(load_file(FIXTURES / f"{name}.weights.safetensors"), strict=True)
    return net


def test_state_dict_parity_float32():
    io = fixture_io()
    with torch.no_grad():
        out = net_from_state_dict()(io["x"], io["sigma"], io["class_labels"])
    assert out.dtype == torch.float32
    bound = harness.float32_bound(io["denoised"], harness.EPS_FORWARD)
    assert (out - io["denoised"]).abs().max().item() <= bound


def test_cached_weights_equal_per_call_normalisation_and_invalidate():
    io = fixture_io()
    net = net_from_state_dict()
    with torch.no_grad():
        cached = net(io["x"], io["sigma"], io["class_labels"])
        again = net(io["x"], io["sigma"], io["class_labels"])
        net.cache_normalized_weights(False)
        fresh = net(io["x"], io["sigma"], io["class_labels"])
        net.cache_normalized_weights(True)
        # the same maths, weights normalised once or per call: one evaluation's rounding
        bound = harness.float32_bound(fresh, harness.EPS_FORWARD)
        torch.testing.assert_close(cached, fresh, rtol=0, atol=bound)
        assert torch.equal(cached, again)
        net.unet.out_conv.weight.mul_(-1.0)  # an in-place change must invalidate the cache
        flipped = net(io["x"], io["sigma"], io["class_labels"])
    assert (flipped - cached).abs().max() > 1e-3


def test_bfloat16_forward_is_close():
    io = fixture_io()
    net = net_from_state_dict().to(torch.bfloat16)
    with torch.no_grad():
        out = net(io["x"], io["sigma"], io["class_labels"])
    assert out.dtype == torch.float32
    err = (out - io["denoised"]).abs().max().item()
    assert err < 0.1 * io["denoised"].abs().max().item()


@pytest.mark.parametrize(("w", "key"), [(2.0, "out_guided"), (1.0, "out_unguided")])
def test_autoguided_sampler_parity_with_official_edm_sampler(w, key):
    """edm2.sample with net + gnet = the official edm_sampler (8 Heun steps, guidance w)."""
    golden = load_file(FIXTURES / "sampler_latent16_autoguidance.safetensors")
    net, gnet = net_from_state_dict(), net_from_state_dict("latent16_c10_guide")
    out = sample(net, golden["noise"], golden["class_labels"], guide=gnet, guidance=w, num_steps=8)
    bound = harness.float32_bound(golden[key], harness.EPS_SAMPLER)
    torch.testing.assert_close(out, golden[key], rtol=0, atol=bound)
