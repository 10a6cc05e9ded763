"""A real ComfyUI server on 127.0.0.1 with this pack linked into its custom_nodes (tier 3).

The server gets a throw-away ``--base-directory`` (models, custom_nodes, input, output,
user), runs in its own process group and is stopped with that group.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACK_FOLDER = "comfyui-autoguidance"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    base: Path
    log_path: Path
    process: subprocess.Popen

    def get(self, path: str, timeout: float = 30.0):
        with urllib.request.urlopen(self.url + path, timeout=timeout) as r:  # noqa: S310 (loopback only)
            return json.loads(r.read())

    def post(self, path: str, payload: dict, timeout: float = 30.0):
        req = urllib.request.Request(  # noqa: S310 (loopback only)
            self.url + path, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:  # noqa: S310 (loopback only)
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)


def start_server(comfy_path: Path, base: Path, startup_timeout: float = 180.0) -> Server:
    """Start ComfyUI with the pack under ``base/custom_nodes`` and wait for /object_info."""
    (base / "custom_nodes").mkdir(parents=True, exist_ok=True)
    link = base / "custom_nodes" / PACK_FOLDER
    if not link.exists():
        link.symlink_to(REPO, target_is_directory=True)
    for sub in ("models", "input", "output", "temp", "user"):
        (base / sub).mkdir(exist_ok=True)
    port = free_port()
    log_path = base / "server.log"
    cmd = [
        sys.executable,
        "main.py",
        "--cpu",
        "--listen",
        "127.0.0.1",
        "--port",
        str(port),
        "--base-directory",
        str(base),
        "--disable-auto-launch",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=comfy_path, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    server = Server(f"http://127.0.0.1:{port}", base, log_path, proc)
    deadline = time.monotonic() + startup_timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"ComfyUI exited during start-up (code {proc.returncode}):\n{server.log()[-4000:]}"
            )
        try:
            server.get("/object_info/KSampler", timeout=5)
            return server
        except OSError:
            time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"ComfyUI did not answer within {startup_timeout:.0f} s:\n{server.log()[-4000:]}")


NOT_EDM2 = "not-an-edm2-model.safetensors"
LATENT_EDM2 = "tiny-latent-edm2.safetensors"


def seed_models(base: Path) -> None:
    """Files the bad-input tests point nodes at, put in place before the server lists its models:
    a safetensors that is not EDM2, and a tiny 4-channel latent EDM2 (no pair with the 1-channel digits)."""
    import runpy

    import torch
    from safetensors.torch import save_file

    from comfyui_autoguidance.edm2 import EDM2, save

    folder = base / "models" / "edm2"
    folder.mkdir(parents=True, exist_ok=True)
    save_file({"model.diffusion_model.input_blocks.0.0.weight": torch.zeros(4, 4)}, str(folder / NOT_EDM2))
    tiny_edm2 = runpy.run_path(str(REPO / "tools" / "harness.py"))["tiny_edm2"]  # by path, as tools load this
    torch.manual_seed(0)
    save(EDM2(**tiny_edm2(img_resolution=16, attn_resolutions=[8])), folder / LATENT_EDM2)


def seeded_server(comfy_path: Path, base: Path):
    """A session fixture's body: a server over ``base`` with the seeded models, stopped afterwards."""
    seed_models(base)
    server = start_server(comfy_path, base)
    try:
        yield server
    finally:
        server.stop()
