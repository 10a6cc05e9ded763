"""Node ids live in one Python list (nodes/node_ids.py): the workflows and the registered nodes agree
with it, and the front end, which keeps no copy, finds the plotted nodes and their widgets in the
node schemas the server serves."""

from __future__ import annotations

import json
import re

import pytest

from comfyui_autoguidance.nodes import node_ids
from comfyui_autoguidance.nodes.schedule_widgets import WIDGETS

from .node_js import REPO, needs_node, run_js

ID_PATTERN = re.compile(r"\bAutoguidance[A-Z][A-Za-z0-9]*\b")


PLOT_ROLES_JS = """import {plotRole} from './web/schedule_math.js';
const roles = Object.fromEntries(Object.entries(DATA).map(([id, info]) => [id, plotRole(info)]));
console.log(JSON.stringify(roles));"""


def plot_roles(object_info: dict) -> dict:
    """web/schedule_math.js plotRole of every entry of an /object_info answer: {node id: role}."""
    return run_js(PLOT_ROLES_JS, object_info)  # type: ignore[return-value]


def check_plot_roles(roles: dict) -> None:
    """Exactly the guided and schedule nodes plot; a schedule node's widgets are schedule_widgets.WIDGETS."""
    guided = {n for n, r in roles.items() if r and r.get("guided")}
    assert guided == set(node_ids.GUIDED_NODE_IDS)
    assert {n for n in guided if roles[n]["cfg"]} == {node_ids.GUIDER}
    schedules = {n: r for n, r in roles.items() if r and "widgets" in r}
    assert {n: tuple(r["widgets"]) for n, r in schedules.items()} == WIDGETS
    assert {n for n, r in schedules.items() if r["limit"]} == {node_ids.SCHEDULE_LIMIT}


@pytest.mark.comfyui
@needs_node
def test_front_end_finds_our_plotted_nodes_in_their_schemas():
    from ..nodes.comfy_env import import_comfy  # noqa: TID252

    import_comfy()
    from comfyui_autoguidance.nodes.extension import NODE_CLASSES

    # The /object_info entry of each node, as the server builds it for V3 nodes.
    infos = [cls.GET_NODE_INFO_V1() for cls in NODE_CLASSES]
    check_plot_roles(plot_roles({info["name"]: info for info in infos}))


def test_every_id_written_in_web_and_workflows_is_in_the_list():
    written = set()
    for path in [*(REPO / "web").glob("*.js"), *(REPO / "workflows").glob("*.json")]:
        written |= set(ID_PATTERN.findall(path.read_text()))
    for path in (REPO / "workflows").glob("*.json"):
        written |= {
            n["type"] for n in json.loads(path.read_text())["nodes"] if n["type"].startswith("Autoguidance")
        }
    assert written and written <= set(node_ids.ALL_NODE_IDS), written - set(node_ids.ALL_NODE_IDS)


def test_ids_are_unique_and_prefixed():
    assert len(set(node_ids.ALL_NODE_IDS)) == len(node_ids.ALL_NODE_IDS)
    assert all(ID_PATTERN.fullmatch(i) for i in node_ids.ALL_NODE_IDS)


@pytest.mark.comfyui
def test_registered_nodes_are_the_list_and_schedule_widgets_match_their_schemas():
    from ..nodes.comfy_env import import_comfy  # noqa: TID252

    import_comfy()
    from comfyui_autoguidance.nodes.extension import NODE_CLASSES

    schemas = {cls.define_schema().node_id: cls.define_schema() for cls in NODE_CLASSES}
    assert sorted(schemas) == sorted(node_ids.ALL_NODE_IDS)
    for node_id, names in WIDGETS.items():
        widgets = [i.id for i in schemas[node_id].inputs if i.id != "schedule"]  # the Limit's socket
        assert tuple(widgets) == names, node_id
