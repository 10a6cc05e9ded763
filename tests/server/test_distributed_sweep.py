"""The bundled w × α sweep fanned out by ComfyUI-Distributed: a master and one worker, two ComfyUI
servers on 127.0.0.1, and every picture equal to the same sweep drawn by one ComfyUI.

ComfyUI-Distributed (github.com/robertvoy/ComfyUI-Distributed) is never part of this repository:
it is found at ``$COMFYUI_DISTRIBUTED_PATH``, else ``/opt/comfyui-distributed``, and copied into
each server's throw-away ``custom_nodes`` (its settings file lives in its own folder). Where it is
absent the test skips, saying so.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from .live_server import start_server
from .workflow_api import load_workflow, output_images, to_api_prompt, wait_for

pytestmark = [pytest.mark.comfyui, pytest.mark.server]

WORKFLOW = "autoguidance-distributed-sweep.json"
FOLDER = "ComfyUI-Distributed"


def distributed_path() -> Path | None:
    for candidate in (os.environ.get("COMFYUI_DISTRIBUTED_PATH"), "/opt/comfyui-distributed"):
        if candidate and (Path(candidate) / "distributed.py").is_file():
            return Path(candidate)
    return None


def install_distributed(base: Path, config: dict | None = None) -> None:
    """ComfyUI-Distributed copied into ``base/custom_nodes`` with its settings file, if given."""
    source = distributed_path()
    assert source is not None
    target = base / "custom_nodes" / FOLDER
    ignore = shutil.ignore_patterns(".git", "tests", "node_modules", "gpu_config.json")
    shutil.copytree(source, target, ignore=ignore)
    if config is not None:
        (target / "gpu_config.json").write_text(json.dumps(config, indent=2))


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """(master, worker): the worker starts first, then the master with it in its settings."""
    from ..conftest import comfyui_path

    if distributed_path() is None:
        pytest.skip(
            "ComfyUI-Distributed not found: set COMFYUI_DISTRIBUTED_PATH to a checkout of "
            "github.com/robertvoy/ComfyUI-Distributed (or lay it out at /opt/comfyui-distributed)"
        )
    worker_base, master_base = tmp_path_factory.mktemp("worker"), tmp_path_factory.mktemp("master")
    install_distributed(worker_base)
    saved = dict(os.environ)
    os.environ["OMP_NUM_THREADS"] = "1"  # one core each: the two servers draw side by side
    os.environ["COMFYUI_IS_WORKER"] = "1"  # a worker: it launches and manages no workers of its own
    worker = None
    try:
        worker = start_server(comfyui_path(), worker_base)
        del os.environ["COMFYUI_IS_WORKER"]
        port = int(worker.url.rsplit(":", 1)[1])
        settings = {"auto_launch_workers": False, "stop_workers_on_master_exit": False}
        entry = {"id": "1", "name": "worker 1", "host": "127.0.0.1", "port": port, "enabled": True}
        install_distributed(
            master_base, {"master": {"host": "127.0.0.1"}, "workers": [entry], "settings": settings}
        )
        master = start_server(comfyui_path(), master_base)
    except BaseException:
        if worker is not None:
            worker.stop()
        raise
    finally:
        os.environ.clear()
        os.environ.update(saved)
    try:
        yield master, worker
    finally:
        master.stop()
        worker.stop()


def one_participant(prompt: dict, who: str) -> dict:
    """The sweep as a plain prompt for one participant: each Distributed Value replaced by that
    participant's value, the collector taken out (what one ComfyUI without workers draws)."""
    plain = json.loads(json.dumps(prompt))
    values, collectors = {}, {}
    for node_id, node in list(plain.items()):
        inputs = node["inputs"]
        if node["class_type"] == "DistributedValue":
            per_worker = json.loads(inputs["worker_values"])
            values[node_id] = float(inputs["default_value"] if who == "master" else per_worker[who])
            del plain[node_id]
        elif node["class_type"] == "DistributedCollector":
            collectors[node_id] = inputs["images"]
            del plain[node_id]
    for node in plain.values():
        for name, value in list(node["inputs"].items()):
            if isinstance(value, list) and value[0] in values:
                node["inputs"][name] = values[value[0]]
            elif isinstance(value, list) and value[0] in collectors:
                node["inputs"][name] = collectors[value[0]]
    return plain


def pixels(files: list[Path]) -> list:
    import numpy as np
    from PIL import Image

    return [np.asarray(Image.open(f).convert("RGB")) for f in files]


def run(server, prompt: dict, path: str = "/prompt", **extra) -> list:
    status, reply = server.post(
        path, {"prompt": prompt, "client_id": "autoguidance-tests", **extra}, timeout=120
    )
    assert status == 200, json.dumps(reply, indent=1)[:3000]
    entry = wait_for(server, reply["prompt_id"], timeout=1200)
    assert entry["status"]["status_str"] == "success", json.dumps(entry["status"], indent=1)[:3000]
    saved = [f for f in output_images(server, entry) if f.relative_to(server.base).parts[0] == "output"]
    return pixels(saved)  # what Save Image wrote (previews go to temp)


def test_sweep_on_a_master_and_a_worker_equals_the_sweep_in_one_comfyui(servers):
    import numpy as np

    master, worker = servers
    object_info = master.get("/object_info", timeout=120)
    prompt = to_api_prompt(load_workflow(WORKFLOW), object_info)
    distributed = run(master, prompt, "/distributed/queue", enabled_worker_ids=["1"], delegate_master=False)
    rows = [run(master, one_participant(prompt, who)) for who in ("master", "1")]
    single = rows[0] + rows[1]  # the collector's order: the master's pictures, then worker 1's
    assert len(rows[0]) == len(rows[1]) == 12  # 3 columns of 4 digits per participant
    assert len(distributed) == len(single)
    different = [
        i for i, (a, b) in enumerate(zip(distributed, single, strict=True)) if not np.array_equal(a, b)
    ]
    assert not different, f"pictures {different} differ from the single-process sweep"
    assert not all(np.array_equal(a, b) for a, b in zip(rows[0], rows[1], strict=True))  # two α rows
    history = worker.get("/history")  # the worker drew its row: one prompt, run to the end
    assert [h["status"]["status_str"] for h in history.values()] == ["success"]
