"""Facts the front end and the Python side both hold, held equal: the run message's name, the plot's
height (the workflow builder gives every plotted box room for it), and the order the Templates browser
shows the bundled workflows in."""

from __future__ import annotations

import importlib.util
import json
import re
import sys

import pytest

from comfyui_autoguidance.nodes import node_ids

from .node_js import REPO, needs_node, run_js


def builder():
    """tools/build_workflows.py, loaded by path with tools/ importable (the root never goes on sys.path)."""
    sys.path.insert(0, str(REPO / "tools"))
    try:
        spec = importlib.util.spec_from_file_location(
            "_build_workflows", REPO / "tools" / "build_workflows.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(REPO / "tools"))


@pytest.fixture(scope="module")
def js() -> dict:
    return run_js(
        "import * as m from './web/schedule_math.js';"
        "console.log(JSON.stringify({event: m.RUN_EVENT, height: m.PLOT_HEIGHT}));"
    )


@needs_node
def test_plot_height_and_plotted_nodes_are_the_builders(js):
    build = builder()
    assert js["height"] == build.PLOT_HEIGHT
    assert {*node_ids.GUIDED_NODE_IDS, *node_ids.SCHEDULE_NODE_IDS} == build.PLOTTED  # what plotRole finds


def test_template_order_is_the_builders_and_starts_with_digits():
    text = (REPO / "web" / "template_order.js").read_text()
    listed = json.loads(re.search(r"TEMPLATE_ORDER = (\[.*?\]);", text, re.S)[1].replace(",\n]", "\n]"))
    source = (REPO / "tools" / "build_workflows.py").read_text()
    block = source[source.index("    builders = {") :]
    built = [n.removesuffix(".json") for n in re.findall(r'^        "([^"]+\.json)":', block, re.M)]
    assert listed[0] == "autoguidance-digits"
    assert [n for n in built if n in listed] == listed, "web/template_order.js and the builder's order differ"
    assert {p.stem for p in (REPO / "workflows").glob("*.json")} >= set(listed)


@pytest.mark.comfyui
@needs_node
def test_run_event_is_the_one_the_guide_term_sends(js):
    from ..nodes.comfy_env import import_comfy  # noqa: TID252

    import_comfy()
    from comfyui_autoguidance.nodes.guide_term import RUN_EVENT

    assert js["event"] == RUN_EVENT
