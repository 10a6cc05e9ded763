"""The front end's w(σ) and guide counts (web/schedule_math.js, run under node) equal
guidance/schedules.py and the Python sampler, and the JavaScript unit tests pass (``node --test``)."""

from __future__ import annotations

import subprocess

import pytest
import torch

from comfyui_autoguidance.guidance import karras_sigmas, schedule_from_dict

from .node_js import NODE, REPO, needs_node, run_js

pytestmark = needs_node

SPECS = [
    {"kind": "constant", "w": 2.1},
    {"kind": "interval", "w": 2.0, "sigma_lo": 0.28, "sigma_hi": 5.42},
    {
        "kind": "interval",
        "schedule": {
            "kind": "ramp",
            "w_start": 3.0,
            "w_end": 1.5,
            "sigma_start": 80.0,
            "sigma_end": 0.002,
            "space": "log",
            "shape": "cosine",
        },
        "sigma_lo": 0.1,
        "sigma_hi": 10.0,
    },
    {
        "kind": "ramp",
        "w_start": 3.0,
        "w_end": 1.0,
        "sigma_start": 14.6,
        "sigma_end": 0.03,
        "space": "linear",
        "shape": "linear",
    },
    {"kind": "knots", "sigmas": [0.1, 1.0, 5.0, 80.0], "weights": [1.0, 2.0, 2.5, 1.5]},
    {"kind": "knots", "sigmas": [80.0, 5.0, 1.0, 0.1], "weights": [1.5, 2.5, 2.0, 1.0]},
]
WEIGHTS_JS = (
    "import {weightAt} from './web/schedule_math.js';\n"
    "console.log(JSON.stringify(DATA.specs.map(s => DATA.sigmas.map(x => weightAt(s, x)))));"
)


def test_weights_match_python():
    sigmas = torch.cat(
        [
            karras_sigmas(32, 0.002, 80.0, dtype=torch.float32)[:-1],
            torch.tensor([0.28, 5.42, 14.6, 0.03], dtype=torch.float32),
        ]
    )
    js = run_js(WEIGHTS_JS, {"specs": SPECS, "sigmas": [float(s) for s in sigmas]})
    for spec, row in zip(SPECS, js, strict=True):
        py = schedule_from_dict(spec).weight(sigmas).tolist()  # float32 σ and weights, as samplers hold them
        # JS weights are float64, ours float32: one float32 rounding (≤ 6e-8 relative), with room for ramps
        assert row == pytest.approx(py, rel=1e-6, abs=1e-6), spec["kind"]
    assert js[1][-4] == 1.0 and js[1][-3] == 2.0  # float32(0.28) is outside, 5.42 inside


def test_guide_evaluation_count_matches_the_python_sampler():
    from comfyui_autoguidance.guidance import guided_denoiser, heun_sample

    calls = {"guide": 0}

    def main(x, sigma):
        return x * 0.5

    def guide(x, sigma):
        calls["guide"] += x.shape[0]
        return x * 0.4

    spec = SPECS[1]
    sigmas = karras_sigmas(32, 0.002, 80.0, dtype=torch.float32)
    heun_sample(guided_denoiser(main, guide, spec), torch.zeros(1, 2), sigmas)
    js = run_js(
        "import {guideEvaluations, karrasSigmas} from './web/schedule_math.js';"
        "console.log(JSON.stringify(guideEvaluations(DATA, karrasSigmas(32, 0.002, 80), 'heun')));",
        spec,
    )
    assert js == {"guided": calls["guide"], "total": 63}


def test_node_unit_tests_pass():
    out = subprocess.run(
        [NODE, "--test", "tests/web/"], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "# fail 0" in out.stdout
