"""Must show 3 of issue 12: on a Flux-family σ list, ``AutoguidanceScheduleInterval(w=2, 0.28, 5.42)``
guides exactly the steps whose σ_flow/(1 − σ_flow) lies in (0.28, 5.42], and the widget's count
(web/schedule_math.js under node) agrees with it and with Python's; on an EPS model σ_edm = σ.

Two tiers: a pure one whose Flux σ list is ComfyUI 0.3.64's formula written out here
(comfy/model_sampling.py ``flux_time_shift(mu, 1, t) = e^mu / (e^mu + 1/t − 1)`` over
``ModelSamplingFlux``'s 10000-level table, shift 1.15, read by comfy/samplers.py
``simple_scheduler``: level ``−(1 + int(i·L/N))``), and a ``comfyui`` one with ComfyUI's own
model sampling, ``calculate_sigmas`` and the node's ``schedule_sigma``."""

from __future__ import annotations

import math

import pytest
import torch

from comfyui_autoguidance.guidance import schedule_from_dict
from comfyui_autoguidance.guidance.noise_scale import to_edm

from .node_js import needs_node, run_js

pytestmark = needs_node

SPEC = {"kind": "interval", "w": 2.0, "sigma_lo": 0.28, "sigma_hi": 5.42}
WIDGET_JS = """import {flowSimpleSigmas, guideEvaluations, specFromWidgets, toEdm}
  from './web/schedule_math.js';
const spec = specFromWidgets(['w', 'sigma_lo', 'sigma_hi'], {w: 2, sigma_lo: 0.28, sigma_hi: 5.42});
const count = (kind, sigmas) => guideEvaluations(spec, sigmas.map((s) => toEdm(kind, s)), 'euler');
console.log(JSON.stringify({
  own: flowSimpleSigmas('flux', DATA.steps),
  flux: count('flow', DATA.flux), eps: count('ve', DATA.eps),
}));"""


def flux_simple_sigmas(steps: int, mu: float = 1.15, levels: int = 10000) -> list[float]:
    """ComfyUI 0.3.64's Flux σ for the "simple" scheduler (formula in the module docstring)."""
    table = [math.exp(mu) / (math.exp(mu) + (1 / (i / levels) - 1)) for i in range(1, levels + 1)]
    return [table[-(1 + int(i * levels / steps))] for i in range(steps)] + [0.0]


def by_definition(sigmas_edm: list[float]) -> int:
    """Steps (σ > 0) whose σ_edm lies in (0.28, 5.42]: the issue's definition, in float64."""
    return sum(1 for s in sigmas_edm[:-1] if 0.28 < s <= 5.42)


def python_count(sigmas_edm: torch.Tensor) -> int:
    """The pack's own schedule on σ_edm: evaluations with w(σ) ≠ 1."""
    return int((schedule_from_dict(SPEC).weight(sigmas_edm[:-1]) != 1).sum())


def widget(flux: list[float], eps: list[float], steps: int) -> dict:
    return run_js(WIDGET_JS, {"flux": flux, "eps": eps, "steps": steps})  # type: ignore[return-value]


@pytest.mark.parametrize("steps", [20, 28, 50])
def test_flux_formula_count_matches_widget_and_python(steps):
    flux = flux_simple_sigmas(steps)
    eps = [14.6146 * (0.0292 / 14.6146) ** (i / (steps - 1)) for i in range(steps)] + [0.0]
    js = widget(flux, eps, steps)
    assert js["own"] == pytest.approx(flux, rel=1e-12, abs=1e-12)  # the widget's own guess, same list
    flux_edm = to_edm("flow", torch.tensor(flux, dtype=torch.float64))
    expected = by_definition([s / (1 - s) if s < 1 else math.inf for s in flux])
    assert 0 < expected < steps
    assert js["flux"] == {"guided": expected, "total": steps}
    assert python_count(flux_edm) == expected
    eps_expected = by_definition(eps)
    assert js["eps"] == {"guided": eps_expected, "total": steps}
    assert python_count(to_edm("ve", torch.tensor(eps, dtype=torch.float32))) == eps_expected


@pytest.mark.comfyui
@pytest.mark.parametrize("steps", [20, 30])
def test_comfyui_flux_and_eps_sigmas(steps):
    from ..nodes.comfy_env import import_comfy  # noqa: TID252

    import_comfy()
    import comfy.model_sampling as ms
    import comfy.samplers

    from comfyui_autoguidance.nodes.noise_scale import schedule_sigma

    class FluxSampling(ms.ModelSamplingFlux, ms.CONST):  # as comfy/model_base.py builds it for FLUX
        pass

    class EpsSampling(ms.ModelSamplingDiscrete, ms.EPS):
        pass

    runs = {}
    for name, sampling in (("flux", FluxSampling()), ("eps", EpsSampling())):
        sigmas = comfy.samplers.calculate_sigmas(sampling, "simple", steps).float()  # as the sampler holds σ
        edm = schedule_sigma(sampling, sigmas)
        runs[name] = ([float(s) for s in sigmas], edm)
    flux, eps = runs["flux"][0], runs["eps"][0]
    assert flux == pytest.approx(flux_simple_sigmas(steps), abs=1e-6)  # the pure tier's formula holds
    js = widget(flux, eps, steps)
    for name in ("flux", "eps"):
        sigmas, edm = runs[name]
        if name == "flux":
            expected = by_definition([s / (1 - s) if s < 1 else math.inf for s in sigmas])
        else:
            expected = by_definition(sigmas)
        assert 0 < expected < steps
        assert python_count(edm) == expected, name
        assert js[name] == {"guided": expected, "total": steps}, name
