"""Make ``workflows/<name>.jpg``, the thumbnail the front end's Templates browser shows per workflow.

How: a real ComfyUI server with this pack (started here, on 127.0.0.1, with a throw-away base
directory) is opened in Chromium by Playwright with its bundled front end; each bundled workflow
is loaded into the classic canvas at zoom 1, centred on its Pair Inspector, Autoguidance Guider or model patch
(else on any node of ours), and 960 × 720 of the canvas's own pixels (no menus, side bars or
dialogs) around it are scaled to 640 × 480 and saved as JPEG, each under 60 kB. The thumbnails
in the repository were made with ComfyUI 0.33.0 and its front end 1.49.6. Rerun it after
changing a workflow:

    COMFYUI_PATH=/opt/comfyui python tools/make_thumbnails.py   # the Python of that ComfyUI

It needs what the browser tests need (``bash tests/e2e/install.sh``) and Pillow.
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import io
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SIZE = (640, 480)
MAX_BYTES = 60_000
VIEW = (960, 720)  # graph units shown around the hero node, at zoom 1, then scaled to SIZE
HERO = """() => {  // the node a thumbnail centres on: the inspector, a guider or patch, else any of ours
    const ours = app.graph._nodes.filter(n => n.type.startsWith('Autoguidance'));
    const heroes = ['AutoguidancePairInspector', 'AutoguidanceGuider', 'AutoguidanceModelPatch'];
    const hero = heroes.map(t => ours.find(n => n.type === t)).find(n => n) ?? ours[0];
    return [hero.pos[0] + hero.size[0] / 2, hero.pos[1] + hero.size[1] / 2];
}"""


def live_server_module():
    """tests/server/live_server.py, loaded by path (the repository root never goes on sys.path)."""
    spec = importlib.util.spec_from_file_location(
        "_live_server", REPO / "tests" / "server" / "live_server.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def canvas_png(page, workflow: dict) -> bytes:
    """The graph canvas's own pixels (no menus, side bars or dialogs), VIEW around the hero node."""
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
        """([w, h]) => { const c = app.canvas.canvas, out = document.createElement('canvas');
        out.width = w; out.height = h;
        out.getContext('2d').drawImage(c, (c.width - w) / 2, (c.height - h) / 2, w, h, 0, 0, w, h);
        return out.toDataURL('image/png'); }""",
        list(VIEW),
    )
    return base64.b64decode(url.split(",", 1)[1])


def thumbnail(png: bytes) -> bytes:
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    img.thumbnail(SIZE, Image.Resampling.LANCZOS)
    sheet = Image.new("RGB", SIZE, img.getpixel((2, 2)))  # the canvas background around it
    sheet.paste(img, ((SIZE[0] - img.width) // 2, (SIZE[1] - img.height) // 2))
    for quality in (85, 75, 65, 55):
        out = io.BytesIO()
        sheet.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
        if out.tell() < MAX_BYTES:
            return out.getvalue()
    raise RuntimeError(f"thumbnail over {MAX_BYTES} bytes even at JPEG quality 55")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comfyui", type=Path, default=Path(os.environ.get("COMFYUI_PATH", "/opt/comfyui")))
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    live = live_server_module()
    with tempfile.TemporaryDirectory() as base, sync_playwright() as pw:
        server = live.start_server(args.comfyui, Path(base))
        try:
            for setting, value in (("Comfy.VueNodes.Enabled", False), ("Comfy.TutorialCompleted", True)):
                server.post(f"/settings/{setting}", value)
            browser = pw.chromium.launch(
                executable_path=args.chromium, args=["--headless=new", "--no-sandbox"]
            )
            page = browser.new_page(viewport={"width": 1600, "height": 1200})
            page.goto(server.url, wait_until="domcontentloaded")
            page.wait_for_function(
                "() => window.app && app.graph && LiteGraph.registered_node_types['AutoguidanceGuider']",
                timeout=120_000,
            )
            page.wait_for_timeout(2000)
            page.keyboard.press("Escape")
            for path in sorted((REPO / "workflows").glob("*.json")):
                jpg = thumbnail(canvas_png(page, json.loads(path.read_text())))
                path.with_suffix(".jpg").write_bytes(jpg)
                sys.stdout.write(f"{path.with_suffix('.jpg').relative_to(REPO)}: {len(jpg) // 1000} kB\n")
            browser.close()
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
