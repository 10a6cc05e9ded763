"""Adapters as side branches (nodes/pair/adapters.py) against ComfyUI's own merge, layer by layer.

For each adapter kind and layer shape, f(x; W) + h(x) must equal f(x; W') with W' merged by
``comfy.lora.calculate_weight`` (what LoraLoader does) to float32 rounding: a few eps of the output.

Why core's bypass LoRA and the merged one were once measured 7e-4 apart on a whole network: they
agree per layer like this, but a random test network with a LoRA that moves its output by more than
half is ill-conditioned (attention logits in the tens): there, merely re-rounding the merged weights
(merging in float64 first) moves the output as much. On well-conditioned models (these tests, the
pair tests) whole networks agree to ~5e-7.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from .comfy_env import import_comfy

pytestmark = pytest.mark.comfyui

LAYERS = {  # name: (weight shape, functional call of the layer, module)
    "linear": ((48, 32), lambda x, w: F.linear(x, w), torch.nn.Linear(32, 48, bias=False)),
    "conv3x3/2": (
        (48, 32, 3, 3),
        lambda x, w: F.conv2d(x, w, stride=2, padding=1),
        torch.nn.Conv2d(32, 48, 3, 2, 1),
    ),
    "conv1x1": ((48, 32, 1, 1), lambda x, w: F.conv2d(x, w), torch.nn.Conv2d(32, 48, 1)),
}


@pytest.fixture(scope="module", autouse=True)
def comfy():
    import_comfy()
    import comfy.weight_adapter  # noqa: F401


def rand(*shape, seed=0, scale=0.3):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed)) * scale


def adapter(kind: str, shape: tuple, variant: str):
    """A ComfyUI adapter object for a weight of ``shape`` (the tuple layouts of comfy.weight_adapter)."""
    import comfy.weight_adapter as wa

    out_dim, rest = shape[0], shape[1:]
    flat = int(torch.tensor(rest).prod())
    if kind == "lora":
        mid = rand(4, 4, *rest[1:], seed=3) if variant == "tucker" and len(shape) == 4 else None
        down = rand(4, rest[0], *((1, 1) if mid is not None else rest[1:]), seed=2)
        return wa.LoRAAdapter(
            set(), (rand(out_dim, 4, *(1,) * (len(shape) - 2), seed=1), down, 3.0, mid, None, None)
        )
    if kind == "loha":
        return wa.LoHaAdapter(
            set(),
            (
                rand(out_dim, 2, seed=1),
                rand(2, flat, seed=2),
                1.5,
                rand(out_dim, 3, seed=3),
                rand(3, flat, seed=4),
                None,
                None,
                None,
            ),
        )
    a, b = 4, 2
    w2 = rand(out_dim // a, rest[0] // b, *rest[1:], seed=2) if variant == "full" else None
    w2_a, w2_b = (
        (None, None) if w2 is not None else (rand(out_dim // a, 3, seed=3), rand(3, flat // b, seed=4))
    )
    return wa.LoKrAdapter(set(), (rand(a, b, seed=1, scale=1.0), w2, 2.0, None, None, w2_a, w2_b, None, None))


CASES = [("lora", ""), ("lora", "tucker"), ("loha", ""), ("lokr", "low-rank"), ("lokr", "full")]


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize(("kind", "variant"), CASES, ids=[f"{k}-{v}" if v else k for k, v in CASES])
def test_branch_equals_the_merged_layer(layer, kind, variant):
    import comfy.lora

    from comfyui_autoguidance.nodes.pair.adapters import geometry_of, side_branch

    shape, call, module = LAYERS[layer]
    weight = rand(*shape, seed=9, scale=0.2)
    data = adapter(kind, shape, variant)
    merged = comfy.lora.calculate_weight([(0.7, data, 1.0, None, None)], weight.clone(), "layer.weight")
    branch = side_branch(data.name, tuple(data.weights), 0.7, weight.shape)
    assert branch is not None
    x = rand(2, 5, 32, seed=8, scale=1.0) if layer == "linear" else rand(2, 32, 9, 9, seed=8, scale=1.0)
    expected = call(x, merged)
    with torch.no_grad():
        ours = branch.to(x.device, x.dtype).add_to(call(x, weight), x, geometry_of(module))
    assert float((ours - expected).abs().max()) <= 16 * torch.finfo(torch.float32).eps * float(
        expected.abs().max()
    )
    assert float((expected - call(x, weight)).abs().max()) > 0.01 * float(expected.abs().max())  # it matters


def test_what_is_not_a_branch_says_so():
    from comfyui_autoguidance.nodes.pair.adapters import geometry_of, side_branch

    up, down = rand(8, 2), rand(2, 8)
    assert (
        side_branch("lora", (up, down, None, None, torch.ones(8, 1), None), 1.0, torch.Size([8, 8])) is None
    )  # DoRA
    assert side_branch("oft", (), 1.0, torch.Size([8, 8])) is None
    assert geometry_of(torch.nn.Conv2d(8, 8, 3, groups=2)) is None
    assert geometry_of(torch.nn.LayerNorm(8)) is None


def test_bypass_and_merged_lora_differ_by_rounding_amplified_by_the_network():
    """Whole networks: core's bypass LoRA and the merged LoRA agree to float32 noise on a LoRA of normal
    size; on an ill-conditioned net (ΔW ten times W) they drift apart, but no more than the merged model
    drifts from itself merged in float64 first: rounding, amplified, not a different LoRA."""
    import copy

    import comfy.model_management as mm
    import comfy.sd

    from ..conftest import harness

    if not hasattr(comfy.sd, "load_bypass_lora_for_models"):
        pytest.skip("no LoraLoaderBypass (comfy.sd.load_bypass_lora_for_models) in this ComfyUI")
    base = harness.sd15_patcher(1, model_channels=64)
    state = base.model.state_dict()
    keys = harness.lora_targets(state, convs=False)
    x, sigma, context = (
        rand(1, 4, 8, 8, seed=3, scale=1.0),
        torch.tensor([1.0]),
        rand(1, 8, 32, seed=4, scale=1.0),
    )
    gaps = {}
    for delta in (0.02, 2.0):
        lora = harness.lora_file(state, "lora", keys, rank=4, delta=delta)
        outputs = []
        for load in (comfy.sd.load_lora_for_models, comfy.sd.load_bypass_lora_for_models):
            patched = load(base, None, lora, 1.0, 0)[0]  # held: ComfyUI keeps only a weak reference
            mm.load_models_gpu([patched])
            with torch.no_grad():
                outputs.append(base.model.apply_model(x, sigma, c_crossattn=context))
            mm.unload_all_models()
        config = base.model.model_config
        merged64 = copy.deepcopy(base.model, memo={id(config): config})
        with torch.no_grad():
            for key in keys:
                name, w = key[: -len(".weight")], merged64.state_dict()[key]
                up, down = (lora[f"{name}.lora_{s}.weight"].double().flatten(1) for s in ("up", "down"))
                w.copy_((w.double() + up @ down).float())
            outputs.append(merged64.apply_model(x, sigma, c_crossattn=context))
        scale = float(outputs[0].abs().max())
        gaps[delta] = [
            float((o - outputs[0]).abs().max()) / scale for o in outputs[1:]
        ]  # bypass, float64 merge
    assert gaps[0.02][0] < 1e-5 and gaps[0.02][1] < 1e-5, gaps
    assert gaps[2.0][0] > 1e-4 and gaps[2.0][1] > gaps[2.0][0] / 10, gaps
