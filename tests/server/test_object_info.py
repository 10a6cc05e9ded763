"""A live ComfyUI server loads the pack: every node listed, no import error in the log."""

from __future__ import annotations

import pytest

from comfyui_autoguidance.nodes import node_ids

from ..web.node_js import needs_node
from ..web.test_node_ids import check_plot_roles, plot_roles

pytestmark = [pytest.mark.comfyui, pytest.mark.server]

OUR_NODES = list(node_ids.ALL_NODE_IDS)  # the one list; the front end reads /object_info instead


def test_object_info_lists_every_node(server):
    info = server.get("/object_info")
    missing = [n for n in OUR_NODES if n not in info]
    assert not missing, f"missing {missing}; log:\n{server.log()[-3000:]}"
    guider = info["AutoguidanceGuider"]
    assert guider["category"] == "sampling/custom_sampling/guiders"
    assert guider["output"] == ["GUIDER"]
    assert guider["display_name"] == "Autoguidance Guider"
    assert info["AutoguidanceScheduleInterval"]["input"]["required"]["sigma_lo"][1]["default"] == 0.28
    assert info["AutoguidanceGuider"]["input"]["optional"]["schedule"][0] == "GUIDANCE_SCHEDULE"


@needs_node
def test_front_end_plots_exactly_our_guided_and_schedule_nodes(server):
    """web/schedule_widget.js picks its nodes from /object_info (plotRole): on everything served, core's
    nodes included, exactly ours that guide a sampler or make a schedule, with their widget names."""
    check_plot_roles(plot_roles(server.get("/object_info")))


def test_no_import_error_in_log(server):
    server.get("/object_info")
    log = server.log()
    ours = [line for line in log.splitlines() if "comfyui-autoguidance" in line]
    # ComfyUI prints one timing line per custom-node folder, "(IMPORT FAILED)" on failure;
    # core nodes failing on this CPU-only machine (e.g. audio without torchaudio) are not ours.
    assert any("seconds:" in line for line in ours), log[-3000:]
    assert not any("IMPORT FAILED" in line or "Cannot import" in line for line in ours), "\n".join(ours)
