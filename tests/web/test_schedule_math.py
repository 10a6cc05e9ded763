"""The front end's w(σ) (web/schedule_math.js, run under node) equals guidance/schedules.py,
and the JavaScript unit tests pass (``node --test``)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

from comfyui_autoguidance.guidance import karras_sigmas, schedule_from_dict

REPO = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node (Node.js) is not installed: the web/ maths cannot run")

SPECS = [
    {"kind": "constant", "w": 2.1},
    {"kind": "interval", "w": 2.0, "sigma_lo": 0.28, "sigma_hi": 5.42},
    {"kind": "interval", "schedule": {"kind": "ramp", "w_start": 3.0, "w_end": 1.5, "sigma_start": 80.0,
                                      "sigma_end": 0.002, "space": "log", "shape": "cosine"},
     "sigma_lo": 0.1, "sigma_hi": 10.0},
    {"kind": "ramp", "w_start": 3.0, "w_end": 1.0, "sigma_start": 14.6, "sigma_end": 0.03, "space": "linear",
     "shape": "linear"},
    {"kind": "knots", "sigmas": [0.1, 1.0, 5.0, 80.0], "weights": [1.0, 2.0, 2.5, 1.5]},
]


def run_node(script: str) -> object:
    out = subprocess.run([NODE, "--input-type=module", "-e", script], cwd=REPO, capture_output=True, text=True,
                         timeout=60, check=True)
    return json.loads(out.stdout)


def test_weights_match_python():
    sigmas = torch.cat([karras_sigmas(32, 0.002, 80.0, dtype=torch.float32)[:-1],
                        torch.tensor([0.28, 5.42, 14.6, 0.03], dtype=torch.float32)])
    values = [float(s) for s in sigmas]
    script = ("import {weightAt} from './web/schedule_math.js';"
              f"const specs = {json.dumps(SPECS)}; const sig = {json.dumps(values)};"
              "console.log(JSON.stringify(specs.map(s => sig.map(x => weightAt(s, x)))));")
    js = run_node(script)
    for spec, row in zip(SPECS, js, strict=True):
        py = schedule_from_dict(spec).weight(sigmas).tolist()  # σ in float32, as samplers hold it
        assert row == pytest.approx(py, abs=1e-9), spec["kind"]
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
    js = run_node("import {guideEvaluations, karrasSigmas} from './web/schedule_math.js';"
                  f"console.log(JSON.stringify(guideEvaluations({json.dumps(spec)}, karrasSigmas(32, 0.002, 80), 'heun')));")
    assert js == {"guided": calls["guide"], "total": 63}


def test_node_unit_tests_pass():
    out = subprocess.run([NODE, "--test", "tests/web/"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "# fail 0" in out.stdout
