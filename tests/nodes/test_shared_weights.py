"""A LoRA guided by its own base over one copy of the base weights (issue #19), in real ComfyUI.

main = base + adapter from ComfyUI's own loaders (LoraLoader's ``load_lora_for_models`` and, where
the ComfyUI has it, LoraLoaderBypass's ``load_bypass_lora_for_models``), guide = the same loaded base.
Every expected value comes from two *separate* models: a deep copy of the base with the adapter
applied by the same loader, and another copy left bare.
"""

from __future__ import annotations

import pytest
import torch

from ..conftest import harness
from .comfy_env import import_comfy, record_steps, run_guider, text_cond

pytestmark = pytest.mark.comfyui

LOADERS = {"LoraLoader": "load_lora_for_models", "LoraLoaderBypass": "load_bypass_lora_for_models"}
ADAPTERS = ("lora", "loha", "lokr")
W, CFG = 2.5, 3.0
RELATIVE = 1e-5  # the bound: ~84 float32 eps of the step's own scale


@pytest.fixture(scope="module")
def comfy():
    import_comfy()
    import comfy.sample
    import comfy.samplers
    import comfy.sd

    return comfy


@pytest.fixture(scope="module")
def base(comfy):
    return harness.sd15_patcher(3, model_channels=32)


def load_with(name: str):
    """The loader's own function: (patcher, adapter file, strength) → patched patcher."""
    import comfy.sd

    if not hasattr(comfy.sd, LOADERS[name]):
        pytest.skip(f"{name} is not in this ComfyUI (comfy.sd.{LOADERS[name]} arrived after 0.3.64)")
    return lambda patcher, lora, strength=1.0: getattr(comfy.sd, LOADERS[name])(
        patcher, None, lora, strength, 0
    )[0]


def adapter_file(base, kind: str, loader: str, seed: int = 0) -> dict:
    """LoRA on the transformers' Linears and the 3×3 convs; LoHa at rank 2 (so r1·r2 stays a branch);
    LoKr under the bypass loader on Linears only (core's LoKr bypass fails on convs whose ``lokr_w2_b``
    is 2-D, the LyCORIS layout, in the reference as much as in the pair)."""
    state = base.model.state_dict()
    convs = not (kind == "lokr" and loader == "LoraLoaderBypass")
    return harness.lora_file(
        state, kind, harness.lora_targets(state, convs), rank=2 if kind == "loha" else 4, seed=seed
    )


def sigmas(base, steps: int = 3):
    import comfy.samplers

    return comfy.samplers.calculate_sigmas(base.get_model_object("model_sampling"), "karras", steps)


def make_guider(main, guide, w=W, cfg=CFG, **extra):
    from comfyui_autoguidance.nodes.guider import AutoguidanceGuider

    negative = text_cond(11) if cfg != 1.0 else None
    node = AutoguidanceGuider.execute(
        model=main, guide_model=guide, positive=text_cond(10), negative=negative, w=w, cfg=cfg, **extra
    )
    return node.result[0]


def separate(base, make=lambda p: p):
    """``make`` applied to a separate deep copy of the clean base (the pair's hooks unloaded first)."""
    import comfy.model_management as mm

    mm.unload_all_models()
    return make(harness.patcher_copy(base))


def worst_relative_error(steps, main_ref, guide_ref, w=W, cfg=CFG) -> tuple[float, float]:
    """(max over steps of |step − expected| / max|expected|, the adapter's own effect max|D1 − D0| /
    max|D1|) with expected = D1 + (cfg − 1)(D1 − D1(∅)) + (w − 1)(D1 − D0), D1 and D0 from two separate
    loaded models: the comparison must resolve far less than what the adapter changes."""
    import comfy.model_management as mm

    mm.unload_all_models()
    mm.load_models_gpu([main_ref, guide_ref])
    worst, effect = 0.0, 0.0
    with torch.no_grad():
        for x, sigma, out in steps:
            d_c, d_u = (
                main_ref.model.apply_model(x, sigma, c_crossattn=text_cond(s)[0][0]) for s in (10, 11)
            )
            d_g = guide_ref.model.apply_model(x, sigma, c_crossattn=text_cond(10)[0][0])
            expected = d_c + (cfg - 1) * (d_c - d_u) + (w - 1) * (d_c - d_g)
            worst = max(worst, float((out - expected).abs().max() / expected.abs().max()))
            effect = max(effect, float((d_c - d_g).abs().max() / d_c.abs().max()))
    mm.unload_all_models()
    return worst, effect


@pytest.mark.parametrize("kind", ADAPTERS)
@pytest.mark.parametrize("loader", LOADERS)
def test_each_step_equals_two_separate_models(base, loader, kind):
    """Must-show 2: with CFG on top, each guided step over one copy equals the step made from two
    separate models, the main one with the adapter applied as its loader applies it."""
    load = load_with(loader)
    lora = adapter_file(base, kind, loader)
    guider = make_guider(load(base, lora), base)
    assert guider.guide.model is base.model  # one model: the guide rides on the main's weights
    steps = record_steps(guider)
    run_guider(guider, sigmas(base))
    main_ref, guide_ref = separate(base, lambda p: load(p, lora)), separate(base)
    error, effect = worst_relative_error(steps, main_ref, guide_ref)
    assert error <= RELATIVE < effect / 100, (error, effect)


def test_guide_at_lower_strength_and_pairs_of_different_loras(base):
    """guide = the same LoRA at half strength, then main and guide with two different LoRAs."""
    load = load_with("LoraLoader")
    lora_a, lora_b = adapter_file(base, "lora", "LoraLoader", 1), adapter_file(base, "lokr", "LoraLoader", 2)
    for main_of, guide_of in (
        (lambda p: load(p, lora_a), lambda p: load(p, lora_a, 0.5)),
        (lambda p: load(p, lora_a), lambda p: load(p, lora_b, 0.7)),
    ):
        guider = make_guider(main_of(base), guide_of(base))
        steps = record_steps(guider)
        run_guider(guider, sigmas(base))
        error, effect = worst_relative_error(steps, separate(base, main_of), separate(base, guide_of))
        assert error <= RELATIVE < effect / 100, (error, effect)


def test_ksampler_patch_runs_the_same_pair(comfy, base):
    """Both nodes, one seam: the KSampler patch over the shared pair gives the guider's sample, here
    with an interval schedule (the guide pass runs only inside it)."""
    from comfyui_autoguidance.guidance import Constant, Interval
    from comfyui_autoguidance.nodes.model_patch import AutoguidanceModelPatch

    main = load_with("LoraLoader")(base, adapter_file(base, "lora", "LoraLoader"))
    schedule = Interval(Constant(W), 0.28, 5.42)
    patched = AutoguidanceModelPatch.execute(model=main, guide_model=base, w=W, schedule=schedule).result[0]
    assert patched.get_nested_additional_models() == []  # nothing more to load: one copy
    noise = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    via_patch = comfy.sample.sample(
        patched,
        noise,
        3,
        CFG,
        "heun",
        "karras",
        text_cond(10),
        text_cond(11),
        torch.zeros_like(noise),
        seed=0,
        disable_pbar=True,
    )
    guider = make_guider(main, base, schedule=schedule)
    via_guider = run_guider(guider, sigmas(base))
    assert 0 < guider.guide_calls < 5  # heun, 3 steps: 5 evaluations, some outside the interval
    torch.testing.assert_close(via_patch, via_guider, rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------
# Memory: what is resident for the pair while it samples.


def resident_while_sampling(guider, before: set[int]) -> int:
    """Resident bytes of the diffusion modules made since ``before`` (ids), measured inside the run."""
    seen = {}
    original = guider.predict_noise

    def measured(*args, **kwargs):
        out = original(*args, **kwargs)
        seen.setdefault("bytes", harness.resident_bytes(harness.diffusion_modules(exclude=before)))
        return out

    guider.predict_noise = measured
    run_guider(guider, sigmas(guider.guide, 2))
    return seen["bytes"]


@pytest.mark.parametrize("loader", LOADERS)
def test_weights_resident_during_sampling_are_one_models(comfy, loader):
    """Must-show 1: a rank-4 LoRA pair holds ≤ 1.05× one model's weights while it samples (the old
    path, a second copy for the guide, holds 2×)."""
    from comfyui_autoguidance.nodes.pair.shared_weights import separate_guide

    load = load_with(loader)
    before = {id(m) for m in harness.diffusion_modules()}
    base = harness.sd15_patcher(4, model_channels=64)
    one_model = harness.resident_bytes([base.model.diffusion_model])
    state = base.model.state_dict()
    main = load(base, harness.lora_file(state, "lora", harness.lora_targets(state, convs=False), rank=4))
    shared = resident_while_sampling(make_guider(main, base), before) / one_model
    comfy.model_management.unload_all_models()
    copied = (
        resident_while_sampling(make_guider(main, separate_guide("test", main, base)), before) / one_model
    )
    comfy.model_management.unload_all_models()
    assert shared <= 1.05, shared
    assert copied >= 1.95, copied  # the count sees a second copy when there is one


def test_main_patcher_size_counts_what_it_holds_and_is_loaded_alone(comfy, base):
    """ComfyUI plans loads with ``model_size()``: the main patcher counts the branches it adds; the
    guide is not loaded as a model of its own."""
    from comfyui_autoguidance.nodes.pair.shared_weights import share_weights

    lora = adapter_file(base, "loha", "LoraLoader")
    shared, _ = share_weights("test", load_with("LoraLoader")(base, lora), base)
    factors = sum(t.numel() * t.element_size() for k, t in lora.items() if "hada" in k)
    assert base.model_size() < shared.model_size() <= base.model_size() + 4 * factors  # LoHa's U, V
    guider = make_guider(load_with("LoraLoader")(base, lora), base)
    loads = []
    original = comfy.model_management.load_models_gpu
    comfy.model_management.load_models_gpu = lambda models, *a, **k: (
        loads.append(list(models)) or original(models, *a, **k)
    )
    try:
        run_guider(guider, sigmas(base, 2))
    finally:
        comfy.model_management.load_models_gpu = original
    assert [len(m) for m in loads] == [1] and loads[0][0].model is base.model


def test_nothing_is_patched_between_passes(comfy, base):
    """The adapter never touches the weights: a LoRA pair merges, patches and unpatches nothing while it
    samples, however many steps, and every weight keeps its storage."""
    import comfy.lora
    import comfy.model_patcher as mp

    main = load_with("LoraLoader")(base, adapter_file(base, "lora", "LoraLoader"))
    counts: dict[str, int] = {}
    targets = {
        (mp.ModelPatcher, "patch_weight_to_device"),
        (mp.ModelPatcher, "unpatch_model"),
        (comfy.lora, "calculate_weight"),
    }
    originals = {(owner, name): getattr(owner, name) for owner, name in targets}

    def counting(name, fn):
        def spy(*args, **kwargs):
            counts[name] = counts.get(name, 0) + 1
            return fn(*args, **kwargs)

        return spy

    storages = {k: v.untyped_storage().data_ptr() for k, v in base.model.state_dict().items()}
    per_run = []
    try:
        for (owner, name), fn in originals.items():
            setattr(owner, name, counting(name, fn))
        for steps in (2, 6):
            comfy.model_management.unload_all_models()
            counts.clear()
            run_guider(make_guider(main, base), sigmas(base, steps))
            per_run.append(dict(counts))
    finally:
        for (owner, name), fn in originals.items():
            setattr(owner, name, fn)
        comfy.model_management.unload_all_models()
    assert per_run[0] == per_run[1] and not per_run[0].get("calculate_weight")
    assert {k: v.untyped_storage().data_ptr() for k, v in base.model.state_dict().items()} == storages


def test_patches_that_are_not_branches_cost_only_their_layers(comfy, base):
    """A full-weight diff on the output conv beside a LoRA: that one layer (diff and its LoRA) is merged
    into a main-pass copy, the LoRA runs as branches elsewhere; exact, and the patcher counts exactly
    those bytes."""
    from comfyui_autoguidance.nodes.pair.shared_weights import share_weights

    key = "diffusion_model.out.2.weight"
    diff = 0.05 * torch.randn(base.model.state_dict()[key].shape, generator=torch.Generator().manual_seed(7))
    lora = adapter_file(base, "lora", "LoraLoader")

    def with_both(patcher):
        patched = load_with("LoraLoader")(patcher, lora)
        patched.add_patches({key: (diff,)}, 1.0)
        return patched

    shared, _ = share_weights("test", with_both(base), base)
    # out.2's own LoRA factors are merged into its copy with the diff; every other layer's are branches
    factors = sum(
        t.numel() * t.element_size() for k, t in lora.items() if "lora_" in k and ".out.2." not in k
    )
    assert shared.model_size() - base.model_size() == factors + diff.numel() * diff.element_size()
    guider = make_guider(with_both(base), base)
    steps = record_steps(guider)
    run_guider(guider, sigmas(base))
    error, effect = worst_relative_error(steps, separate(base, with_both), separate(base))
    assert error <= RELATIVE < effect / 100, (error, effect)


def test_partial_loading_keeps_both_passes_exact(comfy, base):
    """ComfyUI's partial load (weights cast per call, the shared patches merged on the fly by its
    lowvram patches) under the pair's hooks: both passes still equal separate models."""
    from comfyui_autoguidance.nodes.pair.passes import guide_pass
    from comfyui_autoguidance.nodes.pair.shared_weights import share_weights

    key = "diffusion_model.input_blocks.1.1.proj_out.weight"
    diff = 0.05 * torch.randn(base.model.state_dict()[key].shape, generator=torch.Generator().manual_seed(8))
    lora = adapter_file(base, "lora", "LoraLoader")

    def common(patcher):  # a patch main and guide share: merged once, by ComfyUI
        patched = patcher.clone()
        patched.add_patches({key: (diff,)}, 1.0)
        return patched

    refs = separate(base, lambda p: load_with("LoraLoader")(common(p), lora)), separate(base, common)
    guide = common(base)
    shared, _ = share_weights("test", load_with("LoraLoader")(guide, lora), guide)
    assert key in shared.patches  # shared by both: stays a weight patch
    x = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(9))
    sigma, context = torch.tensor([2.0]), text_cond(10)[0][0]
    cpu = torch.device("cpu")
    shared.patch_model(cpu, lowvram_model_memory=shared.model_size() // 3)
    try:
        cast = [m for m in shared.model.modules() if getattr(m, "comfy_cast_weights", False)]
        assert cast and any(m._forward_hooks for m in cast)  # partly loaded, hooks on cast layers
        with torch.no_grad():
            d1 = shared.model.apply_model(x, sigma, c_crossattn=context)
            with guide_pass():
                d0 = shared.model.apply_model(x, sigma, c_crossattn=context)
    finally:
        shared.unpatch_model(cpu)
    comfy.model_management.load_models_gpu(list(refs))
    with torch.no_grad():
        expected = [r.model.apply_model(x, sigma, c_crossattn=context) for r in refs]
    comfy.model_management.unload_all_models()
    for ours, ref in zip((d1, d0), expected, strict=True):
        assert float((ours - ref).abs().max() / ref.abs().max()) <= RELATIVE
