"""No float64 inside a guided step, and a mixed-precision pair, in real ComfyUI sampling.

Everything here runs on the CPU, so the audit is stricter than the core tier's: no float64
tensor at all may be created inside the guider's ``predict_noise`` or the patch's pre-CFG hook,
for every schedule kind (MPS has none; on a GPU it is a slow path).
"""

from __future__ import annotations

import pytest
import torch

from ..dtype_audit import Float64Audit
from .comfy_env import import_comfy, run_guider, text_cond, tiny_sd15

pytestmark = pytest.mark.comfyui


@pytest.fixture(scope="module", autouse=True)
def comfy():
    import_comfy()


@pytest.fixture(scope="module")
def pair():
    return tiny_sd15(seed=1, model_channels=32), tiny_sd15(seed=2, model_channels=32)


def schedules():
    from comfyui_autoguidance.guidance import Constant, Interval, Knots, Ramp

    return {
        "constant": Constant(2.0),
        "interval": Interval(Constant(2.0), 0.28, 5.42),
        "ramp": Ramp(3.0, 1.0, 14.6, 0.03, "log", "cosine"),
        "knots": Knots((14.6, 1.0, 0.1), (2.5, 2.0, 1.0)),
        "limit": Interval(Knots((0.1, 14.6), (1.0, 3.0)), 0.28, 5.42),
    }


def audited(fn, audits: list):
    """``fn`` run under a fresh Float64Audit each call, the audits kept."""

    def wrapper(*args, **kwargs):
        with Float64Audit() as audit:
            out = fn(*args, **kwargs)
        audits.append(audit)
        return out

    return wrapper


def audited_guider(main, guide, positive, negative, schedule):
    """An Autoguidance Guider (w = 2, cfg = 3, ``schedule`` on both terms) whose every
    ``predict_noise`` runs under a Float64Audit; returns (guider, the audits list)."""
    from comfyui_autoguidance.nodes.guider import AutoguidanceGuider

    guider = AutoguidanceGuider.execute(
        model=main,
        guide_model=guide,
        positive=positive,
        negative=negative,
        w=2.0,
        cfg=3.0,
        schedule=schedule,
        cfg_schedule=schedule,
    ).result[0]
    audits: list = []
    guider.predict_noise = audited(guider.predict_noise, audits)
    return guider, audits


def audited_patch(main, guide, schedule):
    """``main`` with the Autoguidance model patch (w = 2, ``schedule``) whose pre-CFG hook runs
    under a Float64Audit at every step; returns (patched model, the audits list)."""
    from comfyui_autoguidance.nodes.model_patch import AutoguidanceModelPatch

    patched = AutoguidanceModelPatch.execute(model=main, guide_model=guide, w=2.0, schedule=schedule).result[
        0
    ]
    hooks = patched.model_options["sampler_pre_cfg_function"]
    audits: list = []
    hooks[-1] = audited(hooks[-1], audits)
    return patched, audits


def sigmas(model, steps=3):
    import comfy.samplers

    return comfy.samplers.calculate_sigmas(model.get_model_object("model_sampling"), "karras", steps)


@pytest.mark.parametrize("kind", ["constant", "interval", "ramp", "knots", "limit"])
def test_guider_step_creates_no_float64(pair, kind):

    main, guide = pair
    guider, audits = audited_guider(main, guide, text_cond(1), text_cond(2), schedules()[kind])
    out = run_guider(guider, sigmas(main))
    assert torch.isfinite(out).all() and len(audits) == 5  # heun, 3 steps
    assert [a.found for a in audits if a.found] == [] and all(a.ops > 0 for a in audits)


@pytest.mark.parametrize("kind", ["constant", "interval", "ramp", "knots", "limit"])
def test_patch_pre_cfg_hook_creates_no_float64(pair, kind):
    import comfy.sample

    main, guide = pair
    patched, audits = audited_patch(main, guide, schedules()[kind])
    noise = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    out = comfy.sample.sample(
        patched,
        noise,
        3,
        4.0,
        "heun",
        "karras",
        text_cond(1),
        text_cond(2),
        torch.zeros_like(noise),
        seed=0,
        disable_pbar=True,
    )
    assert torch.isfinite(out).all() and len(audits) == 5
    assert [a.found for a in audits if a.found] == []


def test_mixed_precision_edm2_pair_samples_finite_in_the_main_dtype():
    """A bfloat16 guide beside a float32 main (and the reverse): the term is formed in float32 and the
    step is each time D1 + (w − 1)(D1 − D0) of the two models' own outputs."""
    from comfyui_autoguidance.nodes.edm2.model import edm2_patcher
    from comfyui_autoguidance.nodes.guider import AutoguidanceGuider

    from .comfy_env import record_steps
    from .test_edm2_nodes import class_cond, tiny_net

    for main_dtype, guide_dtype in ((torch.float32, torch.bfloat16), (torch.bfloat16, torch.float32)):
        main_net, guide_net = tiny_net(1, 32).to(main_dtype), tiny_net(2, 16).to(guide_dtype)
        main, guide = edm2_patcher(main_net, False), edm2_patcher(guide_net, False)
        guider = AutoguidanceGuider.execute(
            model=main, guide_model=guide, positive=class_cond(4), w=2.0, cfg=1.0
        ).result[0]
        steps = record_steps(guider)
        out = run_guider(guider, sigmas(main, steps=3))
        assert out.dtype == torch.float32 and torch.isfinite(out).all()
        x, sigma, step = steps[0]
        labels = torch.eye(10)[[4]]
        with torch.no_grad():
            d1, d0 = main_net(x, sigma, labels).float(), guide_net(x, sigma, labels).float()
        torch.testing.assert_close(step.float(), d1 + (d1 - d0), rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------
# A flow model (SD3): σ_flow → σ_edm happens inside every guided step, so it is audited too.


@pytest.fixture(scope="module")
def flow_pair():
    from . import families as fam
    from . import family_runs as runs

    sd3 = next(f for f in fam.FAMILIES if f.name == "sd3")
    return sd3, runs.build(sd3, seed=1), runs.build(sd3, seed=2)


def flow_schedules():
    """The same kinds on σ_edm, with knots inside a flow model's σ_edm range (0 … ~1000)."""
    from comfyui_autoguidance.guidance import Constant, Interval, Knots, Ramp

    return {
        "interval": Interval(Constant(2.0), 0.28, 5.42),
        "ramp": Ramp(3.0, 1.0, 50.0, 0.05, "log", "cosine"),
        "limit": Interval(Knots((0.1, 50.0), (1.0, 3.0)), 0.28, 5.42),
    }


@pytest.mark.parametrize("kind", ["interval", "ramp", "limit"])
def test_flow_guider_step_creates_no_float64(flow_pair, kind):

    from . import family_runs as runs

    family, main, guide = flow_pair
    positive, negative = runs.conditioning(family, 1), runs.conditioning(family, 2)
    guider, audits = audited_guider(main, guide, positive, negative, flow_schedules()[kind])
    with runs.Spy(guide) as spy:
        out = runs.sample_with_guider(main, guider, runs.empty_latent(family), steps=4, seed=0)
    samples = out["samples"]
    assert torch.isfinite(samples).all() and len(audits) == 4  # euler, 4 steps
    assert [a.found for a in audits if a.found] == [] and all(a.ops > 0 for a in audits)
    if kind != "ramp":  # σ_flow 1, 0.9, 0.75, 0.5 are σ_edm ∞, 9, 3, 1: the guide runs on the last two
        assert spy.sigmas == pytest.approx([0.75, 0.5])


@pytest.mark.parametrize("kind", ["interval", "limit"])
def test_flow_patch_pre_cfg_hook_creates_no_float64(flow_pair, kind):
    from . import family_runs as runs

    family, main, guide = flow_pair
    patched, audits = audited_patch(main, guide, flow_schedules()[kind])
    out = runs.sample_with_ksampler(
        patched,
        runs.conditioning(family, 1),
        runs.conditioning(family, 2),
        runs.empty_latent(family),
        steps=4,
        cfg=3.0,
        seed=0,
    )
    assert torch.isfinite(out["samples"]).all() and len(audits) == 4
    assert [a.found for a in audits if a.found] == []
