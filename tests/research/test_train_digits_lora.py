"""The digits LoRA trainer: it trains the LoRA ComfyUI will apply, and the bundled file is its output."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from comfyui_autoguidance.edm2 import load
from research.train_digits_lora import ASSETS, OUT, PREFIX, RANK, attach, bold, lora_state


def test_lora_conv_is_the_mpconv_of_the_merged_weight():
    """What is trained is what LoraLoader computes: MPConv (weight normalisation) of W + up·down."""
    net = load(ASSETS / "digits-main.safetensors").eval()
    layers = attach(net)
    name, layer = next(iter(layers.items()))
    with torch.no_grad():
        layer.up.normal_(0, 0.1, generator=torch.Generator().manual_seed(0))
        x = torch.randn(2, layer.base.weight.shape[1], 8, 8, generator=torch.Generator().manual_seed(1))
        merged = load(ASSETS / "digits-main.safetensors").eval().get_submodule(name)
        merged.weight.add_(layer.delta())
        torch.testing.assert_close(layer(x), merged(x), rtol=1e-5, atol=1e-6)
    assert len(layers) == sum(n.endswith(("conv_res0", "conv_res1")) for n, _ in net.named_modules())


def test_state_is_in_comfyui_lora_format():
    net = load(ASSETS / "digits-main.safetensors").eval()
    state = lora_state(attach(net))
    name = "unet.enc.16x16_block0.conv_res0"
    weight = load(ASSETS / "digits-main.safetensors").get_submodule(name).weight
    assert state[f"{PREFIX}{name}.lora_up.weight"].shape == (weight.shape[0], RANK, 1, 1)
    assert state[f"{PREFIX}{name}.lora_down.weight"].shape == (RANK, *weight.shape[1:])
    assert float(state[f"{PREFIX}{name}.alpha"]) == RANK


def test_bold_thickens_strokes():
    images = -torch.ones(1, 1, 16, 16)
    images[0, 0, 8, 4:12] = 1.0  # a one-pixel line
    assert int((bold(images) > 0).sum()) == 3 * 10  # three rows, one pixel wider each side


@pytest.mark.skipif(
    not OUT.is_file(), reason="the bundled LoRA is not trained: python -m research.train_digits_lora"
)
def test_bundled_lora_is_small_and_complete():
    state = load_file(str(OUT))
    assert OUT.stat().st_size < 300_000
    net = load(ASSETS / "digits-main.safetensors")
    assert set(state) == set(lora_state(attach(net)))
