"""Our EDM2 against golden outputs of the official network (../shared/fixtures/edm2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from comfyui_autoguidance.edm2 import EDM2

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "edm2"
pytestmark = pytest.mark.skipif(not FIXTURES.is_dir(), reason=f"golden fixtures not found at {FIXTURES}")


def fixture_config() -> dict:
    return json.loads((FIXTURES / "latent16_c10.json").read_text())["config"]


def fixture_io() -> dict:
    return load_file(FIXTURES / "latent16_c10.io.safetensors")


def net_from_state_dict() -> EDM2:
    net = EDM2(**fixture_config()).eval()
    net.load_state_dict(load_file(FIXTURES / "latent16_c10.weights.safetensors"), strict=True)
    return net


def test_state_dict_parity_float32():
    io = fixture_io()
    with torch.no_grad():
        out = net_from_state_dict()(io["x"], io["sigma"], io["class_labels"])
    assert out.dtype == torch.float32
    assert (out - io["denoised"]).abs().max().item() <= 1e-5


def test_cached_weights_equal_per_call_normalisation_and_invalidate():
    io = fixture_io()
    net = net_from_state_dict()
    with torch.no_grad():
        cached = net(io["x"], io["sigma"], io["class_labels"])
        again = net(io["x"], io["sigma"], io["class_labels"])
        for m in net.modules():
            if hasattr(m, "cache_enabled"):
                m.cache_enabled = False
        fresh = net(io["x"], io["sigma"], io["class_labels"])
        for m in net.modules():
            if hasattr(m, "cache_enabled"):
                m.cache_enabled = True
        torch.testing.assert_close(cached, fresh, rtol=0, atol=2e-6)
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
