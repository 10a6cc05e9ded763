"""The guider and the KSampler patch inside real ComfyUI sampling, on tiny SD1.5-style models.

Every expected value is computed by calling the models' own ``apply_model`` separately.
"""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from .comfy_env import import_comfy, record_steps, run_guider, text_cond, tiny_sd15

pytestmark = pytest.mark.comfyui


@pytest.fixture(scope="module")
def comfy():
    import_comfy()
    import comfy.sample
    import comfy.samplers

    return comfy


@pytest.fixture(scope="module")
def pair(comfy):
    return tiny_sd15(seed=1, model_channels=64), tiny_sd15(seed=2, model_channels=32)


def sigmas_for(model, steps=6, scheduler="karras"):
    import comfy.samplers

    return comfy.samplers.calculate_sigmas(model.get_model_object("model_sampling"), scheduler, steps)


def make_guider(main, guide, positive, negative=None, w=2.0, cfg=1.0, schedule=None, cfg_schedule=None):
    from comfyui_autoguidance.nodes.guider import AutoguidanceGuider

    return AutoguidanceGuider.execute(
        model=main,
        guide_model=guide,
        positive=positive,
        negative=negative,
        w=w,
        cfg=cfg,
        schedule=schedule,
        cfg_schedule=cfg_schedule,
    ).result[0]


def test_each_step_is_the_combination_of_separate_predictions(pair):
    main, guide = pair
    positive, negative = text_cond(10), text_cond(11)
    guider = make_guider(main, guide, positive, negative, w=2.5, cfg=3.0)
    steps = record_steps(guider)
    run_guider(guider, sigmas_for(main))
    assert len(steps) == 2 * 6 - 1  # heun: no correction on the last step
    with torch.no_grad():
        for x, sigma, out in steps:
            d_c = main.model.apply_model(x, sigma, c_crossattn=positive[0][0])
            d_u = main.model.apply_model(x, sigma, c_crossattn=negative[0][0])
            d_g = guide.model.apply_model(x, sigma, c_crossattn=positive[0][0])
            expected = d_c + (3.0 - 1) * (d_c - d_u) + (2.5 - 1) * (d_c - d_g)
            # ComfyUI's cfg_function forms (u + Δ) + cfg·((c + Δ) − (u + Δ)): a few float32 ulps of
            # the shifted terms away from the direct sum.
            assert_close(out, expected, rtol=1e-5, atol=3e-5)


def test_interval_guide_calls_equal_evaluations_inside(pair):
    from comfyui_autoguidance.guidance import Constant, Interval

    main, guide = pair
    guider = make_guider(main, guide, text_cond(10), w=2.0, schedule=Interval(Constant(2.0), 0.28, 5.42))
    steps = record_steps(guider)
    run_guider(guider, sigmas_for(main, steps=10))
    inside = [s for _, s, _ in steps if 0.28 < s.item() <= 5.42]
    assert 0 < len(inside) < len(steps)
    assert guider.guide_calls == len(inside)


def test_w_one_is_the_unguided_result_bit_for_bit(comfy, pair):
    main, guide = pair
    positive = text_cond(10)
    ours = run_guider(make_guider(main, guide, positive, w=1.0), sigmas_for(main))
    stock = comfy.samplers.CFGGuider(main)
    stock.set_conds(positive, text_cond(11))
    stock.set_cfg(1.0)
    assert torch.equal(ours, run_guider(stock, sigmas_for(main)))


def test_lora_style_patch_applies_to_the_guide_only(pair):
    main, _ = pair
    key = "diffusion_model.out.2.weight"
    weight = main.model.state_dict()[key]
    guide = main.clone()  # the same checkpoint twice: a shared underlying model
    guide.add_patches({key: (torch.randn_like(weight) * 0.5,)}, strength_patch=1.0)
    positive = text_cond(10)
    guider = make_guider(main, guide, positive, w=2.0)
    assert guider.guide.model is main.model  # one copy of the weights: the patch is merged per pass
    steps = record_steps(guider)
    run_guider(guider, sigmas_for(main, steps=3))
    patched_weight = weight + guide.patches[key][0][1][0]
    assert not torch.equal(main.model.state_dict()[key], patched_weight)  # main untouched
    x, sigma, out = steps[0]
    with torch.no_grad():
        d_c = main.model.apply_model(x, sigma, c_crossattn=positive[0][0])
        import copy

        config = main.model.model_config  # shared: 0.4.0+ configs answer any attribute, deepcopy breaks
        reference = copy.deepcopy(main.model, memo={id(config): config})
        reference.state_dict()[key].copy_(patched_weight)
        d_g = reference.apply_model(x, sigma, c_crossattn=positive[0][0])
    assert_close(out, d_c + (d_c - d_g), rtol=1e-5, atol=1e-5)


def test_model_patch_on_plain_ksampler_equals_guider(comfy, pair):
    from comfyui_autoguidance.nodes.model_patch import AutoguidanceModelPatch

    main, guide = pair
    positive, negative = text_cond(10), text_cond(11)
    patched = AutoguidanceModelPatch.execute(model=main, guide_model=guide, w=2.0).result[0]
    noise = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(5))
    latent = torch.zeros_like(noise)
    via_ksampler = comfy.sample.sample(
        patched, noise, 6, 4.0, "heun", "karras", positive, negative, latent, seed=5, disable_pbar=True
    )
    via_guider = run_guider(
        make_guider(main, guide, positive, negative, w=2.0, cfg=4.0), sigmas_for(main), seed=5
    )
    assert_close(via_ksampler, via_guider, rtol=1e-5, atol=1e-5)  # one seam: same step by construction
    assert not torch.allclose(
        via_guider,
        comfy.sample.sample(
            main, noise, 6, 4.0, "heun", "karras", positive, negative, latent, seed=5, disable_pbar=True
        ),
    )


def test_guide_is_loaded_by_comfy_model_management(comfy, pair):
    """The guide rides as an additional model of the main patcher: prepare_sampling loads both."""
    import comfy.model_management as mm

    main, guide = pair
    guider = make_guider(main, guide, text_cond(10), w=2.0)
    assert guider.model_patcher.get_nested_additional_models() == [guide]
    mm.unload_all_models()
    seen = {}
    original = mm.load_models_gpu

    def spy(models, *args, **kwargs):
        seen["models"] = list(models)
        return original(models, *args, **kwargs)

    mm.load_models_gpu = spy
    try:
        run_guider(guider, sigmas_for(main, steps=2))
    finally:
        mm.load_models_gpu = original
    assert guide in seen["models"] and guider.model_patcher in seen["models"]


def test_cfg_rescale_on_main_guider_and_patch_agree_with_a_hand_computed_step(comfy, pair):
    """One seam: with RescaleCFG on the main model both nodes add Δ = (w − 1)(D1(c) − D0(c)) to the
    conditional and unconditional predictions, then ComfyUI's cfg_function rescales: same step,
    same picture."""
    from comfy_extras.nodes_model_advanced import RescaleCFG

    from comfyui_autoguidance.nodes.model_patch import AutoguidanceModelPatch

    main, guide = pair
    rescaled = RescaleCFG().patch(main, 0.7)[0]
    positive, negative = text_cond(10), text_cond(11)
    plain = make_guider(main, guide, positive, negative, w=2.0, cfg=4.0)
    with_rescale = make_guider(rescaled, guide, positive, negative, w=2.0, cfg=4.0)
    steps = record_steps(with_rescale)
    a = run_guider(plain, sigmas_for(main, steps=3))
    b = run_guider(with_rescale, sigmas_for(main, steps=3))
    assert not torch.allclose(a, b)
    patched = AutoguidanceModelPatch.execute(model=rescaled, guide_model=guide, w=2.0).result[0]
    noise = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    via_patch = comfy.sample.sample(
        patched,
        noise,
        3,
        4.0,
        "heun",
        "karras",
        positive,
        negative,
        torch.zeros_like(noise),
        seed=0,
        disable_pbar=True,
    )
    assert_close(via_patch, b, rtol=1e-5, atol=1e-5)
    x, sigma, out = steps[0]
    with torch.no_grad():
        d_c = main.model.apply_model(x, sigma, c_crossattn=positive[0][0])
        d_u = main.model.apply_model(x, sigma, c_crossattn=negative[0][0])
        d_g = guide.model.apply_model(x, sigma, c_crossattn=positive[0][0])
        delta = (2.0 - 1) * (d_c - d_g)
        c, u = d_c + delta, d_u + delta  # both predictions shifted before the CFG function
        fn = rescaled.model_options["sampler_cfg_function"]
        expected = x - fn(
            {
                "cond": x - c,
                "uncond": x - u,
                "cond_scale": 4.0,
                "sigma": sigma,
                "input": x,
                "cond_denoised": c,
                "uncond_denoised": u,
                "model": main.model,
                "model_options": {},
            }
        )
    # The step runs cond and uncond through the UNet as one batch, the reference one by one: float32
    # convolution order differs by ~1e-5, which the rescale's std ratio carries along.
    assert_close(out, expected, rtol=1e-5, atol=3e-5)


@pytest.mark.parametrize("settings", [{"cfg": 5.0}, {"cfg": 1.0, "cfg_schedule": "interval"}])
def test_cfg_term_without_negative_is_refused_before_sampling(comfy, pair, settings):
    """cfg ≠ 1 (or a cfg_schedule) with no 'negative' used to drop the CFG term silently."""
    import comfy.model_management as mm

    from comfyui_autoguidance.guidance import Constant, Interval

    main, guide = pair
    if "cfg_schedule" in settings:
        settings = {**settings, "cfg_schedule": Interval(Constant(5.0), 0.28, 5.42)}
    loads = []
    original = mm.load_models_gpu
    mm.load_models_gpu = lambda *a, **k: loads.append(a) or original(*a, **k)
    try:
        with pytest.raises(ValueError, match=r"Autoguidance Guider: .* but 'negative' is not connected"):
            make_guider(main, guide, text_cond(10), negative=None, w=2.0, **settings)
    finally:
        mm.load_models_gpu = original
    assert loads == []  # nothing loaded, nothing sampled


def test_each_run_reports_its_sigma_steps_to_the_front_end(comfy, pair, monkeypatch):
    """After a run, the node sends the widget every evaluation's σ and whether the guide ran."""
    import comfy.sample

    from comfyui_autoguidance.guidance import Constant, Interval
    from comfyui_autoguidance.nodes import _api
    from comfyui_autoguidance.nodes.guide_term import RUN_EVENT
    from comfyui_autoguidance.nodes.model_patch import patch_model

    sent = []
    monkeypatch.setattr(_api, "send_to_front_end", lambda event, data: sent.append((event, data)))
    main, guide = pair
    schedule = Interval(Constant(2.0), 0.28, 5.42)
    guider = make_guider(main, guide, text_cond(10), schedule=schedule)
    guider.term.node_id = "7"
    sigmas = sigmas_for(main, steps=4)
    run_guider(guider, sigmas)
    patched = patch_model(main, guide, schedule, node="9")
    noise = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    comfy.sample.sample(
        patched,
        noise,
        4,
        1.0,
        "heun",
        "karras",
        text_cond(10),
        text_cond(11),
        torch.zeros_like(noise),
        seed=0,
        disable_pbar=True,
    )
    assert [(event, data["node"]) for event, data in sent] == [(RUN_EVENT, "7"), (RUN_EVENT, "9")]
    for _, data in sent:
        heun = [float(s) for s in sigmas[:-1]] + [float(s) for s in sigmas[1:-1]]  # steps, then corrections
        assert sorted(data["sigmas"]) == pytest.approx(sorted(heun))
        assert data["sigmas_edm"] == data["sigmas"]  # an ε model: σ_edm is ComfyUI's σ
        assert data["guided"] == [0.28 < s <= 5.42 for s in data["sigmas"]]
        assert data["guide_evaluations"] == sum(data["guided"]) and data["evaluations"] == len(heun)
    assert guider.guide_calls == sent[0][1]["guide_evaluations"] > 0


def test_run_report_is_strict_json_for_a_flow_models_pure_noise_step(comfy, pair):
    """σ_flow = 1 is σ_edm = ∞, which browsers' JSON.parse refuses as 'Infinity': it travels as null."""
    import json

    from comfyui_autoguidance.guidance import Constant
    from comfyui_autoguidance.nodes.guide_term import GuideTerm

    term = GuideTerm(pair[1], Constant(2.0))
    term.evaluations = [(1.0, float("inf"), True), (0.5, 1.0, True)]
    report = json.loads(json.dumps(term.report(), allow_nan=False))
    assert report["sigmas_edm"] == [None, 1.0] and report["sigmas"] == [1.0, 0.5]
