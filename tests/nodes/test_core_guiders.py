"""Our guider beside core's own sampling nodes (ComfyUI 0.24+): CFG Override and Dual Model CFG Guider.

- ``CFGOverride`` on the main model sets ``guider.cfg`` for the steps inside its σ window; it drives
  our CFG term there exactly as it drives core's guiders, over ``cfg`` and ``cfg_schedule``.
- ``DualModelGuider(model=main, model_negative=guide, negative=the prompt, cfg=w)`` is pure
  autoguidance, D0 + w·(D1 − D0): it gives our guider's sample (w, cfg 1).
"""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from .comfy_env import import_comfy, record_steps, run_guider, text_cond, tiny_sd15

pytestmark = pytest.mark.comfyui


@pytest.fixture(scope="module", autouse=True)
def core():
    import_comfy()
    import comfy_extras.nodes_custom_sampler as custom

    for name in ("CFGOverride", "DualModelGuider"):
        if not hasattr(custom, name):
            pytest.skip(f"this ComfyUI has no {name} (core added it in 0.24; tested on 0.33.0)")
    return custom


@pytest.fixture(scope="module")
def pair():
    return tiny_sd15(seed=1, model_channels=32), tiny_sd15(seed=2, model_channels=32)


POSITIVE, NEGATIVE = text_cond(10), text_cond(11)


def sigmas_for(model, steps):
    import comfy.samplers

    return comfy.samplers.calculate_sigmas(model.get_model_object("model_sampling"), "karras", steps)


def ours(main, guide, w=2.0, cfg=4.0, negative=NEGATIVE, cfg_schedule=None):
    from comfyui_autoguidance.nodes.guider import AutoguidanceGuider

    return AutoguidanceGuider.execute(
        model=main,
        guide_model=guide,
        positive=POSITIVE,
        negative=negative,
        w=w,
        cfg=cfg,
        schedule=None,
        cfg_schedule=cfg_schedule,
    ).result[0]


def override(core, model, cfg, start, end):
    return core.CFGOverride.execute(model, cfg, start, end).result[0]


def test_cfg_override_over_the_whole_range_is_our_guider_at_that_cfg(core, pair):
    main, guide = pair
    sigmas = sigmas_for(main, 6)
    overridden = run_guider(ours(override(core, main, 1.0, 0.0, 1.0), guide, cfg=4.0), sigmas)
    at_one = run_guider(ours(main, guide, cfg=1.0), sigmas)
    at_four = run_guider(ours(main, guide, cfg=4.0), sigmas)
    assert_close(overridden, at_one, rtol=0, atol=1e-6)
    assert (overridden - at_four).abs().max() > 1e-2  # the override is what changed the sample


def window(core, model, start, end):
    """σ_hi ≥ σ_lo of a CFG Override window, as the node computes them."""
    sampling = model.get_model_object("model_sampling")
    return float(sampling.percent_to_sigma(end)), float(sampling.percent_to_sigma(start))


@pytest.mark.parametrize("cfg_source", ["cfg", "cfg_schedule"])
def test_cfg_override_window_changes_only_the_steps_inside_it(core, pair, cfg_source):
    """CFG Override at 1.5 over the first half of the range, our guider at w = 2 with cfg 4 (the
    widget or a schedule): every step is D1(c) + (cfg − 1)(D1(c) − D1(∅)) + (w − 1)(D1(c) − D0(c))
    with cfg = 1.5 inside the window and 4 outside, the models called directly."""
    from comfyui_autoguidance.guidance import Constant

    main, guide = pair
    sigma_lo, sigma_hi = window(core, main, 0.0, 0.5)
    schedule = Constant(4.0) if cfg_source == "cfg_schedule" else None
    windowed = ours(override(core, main, 1.5, 0.0, 0.5), guide, cfg=4.0, cfg_schedule=schedule)
    steps = record_steps(windowed)
    run_guider(windowed, sigmas_for(main, 6))
    is_inside = [sigma_lo <= float(sigma) <= sigma_hi for _, sigma, _ in steps]
    assert any(is_inside) and not all(is_inside)
    margins = []
    with torch.no_grad():
        for (x, sigma, out), inside in zip(steps, is_inside, strict=True):
            d_c = main.model.apply_model(x, sigma, c_crossattn=POSITIVE[0][0])
            d_u = main.model.apply_model(x, sigma, c_crossattn=NEGATIVE[0][0])
            d_g = guide.model.apply_model(x, sigma, c_crossattn=POSITIVE[0][0])
            step = {cfg: d_c + (cfg - 1) * (d_c - d_u) + (2.0 - 1) * (d_c - d_g) for cfg in (1.5, 4.0)}
            expected = step[1.5 if inside else 4.0]
            tolerance = 3e-5 + 1e-5 * float(expected.abs().max())  # cond/uncond batched vs one by one
            assert_close(out, expected, rtol=1e-5, atol=3e-5)
            margins.append(float((step[1.5] - step[4.0]).abs().max()) / tolerance)
    assert max(margins) > 10  # the two cfgs are told apart far beyond the tolerance
    assert windowed.cfg == 4.0 and type(windowed.cfg) is not float  # restored after every step


def test_dual_model_guider_is_our_guider_on_pure_autoguidance(core, pair):
    """Core's Dual Model CFG Guider with the guide as its negative model and the prompt as its
    negative: D0 + w·(D1 − D0) = D1 + (w − 1)(D1 − D0), our guider at w, cfg 1."""
    main, guide = pair
    sigmas = sigmas_for(main, 8)
    for w in (2.0, 3.0):
        dual = core.DualModelGuider.execute(
            model=main, positive=POSITIVE, cfg=w, model_negative=guide, negative=POSITIVE
        ).result[0]
        theirs = run_guider(dual, sigmas)
        mine = run_guider(ours(main, guide, w=w, cfg=1.0, negative=None), sigmas)
        relative = float((mine - theirs).abs().max() / theirs.abs().max())
        assert relative <= 1e-5, relative
        unguided = run_guider(ours(main, guide, w=1.0, cfg=1.0, negative=None), sigmas)
        assert float((theirs - unguided).abs().max() / theirs.abs().max()) > 1e-2  # the guide mattered
