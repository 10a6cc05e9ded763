"""What a new user meets first, measured in the browser: every bundled workflow opens at a zoom where
node titles are drawn, with no two node boxes overlapping and every widget's label and value inside
its node, in the classic canvas and in Nodes 2.0; the plots' text stays legible at 50 % zoom and says
"estimate" until a run reports its σ steps; the digits workflow's preview shows every sample large, and
its guider's plot then draws the σ steps the run reported."""

from __future__ import annotations

import json
import os
import time

import pytest

from ..server.workflow_api import WORKFLOW_DIR, output_images, wait_for
from .conftest import close_dialogs
from .test_ui import REPO, VUE_WITHOUT_CANVAS_WIDGETS, center_on, last_plot, load_workflow

WORKFLOWS = sorted(p.name for p in WORKFLOW_DIR.glob("*.json"))
LOD = "(LiteGraph.NODE_TEXT_SIZE ?? 14) * app.canvas.ds.scale >= (app.canvas.min_font_size_for_lod ?? 8)"
# Boxes of every node (title bar included) and the widgets that do not fit, from each canvas's own layout.
CLASSIC = """() => {
  const T = LiteGraph.NODE_TITLE_HEIGHT, ctx = app.canvas.ctx, problems = [];
  ctx.save();
  ctx.font = `${LiteGraph.NODE_SUBTEXT_SIZE ?? 12}px ${LiteGraph.NODE_FONT ?? 'Arial'}`;
  for (const n of app.graph._nodes) {
    for (const w of n.widgets ?? []) {
      if (w.type === 'autoguidance_schedule_plot' || w.options?.multiline || w.element) continue;
      if (!['number', 'combo', 'text', 'toggle', 'string'].includes(w.type)) continue;
      const p = w.options?.precision;
      const v = typeof w.value === 'number' && p != null ? w.value.toFixed(p) : String(w.value);
      const need = ctx.measureText(w.label ?? w.name).width + ctx.measureText(v).width + 50;
      const bottom = (w.last_y ?? w.y ?? 0) + (w.computedHeight ?? LiteGraph.NODE_WIDGET_HEIGHT ?? 20);
      if (need > n.size[0] || bottom > n.size[1] + 1)
        problems.push(`${n.id} ${n.type}.${w.name}=${v}: needs ${Math.ceil(need)}x${bottom}, box ${n.size}`);
    }
  }
  ctx.restore();
  const boxes = app.graph._nodes.map(n => [n.id, n.pos[0], n.pos[1] - T, n.size[0], n.size[1] + T]);
  return {boxes, problems};
}"""
VUE = """() => {
  const problems = [], boxes = [];
  const s = app.canvas.ds.scale;
  for (const el of document.querySelectorAll('[data-node-id]')) {
    const id = el.getAttribute('data-node-id'), r = el.getBoundingClientRect();
    if (!app.graph.getNodeById(Number(id))) continue;
    boxes.push([Number(id), r.x / s, r.y / s, r.width / s, r.height / s]);
    for (const input of el.querySelectorAll('input, [data-widget-name] span')) {
      const q = input.getBoundingClientRect();
      if (!q.width) continue;
      const cut = input.scrollWidth > input.clientWidth + 1;
      const out = q.left < r.left - 1 || q.right > r.right + 1 || q.bottom > r.bottom + 1;
      const text = input.value ?? input.textContent;
      if (cut || out) problems.push(`${id} ${input.tagName} '${text}' ${cut ? 'cut off' : 'outside'}`);
    }
  }
  return {boxes, problems};
}"""


def overlaps(boxes: list[list[float]]) -> list[str]:
    found = []
    for i, (a, ax, ay, aw, ah) in enumerate(boxes):
        for b, bx, by, bw, bh in boxes[i + 1 :]:
            if ax < bx + bw - 1 and bx < ax + aw - 1 and ay < by + bh - 1 and by < ay + ah - 1:
                found.append(
                    f"nodes {a} and {b} overlap: {a} at {ax:.0f},{ay:.0f} size {aw:.0f}x{ah:.0f}, "
                    f"{b} at {bx:.0f},{by:.0f} size {bw:.0f}x{bh:.0f}"
                )
    return found


@pytest.mark.front_ends("bundled", "current")
def test_every_workflow_opens_readable_with_nothing_overlapping(page, mode, front_end):
    if mode == "vue" and front_end.version < (1, 28):
        pytest.skip(f"front end {front_end.label}: no Nodes 2.0")
    failures = {}
    for name in WORKFLOWS:
        load_workflow(page, name, "Note")
        page.wait_for_timeout(1500)
        close_dialogs(page)
        found = []
        if not page.evaluate(f"() => {LOD}"):
            found.append(f"opens at zoom {page.evaluate('() => app.canvas.ds.scale'):.2f}: titles not drawn")
        layout = page.evaluate(VUE if mode == "vue" else CLASSIC)
        if mode == "vue":
            assert len(layout["boxes"]) == len(json.loads((WORKFLOW_DIR / name).read_text())["nodes"]), name
        found += overlaps(layout["boxes"]) + layout["problems"]
        if found:
            failures[name] = found
    assert not failures, json.dumps(failures, indent=1)
    assert not page.our_errors(), page.our_errors()


@pytest.mark.front_ends("bundled", "current")
def test_plot_text_is_legible_at_half_zoom_and_says_estimate(page, mode, front_end):
    if mode == "vue" and front_end.version < VUE_WITHOUT_CANVAS_WIDGETS:
        pytest.skip(f"front end {front_end.label}: its Vue node mode renders no extension canvas widget")
    load_workflow(page, "autoguidance-schedule-showcase.json", "AutoguidanceScheduleLimit")
    page.wait_for_timeout(1000)
    guider = page.evaluate("() => app.graph._nodes.find(n => n.type === 'AutoguidanceGuider').id")
    center_on(page, guider)
    page.evaluate("() => { app.canvas.ds.scale = 0.5; app.canvas.setDirty(true, true); }")
    page.wait_for_timeout(1200)
    plot = last_plot(page, guider)
    device_px = plot["glyphPx"] * 0.5 * page.evaluate("() => window.devicePixelRatio")
    assert device_px >= 8, plot  # a digit's rendered height on screen
    assert plot["text"].startswith("estimate"), plot  # no run has reported its σ steps


SHOWN_SIGMA_MIN = """() => {  // KarrasScheduler's σ_min (0.002) as the widget shows it: Nodes 2.0's input,
  // else (the classic canvas; Nodes 2.0 where ComfyUI 0.33 marks it advanced and hides it) at its precision
  const n = app.graph._nodes.find(n => n.type === 'KarrasScheduler');
  const input = document.querySelector(`[data-node-id="${n.id}"] [data-widget-name="sigma_min"] input`);
  const w = n.widgets.find(w => w.name === 'sigma_min');
  return input ? input.value : w.value.toFixed(w.options.precision ?? 2);
}"""


@pytest.mark.front_ends("bundled", "current")
def test_digits_workflow_previews_every_sample_large(page, ui_server, mode, front_end):
    if mode == "vue" and front_end.version < (1, 28):
        pytest.skip(f"front end {front_end.label}: no Nodes 2.0")
    load_workflow(page, "autoguidance-digits.json", "PreviewImage")
    page.wait_for_timeout(1000)
    assert "0.002" in page.evaluate(SHOWN_SIGMA_MIN)  # not rounded to 0.00 by the widget's precision
    # Each mode runs the same prompt on one server: empty ComfyUI's cache, or the run is served from it
    # and sends no run message (the worker takes the flag within a second).
    assert ui_server.post("/free", {"free_memory": True})[0] == 200
    time.sleep(1.5)
    before = set(ui_server.get("/history?max_items=1000"))
    page.get_by_role("button", name="Run", exact=False).first.click()
    deadline = time.monotonic() + 300
    while not (new := set(ui_server.get("/history?max_items=1000")) - before):
        assert time.monotonic() < deadline, "no prompt reached the server"
        time.sleep(0.25)
    entry = wait_for(ui_server, new.pop())
    assert entry["status"]["status_str"] == "success", entry["status"]
    from PIL import Image

    saved = output_images(ui_server, entry)
    assert len(saved) == 8  # the 16x16 batch Save Image keeps
    for f in saved:
        lo, hi = Image.open(f).convert("L").getextrema()
        assert hi - lo > 100, f"{f.name} is blank"
    preview = page.evaluate("() => app.graph._nodes.find(n => n.type === 'PreviewImage').id")
    imgs = f"""document.querySelectorAll('[data-node-id="{preview}"] img')"""  # Nodes 2.0: one <img> each
    shown = f"{imgs}.length" if mode == "vue" else f"app.graph.getNodeById({preview}).imgs?.length"
    page.wait_for_function(f"() => {shown} === 8", timeout=30_000)
    center_on(page, preview)
    page.wait_for_timeout(1500)
    if mode == "vue":  # the preview's <img> elements, in CSS px at zoom 1
        rects = page.evaluate(
            f"() => [...{imgs}].map(i => i.getBoundingClientRect()).map(r => [r.x, r.y, r.width, r.height])"
        )
    else:
        rects = page.evaluate(f"() => app.graph.getNodeById({preview}).imageRects")
    assert len(rects) == 8, rects  # every sample, in a grid
    assert min(w for _, _, w, _ in rects) >= 48, rects  # each digit at least 3x its 16 px
    width = max(x + w for x, _, w, _ in rects) - min(x for x, _, _, _ in rects)
    assert width >= 200, rects
    guider = page.evaluate("() => app.graph._nodes.find(n => n.type === 'AutoguidanceGuider').id")
    center_on(page, guider)  # drawn again: the server's run message replaced the estimate
    page.wait_for_timeout(800)
    assert last_plot(page, guider)["text"].startswith("last run: guide runs"), last_plot(page, guider)
    view = json.loads((WORKFLOW_DIR / "autoguidance-digits.json").read_text())["extra"]["ds"]
    page.evaluate(  # the screenshot at the view the workflow opens at
        "(ds) => { app.canvas.ds.scale = ds.scale; app.canvas.ds.offset = ds.offset;"
        " app.canvas.setDirty(true, true); }",
        view,
    )
    page.wait_for_timeout(1500)
    for path in [REPO / "out" / "e2e" / f"digits_{mode}.png"] + (
        [REPO / "docs" / f"digits_{mode}.png"] if os.environ.get("UPDATE_DOCS") == "1" else []
    ):
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path))
    assert not page.our_errors(), page.our_errors()
    assert not page.our_deprecations(), page.our_deprecations()[:3]
