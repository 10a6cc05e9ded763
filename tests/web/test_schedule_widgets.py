"""What a schedule node's widgets mean is said once, in nodes/schedule_widgets.py; the front
end's twin (scheduleFromWidgets in web/schedule_math.js, run under node) must agree with it on
every schedule node of the bundled workflows and on the edge cases: the same spec, the same
verdict (the same message up to its first " ("), the same w(σ)."""

from __future__ import annotations

import json

import pytest
import torch

from comfyui_autoguidance.guidance import karras_sigmas
from comfyui_autoguidance.nodes.node_ids import (
    SCHEDULE_CONSTANT,
    SCHEDULE_INTERVAL,
    SCHEDULE_KNOTS,
    SCHEDULE_LIMIT,
    SCHEDULE_NODE_IDS,
    SCHEDULE_RAMP,
)
from comfyui_autoguidance.nodes.schedule_widgets import (
    WIDGETS,
    schedule_from_widgets,
    schedule_spec,
    widget_values,
)

from .node_js import REPO, needs_node, run_js

pytestmark = needs_node

WORKFLOWS = sorted((REPO / "workflows").glob("*.json"))
SIGMAS = torch.cat(
    [
        karras_sigmas(24, 0.002, 80.0, dtype=torch.float32),  # ends in σ = 0
        torch.tensor([0.28, 5.42, 14.6146, 0.0292, 1.0], dtype=torch.float32),
    ]
)
RAMP = {
    "w_start": 3.0,
    "w_end": 1.0,
    "sigma_start": 14.6,
    "sigma_end": 0.03,
    "space": "log",
    "shape": "linear",
}
KNOTS_DOWN = {"sigmas": "80, 5, 1, 0.1", "weights": "1.5, 2.5, 2.0, 1.0"}
KNOTS_SPEC = {"kind": "knots", "sigmas": [80.0, 5.0, 1.0, 0.1], "weights": [1.5, 2.5, 2.0, 1.0]}
LOG_RAMP_TO_0 = {"kind": "ramp", **RAMP, "sigma_end": 0.0}

EDGE_CASES = {  # name: (node id, widget values, spec feeding a Limit's input)
    "log ramp ending at sigma 0": (SCHEDULE_RAMP, {**RAMP, "sigma_end": 0.0}, None),
    "linear ramp ending at sigma 0": (SCHEDULE_RAMP, {**RAMP, "sigma_end": 0.0, "space": "linear"}, None),
    "cosine ramp upwards": (
        SCHEDULE_RAMP,
        {**RAMP, "sigma_start": 0.1, "sigma_end": 10.0, "shape": "cosine"},
        None,
    ),
    "ramp start equals end": (SCHEDULE_RAMP, {**RAMP, "sigma_end": 14.6}, None),
    "ramp unknown space": (SCHEDULE_RAMP, {**RAMP, "space": "cubic"}, None),
    "ramp unknown shape": (SCHEDULE_RAMP, {**RAMP, "shape": "smooth"}, None),
    "ramp negative sigma": (SCHEDULE_RAMP, {**RAMP, "sigma_start": -1.0, "space": "linear"}, None),
    "knots high sigma first": (SCHEDULE_KNOTS, KNOTS_DOWN, None),
    "knots low sigma first": (
        SCHEDULE_KNOTS,
        {"sigmas": "0.1; 1; 5; 80", "weights": "1.0;2.0;2.5;1.5"},
        None,
    ),
    "knots on new lines, exponents": (
        SCHEDULE_KNOTS,
        {"sigmas": "8e1\n 5.\n.5", "weights": "+1\n2\n-0.5"},
        None,
    ),
    "knots single": (SCHEDULE_KNOTS, {"sigmas": "5", "weights": "2"}, None),
    "knots not monotonic": (SCHEDULE_KNOTS, {"sigmas": "1, 5, 2", "weights": "1, 2, 3"}, None),
    "knots repeated sigma": (SCHEDULE_KNOTS, {"sigmas": "5, 5", "weights": "1, 2"}, None),
    "knots zero sigma": (SCHEDULE_KNOTS, {"sigmas": "0, 1", "weights": "1, 2"}, None),
    "knots empty": (SCHEDULE_KNOTS, {"sigmas": "", "weights": ""}, None),
    "knots only commas": (SCHEDULE_KNOTS, {"sigmas": " , ,", "weights": "1"}, None),
    "knots length mismatch": (SCHEDULE_KNOTS, {"sigmas": "80, 5", "weights": "1"}, None),
    "knots not numbers": (SCHEDULE_KNOTS, {"sigmas": "80, five", "weights": "1, 2"}, None),
    "knots inf": (SCHEDULE_KNOTS, {"sigmas": "inf, 1", "weights": "1, 2"}, None),
    "knots hex": (SCHEDULE_KNOTS, {"sigmas": "0x10, 1", "weights": "1, 2"}, None),
    "knots weights not numbers": (SCHEDULE_KNOTS, {"sigmas": "1, 2", "weights": "1, two"}, None),
    "knots not text": (SCHEDULE_KNOTS, {"sigmas": 5, "weights": "1"}, None),
    "interval lo above hi": (SCHEDULE_INTERVAL, {"w": 2.0, "sigma_lo": 5.0, "sigma_hi": 1.0}, None),
    "interval lo equals hi": (SCHEDULE_INTERVAL, {"w": 2.0, "sigma_lo": 2.0, "sigma_hi": 2.0}, None),
    "interval negative lo": (SCHEDULE_INTERVAL, {"w": 2.0, "sigma_lo": -1.0, "sigma_hi": 1.0}, None),
    "interval from zero": (SCHEDULE_INTERVAL, {"w": 2.0, "sigma_lo": 0.0, "sigma_hi": 1.0}, None),
    "interval missing widget": (SCHEDULE_INTERVAL, {"w": 2.0, "sigma_lo": 0.28}, None),
    "constant negative w": (SCHEDULE_CONSTANT, {"w": -10.0}, None),
    "constant integer w": (SCHEDULE_CONSTANT, {"w": 3}, None),
    "constant w text": (SCHEDULE_CONSTANT, {"w": "abc"}, None),
    "constant w numeric text": (SCHEDULE_CONSTANT, {"w": "2"}, None),
    "constant w null": (SCHEDULE_CONSTANT, {"w": None}, None),
    "constant w boolean": (SCHEDULE_CONSTANT, {"w": True}, None),
    "limit unconnected": (SCHEDULE_LIMIT, {"sigma_lo": 0.28, "sigma_hi": 5.42}, None),
    "limit of knots": (SCHEDULE_LIMIT, {"sigma_lo": 0.28, "sigma_hi": 5.42}, KNOTS_SPEC),
    "limit lo above hi": (SCHEDULE_LIMIT, {"sigma_lo": 6.0, "sigma_hi": 5.42}, KNOTS_SPEC),
    "limit of a refused ramp": (SCHEDULE_LIMIT, {"sigma_lo": 0.28, "sigma_hi": 5.42}, LOG_RAMP_TO_0),
}


def _case(node: dict, nodes: dict, origin: dict) -> tuple[str, dict, dict | None]:
    """(node id, widget values, the spec a Limit's input carries) of a workflow's schedule node."""
    inner = None
    if node["type"] == SCHEDULE_LIMIT:
        link = next(i["link"] for i in node["inputs"] if i["name"] == "schedule")
        inner = schedule_spec(*_case(nodes[origin[link]], nodes, origin))
    return node["type"], widget_values(node["type"], node["widgets_values"]), inner


def _workflow_cases() -> dict[str, tuple[str, dict, dict | None]]:
    """Every schedule node of every bundled workflow."""
    cases = {}
    for path in WORKFLOWS:
        wf = json.loads(path.read_text())
        nodes = {n["id"]: n for n in wf["nodes"]}
        origin = {link[0]: link[1] for link in wf.get("links", [])}  # link id → origin node id
        cases |= {
            f"{path.stem}#{n['id']}": _case(n, nodes, origin)
            for n in wf["nodes"]
            if n["type"] in SCHEDULE_NODE_IDS
        }
    return cases


WORKFLOW_CASES = _workflow_cases()
JS = """import {scheduleFromWidgets, weightAt} from './web/schedule_math.js';
const out = {};
for (const [name, [names, values, inner]] of Object.entries(DATA.cases)) {
  const {spec, problem} = scheduleFromWidgets(names, values, inner);
  out[name] = {spec, problem, weights: spec && !problem ? DATA.sigmas.map((s) => weightAt(spec, s)) : null};
}
console.log(JSON.stringify(out));"""


def python_side(node_id: str, values: dict, inner: dict | None) -> dict:
    try:
        spec = schedule_spec(node_id, values, inner)
    except ValueError as err:
        return {"spec": None, "problem": str(err), "weights": None}
    try:
        weights = schedule_from_widgets(node_id, values, inner).weight(SIGMAS).tolist()
    except ValueError as err:
        return {"spec": spec, "problem": str(err), "weights": None}
    return {"spec": spec, "problem": None, "weights": weights}


@pytest.fixture(scope="module")
def js_results() -> dict:
    # The front end knows a schedule node by its widget names (its schema, as /object_info serves it).
    cases = {**WORKFLOW_CASES, **EDGE_CASES}
    cases = {name: (WIDGETS[node_id], *rest) for name, (node_id, *rest) in cases.items()}
    return run_js(JS, {"cases": cases, "sigmas": [float(s) for s in SIGMAS]})


def gist(message: str | None) -> str | None:
    return message.split(" (")[0] if message else None


def test_every_bundled_schedule_node_is_covered():
    kinds = {node_id for node_id, _, _ in WORKFLOW_CASES.values()}
    assert kinds == set(SCHEDULE_NODE_IDS), kinds  # the showcase workflow has one of each


@pytest.mark.parametrize("name", [*WORKFLOW_CASES, *EDGE_CASES])
def test_js_twin_agrees_with_python(name, js_results):
    node_id, values, inner = {**WORKFLOW_CASES, **EDGE_CASES}[name]
    py, js = python_side(node_id, values, inner), js_results[name]
    assert gist(js["problem"]) == gist(py["problem"]), (js["problem"], py["problem"])
    assert js["spec"] == py["spec"]
    if py["weights"] is not None:
        # float64 JS against float32 Python weights: one float32 rounding (≤ 6e-8 relative), with room
        assert js["weights"] == pytest.approx(py["weights"], rel=1e-6, abs=1e-6)
    if name in WORKFLOW_CASES:
        assert py["problem"] is None, f"a bundled workflow holds a refused schedule: {py['problem']}"


def test_edge_cases_are_refused_or_accepted_as_intended():
    refused = {name for name, case in EDGE_CASES.items() if python_side(*case)["problem"]}
    accepted = set(EDGE_CASES) - refused
    assert accepted == {
        "linear ramp ending at sigma 0",
        "cosine ramp upwards",
        "knots high sigma first",
        "knots low sigma first",
        "knots on new lines, exponents",
        "knots single",
        "interval from zero",
        "constant negative w",
        "constant integer w",
        "limit unconnected",
        "limit of knots",
    }


def test_knots_in_either_order_are_one_schedule():
    down = schedule_from_widgets(SCHEDULE_KNOTS, KNOTS_DOWN)
    up = schedule_from_widgets(SCHEDULE_KNOTS, {"sigmas": "0.1, 1, 5, 80", "weights": "1.0, 2.0, 2.5, 1.5"})
    assert down == up
