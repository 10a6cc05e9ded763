"""Shared test setup: the three tiers and how tier 2/3 find a real ComfyUI.

- tests/core: pure PyTorch, ComfyUI must not be imported.
- tests/nodes: real ComfyUI modules in process (marker ``comfyui``).
- tests/server: a live ComfyUI server on 127.0.0.1 (markers ``comfyui`` and ``server``).

ComfyUI is found through ``COMFYUI_PATH`` (else ``/opt/comfyui``); where it is absent
those tiers skip with the reason.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"  # golden data, committed: a clone runs the parity tests


def _load_harness() -> ModuleType:
    """tools/harness.py (shared with the benchmarks), loaded from its file: no sys.path change."""
    spec = importlib.util.spec_from_file_location("autoguidance_harness", REPO / "tools" / "harness.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


harness = sys.modules.get("autoguidance_harness") or _load_harness()
comfyui_path = harness.comfyui_path
comfyui_skip_reason = harness.comfyui_skip_reason


def comfyui_version() -> tuple[int, ...] | None:
    """The version of the ComfyUI under test, from its ``comfyui_version.py`` (None if absent)."""
    path = comfyui_path()
    file = path / "comfyui_version.py" if path else None
    if file is None or not file.is_file():
        return None
    for line in file.read_text().splitlines():
        if line.startswith("__version__"):
            return tuple(int(p) for p in line.split("=", 1)[1].strip().strip("\"'").split("."))
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = comfyui_skip_reason()
    if reason is None:
        return
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if "comfyui" in item.keywords:
            item.add_marker(skip)
