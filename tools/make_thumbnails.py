"""Make ``workflows/<name>.jpg``, the picture a Templates-browser card shows: square, the card's shape.

Two kinds, each marked in the JPEG comment with its kind and the SHA-256 of the workflow file it was
made from, so a test can tell that a thumbnail belongs to the committed workflow:

- ``run``: a workflow whose models ship with the pack (digits, schedule showcase, pair inspector)
  shows its output. It is queued on a real ComfyUI server (127.0.0.1, a throw-away base directory) and
  the images of its Save Image nodes are laid out by ``card_from_outputs``: one node's batch as a
  near-square grid, several nodes one row each, enlarged with nearest neighbour.
  ``tests/server/test_workflows.py`` runs the digits workflow again and compares.
- ``graph``: a workflow whose models cannot be bundled (SD1.5, SDXL, SD3.5, Flux, EDM2 ImageNet)
  shows a crop of its key nodes in the classic canvas at zoom 1 (Chromium, Playwright, the server's
  front end) under a banner saying that it is the graph, not an output. The same graph run on tiny
  stand-in models would not show what the workflow makes, so none is made here.

    COMFYUI_PATH=/opt/comfyui-latest python tools/make_thumbnails.py [NAME.json ...]   # that ComfyUI's Python

The graph kind needs what the browser tests need (``bash tests/e2e/install.sh``).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib.util
import io
import json
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO / "workflows"
SIZE = 512  # px, square
MAX_BYTES = 60_000
BACKGROUND = (34, 34, 34)
CROP = 720  # graph units around the key node, at zoom 1, then scaled to SIZE
MARK = "autoguidance-thumbnail"
HERO = """() => {  // the key node: the inspector, a guider or patch, else any of ours
    const ours = app.graph._nodes.filter(n => n.type.startsWith('Autoguidance'));
    const heroes = ['AutoguidancePairInspector', 'AutoguidanceGuider', 'AutoguidanceModelPatch'];
    const hero = heroes.map(t => ours.find(n => n.type === t)).find(n => n) ?? ours[0];
    return [hero.pos[0] + hero.size[0] / 2, hero.pos[1] + hero.size[1] / 2];
}"""


def _load(name: str, path: Path):
    """A module of this checkout by path (the repository root never goes on sys.path)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def live_server():
    return _load("_live_server", REPO / "tests" / "server" / "live_server.py")


def workflow_api():
    return _load("_workflow_api", REPO / "tests" / "server" / "workflow_api.py")


def digest(path: Path) -> str:
    """SHA-256 of what a workflow computes and shows: its nodes' types, titles and widget values and its
    links (not where the boxes sit, which the layout may move)."""
    workflow = json.loads(path.read_text())
    nodes = [(n["id"], n["type"], n.get("title"), n["widgets_values"]) for n in workflow["nodes"]]
    text = json.dumps([nodes, workflow["links"]], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def mark_of(jpg: Path) -> dict[str, str]:
    """The kind and workflow digest written in a thumbnail's JPEG comment ({} when unmarked)."""
    from PIL import Image

    comment = Image.open(jpg).info.get("comment", b"").decode()
    if not comment.startswith(MARK + " "):
        return {}
    return dict(part.split("=", 1) for part in comment.split()[1:])


def runnable(workflow: dict[str, Any], object_info: dict[str, Any]) -> bool:
    """Whether every widget value is one this server accepts: its model files are installed."""
    api = workflow_api()
    for node in workflow["nodes"]:
        if node["type"] in api.FRONTEND_ONLY:
            continue
        specs = dict(api.ordered_inputs(object_info[node["type"]]))
        values = api.widget_values(node, object_info[node["type"]])
        if any(api.widget_problem(name, value, specs[name]) for name, value in values.items()):
            return False
    return True


def run_outputs(server, workflow: dict[str, Any], object_info: dict[str, Any]):
    """Queue ``workflow``; the images of each Save Image node, in node order ([[PIL.Image]])."""
    from PIL import Image

    api = workflow_api()
    status, reply = server.post("/prompt", {"prompt": api.to_api_prompt(workflow, object_info)})
    assert status == 200, reply
    entry = api.wait_for(server, reply["prompt_id"], timeout=900)
    assert entry["status"]["status_str"] == "success", entry["status"]
    saves = [str(n["id"]) for n in workflow["nodes"] if n["type"] == "SaveImage"]
    rows = []
    for node_id in saves:
        files = api.output_images(server, {"outputs": {node_id: entry["outputs"][node_id]}})
        rows.append([Image.open(f).convert("RGB") for f in files])
    return rows


def card_from_outputs(rows):
    """One card from the Save Image nodes' images: a single node's batch as a near-square grid, several
    nodes one row each; fitted into SIZE × SIZE without cropping, nearest neighbour when enlarging."""
    from PIL import Image

    if len(rows) == 1:
        cols = math.ceil(math.sqrt(len(rows[0])))
        rows = [rows[0][i : i + cols] for i in range(0, len(rows[0]), cols)]
    gap = max(2, min(im.height for row in rows for im in row) // 8)  # between pictures, before scaling
    width = max(sum(im.width for im in row) + gap * (len(row) - 1) for row in rows)
    height = sum(max(im.height for im in row) for row in rows) + gap * (len(rows) - 1)
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    y = 0
    for row in rows:
        x = 0
        for im in row:
            sheet.paste(im, (x, y))
            x += im.width + gap
        y += max(im.height for im in row) + gap
    scale = SIZE / max(width, height)
    resample = Image.Resampling.NEAREST if scale >= 1 else Image.Resampling.LANCZOS
    sheet = sheet.resize((max(1, round(width * scale)), max(1, round(height * scale))), resample)
    card = Image.new("RGB", (SIZE, SIZE), BACKGROUND)
    card.paste(sheet, ((SIZE - sheet.width) // 2, (SIZE - sheet.height) // 2))
    return card


def graph_card(png: bytes):
    """A crop of the graph under a banner that says it is not an output."""
    from PIL import Image, ImageDraw, ImageFont

    card = Image.open(io.BytesIO(png)).convert("RGB").resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    draw = ImageDraw.Draw(card)
    draw.rectangle((0, 0, SIZE, 58), fill=(70, 52, 20))
    font = ImageFont.load_default(size=20)
    draw.text((12, 6), "GRAPH PREVIEW, NOT AN OUTPUT", fill=(255, 214, 140), font=font)
    draw.text((12, 32), "needs models you download: see the note", fill=(235, 235, 235), font=font)
    return card


def save_jpeg(card, path: Path, kind: str, workflow: Path) -> None:
    comment = f"{MARK} kind={kind} workflow-sha256={digest(workflow)}".encode()
    for quality in (90, 80, 70, 60):
        out = io.BytesIO()
        card.save(out, "JPEG", quality=quality, optimize=True, comment=comment)
        if out.tell() < MAX_BYTES:
            path.write_bytes(out.getvalue())
            return
    raise RuntimeError(f"{path.name}: over {MAX_BYTES} bytes even at JPEG quality 60")


def canvas_png(page, workflow: dict[str, Any]) -> bytes:
    """CROP × CROP of the graph canvas's own pixels (no menus or dialogs) around the key node."""
    page.evaluate("(wf) => app.loadGraphData(wf)", workflow)
    page.wait_for_timeout(1500)
    cx, cy = page.evaluate(HERO)
    page.evaluate(
        """([cx, cy]) => {
            const c = app.canvas;
            c.show_info = false;
            for (const n of app.graph._nodes) n.has_errors = false;  // no missing-model outlines
            c.ds.scale = 1;
            c.ds.offset = [c.canvas.width / 2 - cx, c.canvas.height / 2 - cy];
            c.setDirty(true, true);
            c.draw(true, true);
        }""",
        [cx, cy],
    )
    page.wait_for_timeout(800)
    url = page.evaluate(
        """(s) => { const c = app.canvas.canvas, out = document.createElement('canvas');
        out.width = s; out.height = s;
        out.getContext('2d').drawImage(c, (c.width - s) / 2, (c.height - s) / 2, s, s, 0, 0, s, s);
        return out.toDataURL('image/png'); }""",
        CROP,
    )
    return base64.b64decode(url.split(",", 1)[1])


def graph_pictures(server, paths: list[Path], chromium: str) -> dict[Path, bytes]:
    from playwright.sync_api import sync_playwright

    for setting, value in (("Comfy.VueNodes.Enabled", False), ("Comfy.TutorialCompleted", True)):
        server.post(f"/settings/{setting}", value)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--headless=new", "--no-sandbox"])
        page = browser.new_page(viewport={"width": 1600, "height": 1200})
        page.goto(server.url, wait_until="domcontentloaded")
        page.wait_for_function(
            "() => window.app && app.graph && LiteGraph.registered_node_types['AutoguidanceGuider']",
            timeout=120_000,
        )
        page.wait_for_timeout(2000)
        page.keyboard.press("Escape")
        pictures = {path: canvas_png(page, json.loads(path.read_text())) for path in paths}
        browser.close()
    return pictures


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="workflow files (default: all)")
    parser.add_argument("--comfyui", type=Path, default=Path(os.environ.get("COMFYUI_PATH", "/opt/comfyui")))
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args(argv)
    paths = [WORKFLOWS / n for n in args.names] or sorted(WORKFLOWS.glob("*.json"))
    with tempfile.TemporaryDirectory() as base:
        server = live_server().start_server(args.comfyui, Path(base))
        try:
            info = server.get("/object_info", timeout=120)
            graphs = []
            for path in paths:
                workflow = json.loads(path.read_text())
                if runnable(workflow, info):
                    card = card_from_outputs(run_outputs(server, workflow, info))
                    save_jpeg(card, path.with_suffix(".jpg"), "run", path)
                    sys.stdout.write(f"{path.with_suffix('.jpg').name}: its output\n")
                else:
                    graphs.append(path)
            for path, png in graph_pictures(server, graphs, args.chromium).items():
                save_jpeg(graph_card(png), path.with_suffix(".jpg"), "graph", path)
                sys.stdout.write(f"{path.with_suffix('.jpg').name}: graph preview\n")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
