"""The committed workflows are exactly what tools/build_workflows.py writes from ComfyUI's schemas.

Widget order and socket slots come from the node schemas of the ComfyUI the builder runs
against; a schema change or a hand edit of a JSON file shows up here as a difference.
"""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import REPO, comfyui_path

pytestmark = pytest.mark.comfyui
BUILDER = REPO / "tools" / "build_workflows.py"


def schemas_from() -> str:
    """The ComfyUI version the committed files were written with (the builder's SCHEMAS_FROM)."""
    for line in BUILDER.read_text().splitlines():
        if line.startswith("SCHEMAS_FROM = "):
            return json.loads(line.split("=", 1)[1])
    raise AssertionError("tools/build_workflows.py has no SCHEMAS_FROM line")


def comfyui_version(path: Path) -> str:
    text = (path / "comfyui_version.py").read_text()
    return text.split("__version__ = ", 1)[1].split()[0].strip("\"'")


def test_regenerated_workflows_equal_the_committed_ones(tmp_path):
    path = comfyui_path()
    assert path is not None
    if comfyui_version(path) != schemas_from():
        pytest.skip(f"ComfyUI {comfyui_version(path)} here; the workflows are written from {schemas_from()}")
    env = dict(os.environ, COMFYUI_PATH=str(path))
    command = [sys.executable, str(BUILDER), "--out", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    committed = {p.name: p.read_text() for p in (REPO / "workflows").glob("*.json")}
    built = {p.name: p.read_text() for p in tmp_path.glob("*.json")}
    assert sorted(built) == sorted(committed), "workflows/*.json and the builder's list differ"
    for name, text in built.items():
        diff = "".join(
            difflib.unified_diff(committed[name].splitlines(True), text.splitlines(True), name, "built")
        )
        assert not diff, (
            f"{name} drifted from tools/build_workflows.py (run it to regenerate):\n{diff[:3000]}"
        )
