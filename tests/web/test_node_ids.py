"""Node ids live in one Python list (nodes/node_ids.py): the front end's copy, the workflows and
the registered nodes all agree with it."""

from __future__ import annotations

import json
import re

import pytest

from comfyui_autoguidance.nodes import node_ids
from comfyui_autoguidance.nodes.schedule_widgets import WIDGETS

from .node_js import REPO, needs_node, run_js

ID_PATTERN = re.compile(r"\bAutoguidance[A-Z][A-Za-z0-9]*\b")


@needs_node
def test_front_end_ids_equal_the_python_list():
    js = run_js(
        "import * as m from './web/schedule_math.js';"
        "console.log(JSON.stringify({ids: m.NODE_IDS, guided: m.GUIDED_NODE_IDS,"
        " schedule: m.SCHEDULE_NODE_IDS, widgets: m.SCHEDULE_WIDGETS}));"
    )
    assert js["guided"] == list(node_ids.GUIDED_NODE_IDS)
    assert js["schedule"] == list(node_ids.SCHEDULE_NODE_IDS)
    assert set(js["ids"].values()) <= set(node_ids.ALL_NODE_IDS)
    assert js["widgets"] == {k: list(v) for k, v in WIDGETS.items()}


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
