"""Every bundled workflow against a real ComfyUI server: it parses, its node types exist, its
links join matching types, its widget values are valid; the digits one runs to an image."""

from __future__ import annotations

import json
import re

import pytest
import torch

from ..web.test_thumbnails import make_thumbnails
from .workflow_api import (
    FRONTEND_ONLY,
    WORKFLOW_DIR,
    combo_options,
    load_workflow,
    ordered_inputs,
    output_images,
    to_api_prompt,
    wait_for,
    widget_problem,
    widget_values,
)

pytestmark = [pytest.mark.comfyui, pytest.mark.server]

WORKFLOWS = sorted(p.name for p in WORKFLOW_DIR.glob("*.json"))
MODEL_FILE = re.compile(r"\.(safetensors|pkl|ckpt|pt|pth)$")


def test_the_promised_workflows_are_bundled():
    assert {
        "autoguidance-digits.json",
        "autoguidance-schedule-showcase.json",
        "edm2-img512-s-xs-autoguidance.json",
        "edm2-img512-xxl-m-autoguidance.json",
        "sdxl-autoguidance-cfg-interval.json",
        "sd15-ksampler-autoguidance-patch.json",
        "autoguidance-pair-inspector.json",
        "sd35-large-medium-autoguidance.json",
        "flux1-dev-autoguidance.json",
        "autoguidance-digits-lora.json",
        "autoguidance-vs-dual-model-guider.json",
        "autoguidance-distributed-sweep.json",
    } <= set(WORKFLOWS)


@pytest.fixture(scope="module")
def object_info(server):
    return server.get("/object_info", timeout=120)


def notes(workflow) -> str:
    return "\n".join(
        str(v) for n in workflow["nodes"] if n["type"] in FRONTEND_ONLY for v in n["widgets_values"]
    )


ELSEWHERE = {  # node types some workflows use that a ComfyUI may lack: where they come from
    "DualModelGuider": "core ComfyUI 0.24+",
    "DistributedValue": "ComfyUI-Distributed (tests/server/test_distributed_sweep.py runs that one)",
    "DistributedCollector": "ComfyUI-Distributed (tests/server/test_distributed_sweep.py runs that one)",
}


@pytest.mark.parametrize("name", WORKFLOWS)
def test_workflow_is_valid_for_this_comfyui(name, object_info):
    workflow = load_workflow(name)
    nodes = {n["id"]: n for n in workflow["nodes"]}
    assert workflow["last_node_id"] >= max(nodes)
    if missing := sorted({n["type"] for n in nodes.values()} & set(ELSEWHERE) - set(object_info)):
        pytest.skip(f"{name} needs {', '.join(f'{t} ({ELSEWHERE[t]})' for t in missing)}")
    unknown = sorted({n["type"] for n in nodes.values() if n["type"] not in object_info} - FRONTEND_ONLY)
    assert not unknown, f"{name}: node types unknown to ComfyUI: {unknown}"
    problems = []
    for node in nodes.values():
        if node["type"] in FRONTEND_ONLY:
            continue
        info = object_info[node["type"]]
        specs = dict(ordered_inputs(info))
        try:
            values = widget_values(node, info)
        except ValueError as err:
            problems.append(str(err))
            continue
        for input_name, value in values.items():
            spec = specs[input_name]
            problem = widget_problem(input_name, value, spec)
            # A model file the user must download is valid when the workflow's note says where it goes.
            if (
                problem
                and isinstance(value, str)
                and MODEL_FILE.search(value)
                and value not in combo_options(spec)
            ):
                problem = (
                    None if value in notes(workflow) else f"'{value}' is neither installed nor in the note"
                )
            if problem:
                problems.append(f"node {node['id']} ({node['type']}): {problem}")
        for socket in node.get("inputs", []):
            assert socket["name"] in specs, f"{name}: {node['type']} has no input '{socket['name']}'"
    for link_id, src, slot, dst, dst_slot, kind in workflow["links"]:
        out_type = object_info[nodes[src]["type"]]["output"][slot]
        socket = nodes[dst]["inputs"][dst_slot]
        in_type = dict(ordered_inputs(object_info[nodes[dst]["type"]]))[socket["name"]][0]
        assert socket["link"] == link_id
        assert out_type == kind == in_type, f"{name}: link {link_id} joins {out_type} to {in_type}"
    assert not problems, f"{name}:\n" + "\n".join(problems)


def test_workflow_templates_route_lists_ours(server):
    templates = server.get("/workflow_templates")
    ours = next((v for k, v in templates.items() if "autoguidance" in k), None)
    assert ours is not None, templates
    assert {w.removesuffix(".json") for w in WORKFLOWS} <= set(ours)


def test_digits_workflow_runs_to_an_image(server, object_info):
    from PIL import Image

    prompt = to_api_prompt(load_workflow("autoguidance-digits.json"), object_info)
    status, reply = server.post("/prompt", {"prompt": prompt})
    assert status == 200, json.dumps(reply, indent=1)
    entry = wait_for(server, reply["prompt_id"])
    assert entry["status"]["status_str"] == "success", json.dumps(entry["status"], indent=1)
    files = output_images(server, entry)  # saved files, not the preview
    assert len(files) == 8  # batch of 8 digits
    for f in files:
        image = Image.open(f)
        assert image.size == (16, 16)
        lo, hi = image.convert("L").getextrema()
        assert hi - lo > 100, f"{f.name} is blank"  # ink on paper, not a flat field
    # Its Templates card is this output: the card made from this run equals the committed one at 32 px.
    thumbs = make_thumbnails()
    fresh = thumbs.card_from_outputs([[Image.open(f).convert("RGB") for f in files]])
    card = Image.open(WORKFLOW_DIR / "autoguidance-digits.jpg").convert("L").resize((32, 32), Image.BOX)
    diff = torch.tensor(list(card.getdata()), dtype=torch.float32) - torch.tensor(
        list(fresh.convert("L").resize((32, 32), Image.BOX).getdata()), dtype=torch.float32
    )
    assert float(diff.abs().mean()) < 6, "the digits card is not this workflow's output"


def test_digits_lora_workflow_runs_to_its_images(server, object_info):
    """Must-show 5: digits-main + the bundled LoRA guided by the bare digits-main (one loader, one copy
    of the weights), beside the LoRA alone: both rows come back, and guidance pushes further along what
    the LoRA changed (bolder strokes: more ink per image)."""
    from PIL import Image, ImageStat

    prompt = to_api_prompt(load_workflow("autoguidance-digits-lora.json"), object_info)
    status, reply = server.post("/prompt", {"prompt": prompt})
    assert status == 200, json.dumps(reply, indent=1)
    entry = wait_for(server, reply["prompt_id"])
    assert entry["status"]["status_str"] == "success", json.dumps(entry["status"], indent=1)
    files = output_images(server, entry)
    rows = {
        prefix: [f for f in files if f.name.startswith(prefix)] for prefix in ("autoguidance_", "digits_")
    }
    assert [len(r) for r in rows.values()] == [8, 8]  # a batch of 8 per row
    ink = {}
    for prefix, row in rows.items():
        images = [Image.open(f).convert("L") for f in row]
        assert all(i.size == (16, 16) and i.getextrema()[1] - i.getextrema()[0] > 100 for i in images)
        ink[prefix] = sum(ImageStat.Stat(i).mean[0] for i in images) / len(images)
    assert ink["autoguidance_"] > ink["digits_"], ink
