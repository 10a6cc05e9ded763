"""Shared test setup: the three tiers and how tier 2/3 find a real ComfyUI.

- tests/core: pure PyTorch, ComfyUI must not be imported.
- tests/nodes: real ComfyUI modules in process (marker ``comfyui``).
- tests/server: a live ComfyUI server on 127.0.0.1 (markers ``comfyui`` and ``server``).

ComfyUI is found through ``COMFYUI_PATH`` (else ``/opt/comfyui``); where it is absent
those tiers skip with the reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FIXTURES = SHARED / "fixtures"


def comfyui_path() -> Path | None:
    """The ComfyUI checkout to test against, or None."""
    for candidate in (os.environ.get("COMFYUI_PATH"), "/opt/comfyui"):
        if candidate and (Path(candidate) / "comfy" / "samplers.py").is_file():
            return Path(candidate)
    return None


def comfyui_skip_reason() -> str | None:
    path = comfyui_path()
    if path is None:
        return (
            "no ComfyUI found: set COMFYUI_PATH to a ComfyUI 0.3.64 checkout "
            "(see README: ../shared/tools/comfyui-setup.sh)"
        )
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = comfyui_skip_reason()
    if reason is None:
        return
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if "comfyui" in item.keywords:
            item.add_marker(skip)
