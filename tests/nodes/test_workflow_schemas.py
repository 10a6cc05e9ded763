"""The node schemas tools/build_workflows.py writes down for nodes its ComfyUI lacks (NEWER_NODES:
core's Dual Model CFG Guider, ComfyUI-Distributed's nodes) equal the real ones where they exist."""

from __future__ import annotations

import importlib
import sys

import pytest

from ..conftest import REPO
from .comfy_env import import_comfy

pytestmark = pytest.mark.comfyui


def tools_module(name: str):
    """A module of tools/ (scripts only: nothing there shadows ComfyUI's modules)."""
    tools = str(REPO / "tools")
    if tools not in sys.path:
        sys.path.insert(0, tools)
    return importlib.import_module(name)


def test_written_schemas_equal_this_comfyuis():
    import_comfy()
    graph, build = tools_module("workflow_graph"), tools_module("build_workflows")
    info = graph.object_info()
    present = sorted(set(build.NEWER_NODES) & set(info))
    if not present:
        pytest.skip(f"this ComfyUI has none of {sorted(build.NEWER_NODES)} (Dual Model CFG Guider: 0.24+)")
    for name in present:
        real, written = graph.Schema.from_info(info[name]), graph.Schema.from_info(build.NEWER_NODES[name])
        assert (real.sockets, real.widgets) == (written.sockets, written.widgets), name
        assert [n for n, _ in real.outputs] == [n for n, _ in written.outputs], name
