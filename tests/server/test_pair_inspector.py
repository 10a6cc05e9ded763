"""The bundled pair-inspector workflow queued on a live server: both images drawn, the numbers
read by ComfyUI's Preview Any. Every run also leaves the README picture at out/pair_inspector.png;
tools/readme_pictures.py copies it to docs/."""

from __future__ import annotations

import json
import re

import pytest

from .workflow_api import REPO, load_workflow, output_images, to_api_prompt, wait_for

pytestmark = [pytest.mark.comfyui, pytest.mark.server]


def readme_picture(grid, plot, out) -> None:
    """Grid and plot side by side on white, as the README shows them."""
    from PIL import Image

    canvas = Image.new("RGB", (grid.width + plot.width + 24, max(grid.height, plot.height)), "white")
    canvas.paste(grid, (0, 0))
    canvas.paste(plot, (grid.width + 24, (canvas.height - plot.height) // 2))
    canvas.save(out, optimize=True)


def test_pair_inspector_workflow_draws_both_images_and_the_numbers(server):
    from PIL import Image

    prompt = to_api_prompt(
        load_workflow("autoguidance-pair-inspector.json"), server.get("/object_info", timeout=120)
    )
    inspector = next(k for k, v in prompt.items() if v["class_type"] == "AutoguidancePairInspector")
    prompt["9999"] = {"class_type": "PreviewAny", "inputs": {"source": [inspector, 2]}}  # the numbers
    status, reply = server.post("/prompt", {"prompt": prompt})
    assert status == 200, json.dumps(reply, indent=1)
    entry = wait_for(server, reply["prompt_id"])
    assert entry["status"]["status_str"] == "success", json.dumps(entry["status"], indent=1)
    files = {f.name.rsplit("_", 2)[0]: f for f in output_images(server, entry)}
    grid, plot = Image.open(files["autoguidance_pair_grid"]), Image.open(files["autoguidance_pair_plot"])
    assert grid.width > 5 * 128 and grid.height > 6 * 128  # six rows of five 16×16 panels enlarged to 128
    assert plot.size == (720, 440)
    for image in (grid, plot):
        lo, hi = image.convert("L").getextrema()
        assert hi - lo > 150, "blank image"
    text = entry["outputs"]["9999"]["text"][0]
    rows = [line.split() for line in text.splitlines() if re.match(r"^[0-9]", line)]
    assert (
        len(rows) == 6
        and float(rows[0][0]) == pytest.approx(80.0)
        and float(rows[-1][0]) == pytest.approx(0.002)
    )
    assert all(0 < float(r[1]) < 2 for r in rows)  # the RMS ratio column
    out = REPO / "out"
    out.mkdir(exist_ok=True)
    readme_picture(grid.convert("RGB"), plot.convert("RGB"), out / "pair_inspector.png")


def test_bad_sigmas_are_a_node_error_at_queue_time(server):
    prompt = to_api_prompt(
        load_workflow("autoguidance-pair-inspector.json"), server.get("/object_info", timeout=120)
    )
    inspector = next(k for k, v in prompt.items() if v["class_type"] == "AutoguidancePairInspector")
    prompt[inspector]["inputs"]["sigmas"] = "80, five"
    status, reply = server.post("/prompt", {"prompt": prompt})
    assert status == 400 and inspector in reply["node_errors"], reply
    details = " ".join(e["details"] for e in reply["node_errors"][inspector]["errors"])
    assert "Autoguidance Pair Inspector: 'sigmas' must be numbers separated by commas" in details, reply
