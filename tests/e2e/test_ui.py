"""In the browser, as a person uses it: the plots in every schedule node and guider, in the
classic canvas and in Nodes 2.0 (Vue) mode, following edits of the schedule upstream and link
changes; our nodes found by search; the bundled workflows in the Templates browser; the digits
workflow queued with the Run button (test_layout.py). No deprecation warning may come from our scripts."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import pytest
import torch

from comfyui_autoguidance.nodes.node_ids import GUIDED_NODE_IDS, SCHEDULE_NODE_IDS

from ..server.workflow_api import WORKFLOW_DIR
from .conftest import close_dialogs

REPO = Path(__file__).resolve().parents[2]
# Written under out/ on every run; UPDATE_DOCS=1 also refreshes the README's copy in docs/.
SCREENSHOTS = [REPO / "out" / "e2e" / "schedule_widget.png"] + (
    [REPO / "docs" / "schedule_widget.png"] if os.environ.get("UPDATE_DOCS") == "1" else []
)


def node_clip(page, node_id: int) -> dict:
    """The page rectangle of a node (title bar included), from the canvas transform."""
    return page.evaluate(
        """(id) => {
        const node = app.graph.getNodeById(id);
        const c = app.canvas;
        const rect = c.canvas.getBoundingClientRect();
        const [x, y] = c.ds.convertOffsetToCanvas([node.pos[0], node.pos[1] - LiteGraph.NODE_TITLE_HEIGHT]);
        const s = c.ds.scale;
        return {x: rect.left + x, y: rect.top + y, width: node.size[0] * s,
                height: (node.size[1] + LiteGraph.NODE_TITLE_HEIGHT) * s};
    }""",
        node_id,
    )


def shot(page, clip: dict) -> bytes:
    page.evaluate("() => app.graph.setDirtyCanvas(true, true)")
    page.wait_for_timeout(400)  # a few animation frames
    return page.screenshot(clip=clip)


def pixels(png: bytes) -> torch.Tensor:
    """[H, W, 3] int16 RGB of a PNG screenshot."""
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    rgb = torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8)
    return rgb.reshape(img.height, img.width, 3).short()


def changed_pixels(a: bytes, b: bytes) -> int:
    return int(((pixels(a) - pixels(b)).abs().amax(-1) > 40).sum())


def orange_pixels(png: bytes) -> int:
    """Pixels of the curve's colour (#f0a040)."""
    p = pixels(png)
    r, g, b = p[..., 0], p[..., 1], p[..., 2]
    return int(((r > 200) & (g > 130) & (g < 190) & (b < 100)).sum())


PLOTTED = (*GUIDED_NODE_IDS, *SCHEDULE_NODE_IDS)
VUE_WITHOUT_CANVAS_WIDGETS = (1, 28)  # 1.27's Vue nodes render only the front end's own widget types


def has_node(node_type: str) -> str:
    return f"() => app.graph._nodes.some(n => n.type === '{node_type}')"


def load_workflow(page, name: str, node_type: str) -> None:
    """Open a bundled workflow and wait for one of its nodes."""
    workflow = json.loads((WORKFLOW_DIR / name).read_text())
    page.evaluate("(wf) => app.loadGraphData(wf)", workflow)
    page.wait_for_function(has_node(node_type), timeout=15_000)


def load_showcase(page) -> None:
    load_workflow(page, "autoguidance-schedule-showcase.json", "AutoguidanceScheduleLimit")
    page.wait_for_timeout(1000)
    close_dialogs(page)


def center_on(page, node_id) -> None:
    """Scale 1, the node near the top left of the canvas (Vue nodes follow the same transform)."""
    page.evaluate(
        """(id) => {
        const n = app.graph.getNodeById(id);
        app.canvas.ds.scale = 1;
        app.canvas.ds.offset = [-n.pos[0] + 320, -n.pos[1] + 140];
        app.canvas.setDirty(true, true);
    }""",
        node_id,
    )
    page.wait_for_timeout(600)


def plot_png(page, node_id, mode: str) -> bytes:
    """The node's plot as the user sees it: its own canvas in Vue mode, its part of the graph canvas else."""
    center_on(page, node_id)
    if mode == "vue":  # its box, not Locator.screenshot: that waits for the element to stop moving,
        # which a Vue node being re-laid-out after centring may not do within the timeout
        page.wait_for_timeout(400)
        box = page.locator(f'[data-node-id="{node_id}"] canvas').first.bounding_box()
        assert box is not None, f"node {node_id}: no plot canvas in Vue mode"
        return page.screenshot(clip=box)
    return shot(page, node_clip(page, node_id))


def edit_number(page, node_id, name: str, value: float, mode: str) -> None:
    """Type a value into a number widget: the Vue input, or what the canvas's value prompt does."""
    if mode == "vue":
        center_on(page, node_id)
        node = page.locator(f'[data-node-id="{node_id}"]')  # 1.58 names the widget, 1.49 labels its input
        widget = node.locator(f'[data-widget-name="{name}"], [aria-label="{name}"]')
        widget.locator(".cursor-ew-resize").first.click()  # the drag-to-scrub layer over the input
        page.keyboard.press("Control+A")
        page.keyboard.type(str(value))
        page.keyboard.press("Enter")
    else:
        page.evaluate(
            """([id, name, value]) => { const n = app.graph.getNodeById(id);
            const w = n.widgets.find(w => w.name === name);
            if (w.setValue) w.setValue(value, {e: new MouseEvent('click'), node: n, canvas: app.canvas});
            else { w.value = value; w.callback?.(value, app.canvas, n); } }""",
            [node_id, name, value],
        )
    page.wait_for_timeout(500)
    assert (
        page.evaluate(
            "([id, name]) => app.graph.getNodeById(id).widgets.find(w => w.name === name).value",
            [node_id, name],
        )
        == value
    )


def last_plot(page, node_id) -> dict:
    return page.evaluate("(id) => app.graph.getNodeById(id).__agLastPlot", node_id)


@pytest.mark.front_ends("bundled", "current")
def test_plots_follow_the_upstream_schedule_and_links(page, mode, front_end):
    load_showcase(page)
    ours = page.evaluate(
        "(types) => app.graph._nodes.filter(n => types.includes(n.type)).map(n => n.id)", list(PLOTTED)
    )
    assert len(ours) >= 9
    if mode == "vue" and front_end.version < VUE_WITHOUT_CANVAS_WIDGETS:
        assert page.locator("[data-node-id]").count() > 0  # Vue nodes are drawn ...
        # ... without extension widgets
        assert page.locator(f'[data-node-id="{ours[0]}"] canvas').count() == 0
        pytest.skip(f"front end {front_end.label}: its Vue node mode renders no extension canvas widget")
    for node_id in ours:  # plots present, with a curve drawn
        assert orange_pixels(plot_png(page, node_id, mode)) > 40, node_id
    interval, guider, slot = page.evaluate("""() => {
        const iv = app.graph._nodes.find(n => n.type === 'AutoguidanceScheduleInterval');
        const g = iv.getOutputNodes(0).find(n => n.type === 'AutoguidanceGuider');
        return [iv.id, g.id, g.findInputSlot('schedule')]; }""")
    before, plot_before = plot_png(page, guider, mode), last_plot(page, guider)

    edit_number(page, interval, "sigma_hi", 60, mode)  # widen the interval upstream
    after, plot_after = plot_png(page, guider, mode), last_plot(page, guider)
    assert plot_after["guided"] > plot_before["guided"], (plot_before, plot_after)
    assert changed_pixels(before, after) > 200, "the guider's plot did not follow its schedule"

    page.evaluate("([g, slot]) => app.graph.getNodeById(g).disconnectInput(slot)", [guider, slot])
    unlinked = plot_png(page, guider, mode)
    assert last_plot(page, guider)["guided"] == plot_after["total"]  # constant w: every evaluation
    assert changed_pixels(after, unlinked) > 200, "the guider's plot did not follow the unlinking"
    page.evaluate(
        "([iv, g, slot]) => app.graph.getNodeById(iv).connect(0, app.graph.getNodeById(g), slot)",
        [interval, guider, slot],
    )
    relinked = plot_png(page, guider, mode)
    assert last_plot(page, guider)["guided"] == plot_after["guided"]
    assert changed_pixels(unlinked, relinked) > 200
    assert not page.our_errors(), page.our_errors()
    assert not page.our_deprecations(), page.our_deprecations()[:3]


@pytest.mark.front_ends("bundled", "current")
def test_templates_browser_offers_our_workflows(page, front_end):
    thumbnails: dict[str, int] = {}  # thumbnail name → HTTP status, as the browser fetched them

    def seen(response) -> None:
        if "/workflow_templates/comfyui-autoguidance/" in response.url and response.url.endswith(".jpg"):
            thumbnails[response.url.rsplit("/", 1)[1]] = response.status

    page.on("response", seen)
    page.get_by_text("Templates", exact=True).first.click()  # the sidebar button
    dialog = page.get_by_role("dialog").first
    dialog.wait_for(timeout=30_000)
    dialog.get_by_text("comfyui-autoguidance", exact=False).first.click()
    dialog.get_by_text("autoguidance-digits", exact=False).first.wait_for(timeout=15_000)
    texts = dialog.inner_text()
    for name in ("autoguidance-digits", "edm2-img512-s-xs-autoguidance", "sd15-ksampler-autoguidance-patch"):
        assert name in texts, texts[:2000]
    ours = {p.stem for p in WORKFLOW_DIR.glob("*.json")}
    shown = [word for word in texts.split() if word in ours]
    assert shown[0] == "autoguidance-digits", shown  # the first card: the workflow to try first
    page.wait_for_timeout(2000)
    assert all(status == 200 for status in thumbnails.values()), thumbnails
    if front_end.version >= (1, 49):  # newer front ends show a <name>.jpg per workflow
        assert set(thumbnails) == {p.with_suffix(".jpg").name for p in WORKFLOW_DIR.glob("*.json")}, (
            thumbnails
        )


@pytest.mark.front_ends("bundled", "current")
def test_search_add_schedule_node_and_curve_follows_widgets(page):
    page.evaluate("() => { app.graph.clear(); app.graph.setDirtyCanvas(true, true); }")  # an empty canvas
    # The node search box: "Search Nodes..." up to 1.27, "Add a node..." from 1.49.
    search = page.get_by_placeholder(re.compile("Search Nodes|Add a node", re.IGNORECASE)).first
    for _ in range(5):  # a double click on the empty canvas opens the node search box
        close_dialogs(page)
        page.mouse.dblclick(800, 500)
        try:
            search.wait_for(timeout=3_000)
            break
        except Exception:  # noqa: S112 - the UI may still be settling: try again
            continue
    if not search.is_visible():
        (REPO / "out").mkdir(exist_ok=True)
        page.screenshot(path=str(REPO / "out" / "e2e_search_failure.png"))
    search.wait_for(timeout=3_000)
    search.fill("Guidance Schedule (Interval)")
    page.get_by_text("Guidance Schedule (Interval)", exact=False).first.wait_for(timeout=15_000)
    page.keyboard.press("Enter")
    page.wait_for_function(has_node("AutoguidanceScheduleInterval"), timeout=15_000)
    # Newer front ends hold a searched node at the pointer ("ghost") until a click on the canvas drops it.
    search.wait_for(state="hidden", timeout=10_000)
    page.mouse.move(700, 600)
    page.mouse.click(700, 600)
    page.wait_for_function("() => app.canvas.state?.ghostNodeId == null", timeout=5_000)
    node_id = page.evaluate("() => app.graph._nodes.find(n => n.type === 'AutoguidanceScheduleInterval').id")
    assert page.evaluate(
        "(id) => app.graph.getNodeById(id).widgets.some(w => w.type === 'autoguidance_schedule_plot')",
        node_id,
    )
    page.evaluate(
        "(id) => { const n = app.graph.getNodeById(id); n.pos = [300, 200]; "
        "app.canvas.ds.offset = [0, 0]; app.canvas.ds.scale = 1; }",
        node_id,
    )
    clip = node_clip(page, node_id)
    before = shot(page, clip)
    plot_before = page.evaluate("(id) => app.graph.getNodeById(id).__agLastPlot", node_id)
    assert plot_before["total"] == 63 and 0 < plot_before["guided"] < 63, plot_before

    def set_widget(name, value):
        page.evaluate(
            """([id, name, value]) => {
            const w = app.graph.getNodeById(id).widgets.find(w => w.name === name);
            w.value = value;
            w.callback?.(value);
        }""",
            [node_id, name, value],
        )

    set_widget("sigma_lo", 0.01)
    set_widget("sigma_hi", 60.0)
    set_widget("w", 4.0)
    after = shot(page, clip)
    plot_after = page.evaluate("(id) => app.graph.getNodeById(id).__agLastPlot", node_id)
    assert plot_after["guided"] > plot_before["guided"], (plot_before, plot_after)
    assert changed_pixels(before, after) > 200, "the drawn curve did not change"
    assert orange_pixels(before) > 50 and orange_pixels(after) > 50  # a curve is drawn in both
    set_widget("sigma_lo", 70.0)  # above sigma_hi: the widget says so instead of drawing
    bad = shot(page, clip)
    assert changed_pixels(after, bad) > 200
    assert not page.our_errors(), page.our_errors()
    assert not page.our_deprecations(), page.our_deprecations()[:3]


@pytest.mark.front_ends("bundled")
def test_screenshot_of_the_schedule_widget_for_the_readme(page):
    load_workflow(page, "autoguidance-schedule-showcase.json", "AutoguidanceScheduleRamp")
    page.evaluate(
        "() => { app.canvas.ds.scale = 0.8; app.canvas.ds.offset = [10, 200]; "
        "app.graph.setDirtyCanvas(true, true); }"
    )
    page.wait_for_timeout(600)
    png = page.screenshot()
    assert orange_pixels(png) > 500  # the curves are on screen
    for path in SCREENSHOTS:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png)
