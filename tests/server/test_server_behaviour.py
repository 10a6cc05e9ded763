"""The server under use: a load of 100 digits prompts, an interrupt, and bad input through the API."""

from __future__ import annotations

import copy
import time
from pathlib import Path

import pytest

from ..conftest import comfyui_version
from .live_server import LATENT_EDM2, NOT_EDM2
from .workflow_api import load_workflow, output_images, to_api_prompt, wait_for

pytestmark = [pytest.mark.comfyui, pytest.mark.server]


@pytest.fixture(scope="module")
def digits_prompt(server):
    return to_api_prompt(load_workflow("autoguidance-digits.json"), server.get("/object_info", timeout=120))


def node_of(prompt: dict, class_type: str) -> tuple[str, dict]:
    return next((k, v) for k, v in prompt.items() if v["class_type"] == class_type)


def with_seed(prompt: dict, seed: int, prefix: str) -> dict:
    p = copy.deepcopy(prompt)
    node_of(p, "RandomNoise")[1]["inputs"]["noise_seed"] = seed
    node_of(p, "SaveImage")[1]["inputs"]["filename_prefix"] = prefix
    return p


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def queue(server, prompt: dict) -> str:
    status, reply = server.post("/prompt", {"prompt": prompt})
    assert status == 200, reply
    return reply["prompt_id"]


@pytest.mark.skipif(
    (comfyui_version() or (0,)) < (0, 4),
    reason="the 100-prompt load runs against the newest ComfyUI only (the tier's longest test; "
    "everything else here runs on every version)",
)
def test_hundred_prompts_at_once(server, digits_prompt):
    seeds = [1000 + i for i in range(100)]
    seeds[99] = seeds[10]  # two prompts with the same seed: byte-identical images expected
    short = copy.deepcopy(digits_prompt)  # the load, not the sampler, is under test: 8 steps each
    node_of(short, "KarrasScheduler")[1]["inputs"]["steps"] = 8
    ids = [queue(server, with_seed(short, s, "load")) for s in seeds]
    rss_after = {}
    done: dict[str, dict] = {}
    deadline = time.monotonic() + 1200
    while len(done) < len(ids):
        assert time.monotonic() < deadline, (
            f"{len(done)} of {len(ids)} finished; log:\n{server.log()[-2000:]}"
        )
        history = server.get("/history?max_items=200")
        for pid in ids:
            entry = history.get(pid)
            if (
                pid not in done
                and entry
                and entry.get("status", {}).get("status_str") in ("success", "error")
            ):
                done[pid] = entry
        for mark in (10, 100):
            if len(done) >= mark and mark not in rss_after:
                rss_after[mark] = rss_bytes(server.process.pid)
        time.sleep(0.05)
    errors = [pid for pid, e in done.items() if e["status"]["status_str"] != "success"]
    assert not errors, done[errors[0]]["status"]
    growth = rss_after[100] / rss_after[10] - 1
    assert abs(growth) <= 0.05, (
        f"server RSS after 10 prompts {rss_after[10] >> 20} MiB, after 100 "
        f"{rss_after[100] >> 20} MiB ({growth:+.1%})"
    )
    a = [f.read_bytes() for f in output_images(server, done[ids[10]])]
    b = [f.read_bytes() for f in output_images(server, done[ids[99]])]
    c = [f.read_bytes() for f in output_images(server, done[ids[11]])]
    assert a == b and len(a) == 8
    assert a != c  # another seed, other digits


def test_interrupt_leaves_the_server_healthy(server, digits_prompt):
    long = with_seed(digits_prompt, 5, "interrupted")
    node_of(long, "KarrasScheduler")[1]["inputs"]["steps"] = 5000
    long_id = queue(server, long)
    deadline = time.monotonic() + 120
    while not any(item[1] == long_id for item in server.get("/queue")["queue_running"]):
        assert time.monotonic() < deadline, "the long prompt never started"
        time.sleep(0.05)
    time.sleep(1.0)
    status, _ = server.post("/interrupt", {})
    assert status == 200
    entry = wait_for(server, long_id, timeout=120)
    kinds = [m[0] for m in entry["status"]["messages"]]
    assert "execution_interrupted" in kinds, kinds
    after = wait_for(server, queue(server, with_seed(digits_prompt, 6, "after_interrupt")))
    assert after["status"]["status_str"] == "success"
    assert len(output_images(server, after)) == 8


def node_errors(reply: dict) -> str:
    return " ".join(
        e["details"] + " " + e["message"] for n in reply.get("node_errors", {}).values() for e in n["errors"]
    )


def test_schedule_with_lo_above_hi_is_a_node_error(server, digits_prompt):
    p = copy.deepcopy(digits_prompt)
    p["900"] = {
        "class_type": "AutoguidanceScheduleInterval",
        "inputs": {"w": 2.0, "sigma_lo": 5.0, "sigma_hi": 1.0},
    }
    node_of(p, "AutoguidanceGuider")[1]["inputs"]["schedule"] = ["900", 0]
    status, reply = server.post("/prompt", {"prompt": p})
    assert status == 400, reply
    assert "900" in reply["node_errors"]
    assert "sigma_lo must be below sigma_hi" in node_errors(reply), reply
    assert server.get("/system_stats")["system"]  # still serving


def test_loader_on_a_non_edm2_file_is_a_node_error(server, digits_prompt):
    p = copy.deepcopy(digits_prompt)
    node_of(p, "AutoguidanceEDM2Loader")[1]["inputs"]["checkpoint"] = NOT_EDM2
    status, reply = server.post("/prompt", {"prompt": p})
    assert status == 400, reply
    text = node_errors(reply)
    assert "EDM2 Loader" in text and NOT_EDM2 in text and "edm2.config" in text, reply
    assert server.get("/system_stats")["system"]


def test_guider_on_a_mismatched_pair_reports_our_message(server, digits_prompt):
    p = copy.deepcopy(digits_prompt)
    guide_loader = next(
        k
        for k, v in p.items()
        if v["class_type"] == "AutoguidanceEDM2Loader"
        and v["inputs"]["checkpoint"] == "digits-guide.safetensors"
    )
    p[guide_loader]["inputs"]["checkpoint"] = LATENT_EDM2
    entry = wait_for(server, queue(server, p))
    assert entry["status"]["status_str"] == "error"
    error = next(m[1] for m in entry["status"]["messages"] if m[0] == "execution_error")
    assert error["node_type"] == "AutoguidanceGuider"
    assert "Autoguidance Guider: main model" in error["exception_message"]
    assert "different latent channels (1 vs 4)" in error["exception_message"], error["exception_message"]
    ok = wait_for(server, queue(server, with_seed(digits_prompt, 7, "after_error")))
    assert ok["status"]["status_str"] == "success"
