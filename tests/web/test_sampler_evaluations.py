"""The widget's rules for model calls per sampler (web/sampler_evaluations.js) against ComfyUI: for
every name in comfy.samplers.SAMPLER_NAMES (those the table does not list call the model once per
step), a real sampler run on a tiny SD1.5-style model calls the model exactly as often, and at the
σ, the rules say."""

from __future__ import annotations

import pytest
import torch

from ..nodes.comfy_env import import_comfy, text_cond, tiny_sd15  # noqa: TID252
from .node_js import needs_node, run_js

pytestmark = [pytest.mark.comfyui, needs_node]

JS = """import {SAMPLER_RULE, evaluationSigmas} from './web/sampler_evaluations.js';
const out = {};
for (const name of DATA.names) out[name] = DATA.lists.map((s) => evaluationSigmas(s, name));
console.log(JSON.stringify({table: SAMPLER_RULE, out}));"""


@pytest.fixture(scope="module")
def comfy():
    import_comfy()
    import comfy.samplers

    return comfy


@pytest.fixture(scope="module")
def model(comfy):
    return tiny_sd15(seed=3, model_channels=32)


def sigma_lists(comfy, model) -> list[torch.Tensor]:
    """Four Karras steps ending in σ = 0, and the first three of them (a split run that stops at σ > 0):
    enough for every branch of the table (Heun++'s three, DPM-fast's two order plans)."""
    full = comfy.samplers.calculate_sigmas(model.get_model_object("model_sampling"), "karras", 4).float()
    return [full, full[:4]]


def recorded_sigmas(comfy, model, sampler: str, sigmas: torch.Tensor) -> list[float]:
    """The σ of every predict_noise call a stock CFGGuider makes running `sampler` on `sigmas`."""
    guider = comfy.samplers.CFGGuider(model)
    cond = text_cond(4)
    guider.set_conds(cond, cond)
    guider.set_cfg(1.0)
    seen, original = [], guider.predict_noise

    def predict_noise(x, timestep, model_options={}, seed=None):  # noqa: B006 - ComfyUI's signature
        seen.append(float(timestep[0]))
        return original(x, timestep, model_options=model_options, seed=seed)

    guider.predict_noise = predict_noise
    noise = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    guider.sample(
        noise,
        torch.zeros_like(noise),
        comfy.samplers.sampler_object(sampler),
        sigmas,
        seed=0,
        disable_pbar=True,
    )
    return seen


def test_every_sampler_calls_the_model_where_the_table_says(comfy, model):
    names = list(comfy.samplers.SAMPLER_NAMES)
    assert set(comfy.samplers.KSAMPLER_NAMES) <= set(names)
    lists = sigma_lists(comfy, model)
    js = run_js(JS, {"names": names, "lists": [s.tolist() for s in lists]})
    wrong = []
    for name in names:
        rule = js["table"].get(name, "once")
        # A split run (last σ > 0) only matters where the table's rule looks at the next σ.
        runs = lists if rule not in ("once", "adaptive") else lists[:1]
        for sigmas, predicted in zip(runs, js["out"][name], strict=False):
            seen = recorded_sigmas(comfy, model, name, sigmas)
            if predicted is None:  # adaptive: how many calls depends on the model's output
                assert rule == "adaptive" and len(seen) > len(sigmas) - 1
            elif len(seen) != len(predicted) or seen != pytest.approx(predicted, rel=1e-4):
                wrong.append(f"{name} on {len(sigmas) - 1} steps: ComfyUI {seen}, table {predicted}")
    assert not wrong, "\n".join(wrong)


def test_guide_runs_counted_by_the_widget_equal_the_guiders_guide_calls(comfy, model):
    """A midpoint sampler and an interval holding midpoints but no step ends: the count the
    widget prints is the number of guide passes the Autoguidance Guider makes."""
    from comfyui_autoguidance.guidance import Constant, Interval
    from comfyui_autoguidance.nodes.guider import AutoguidanceGuider

    full = sigma_lists(comfy, model)[0]
    lo, hi = float(full[2]) * 1.05, float(full[1]) * 0.95  # strictly between σ_2 and σ_1
    spec = {"kind": "interval", "w": 2.0, "sigma_lo": lo, "sigma_hi": hi}
    for sampler in ("dpm_2", "seeds_3", "heun", "dpm_fast"):
        guider = AutoguidanceGuider.execute(
            model=model,
            guide_model=tiny_sd15(seed=4),
            positive=text_cond(5),
            w=2.0,
            cfg=1.0,
            schedule=Interval(Constant(2.0), lo, hi),
        ).result[0]
        noise = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(0))
        guider.sample(
            noise,
            torch.zeros_like(noise),
            comfy.samplers.sampler_object(sampler),
            full,
            seed=0,
            disable_pbar=True,
        )
        counted = run_js(
            "import {guideEvaluations} from './web/schedule_math.js';"
            "console.log(JSON.stringify(guideEvaluations(DATA.spec, DATA.sigmas, DATA.sampler)));",
            {"spec": spec, "sigmas": full.tolist(), "sampler": sampler},
        )
        assert counted["guided"] == guider.guide_calls, sampler
        if sampler != "heun":
            assert guider.guide_calls > 0, f"{sampler}: the interval should hold a midpoint"
        else:
            assert guider.guide_calls == 0  # heun evaluates only at the σ list's levels
