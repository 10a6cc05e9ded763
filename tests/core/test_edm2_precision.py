"""EDM2 in bfloat16 and float16 on the CPU against the float32 golden outputs of the official network."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from .test_edm2_parity import FIXTURES, net_from_state_dict

# Stated tolerances (max |Δ| of the denoised output, of unit scale) against float32: bfloat16 keeps 8
# mantissa bits (measured 0.014), float16 11 (measured 0.002).
TOLERANCE = {torch.bfloat16: 0.03, torch.float16: 0.005}


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_forward_is_close_to_float32(dtype):
    io = load_file(FIXTURES / "latent16_c10.io.safetensors")
    net = net_from_state_dict().to(dtype)
    with torch.no_grad():
        out = net(io["x"], io["sigma"], io["class_labels"])
    assert out.dtype == torch.float32 and torch.isfinite(out).all()
    err = (out - io["denoised"]).abs().max().item()
    assert err <= TOLERANCE[dtype], f"{dtype}: max |Δ| = {err:.3g}"
    assert err > 0  # really computed in half precision
