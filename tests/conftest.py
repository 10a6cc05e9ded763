"""Shared test setup: the three tiers and how tier 2/3 find a real ComfyUI.

- tests/core: pure PyTorch, ComfyUI must not be imported.
- tests/nodes: real ComfyUI modules in process (marker ``comfyui``).
- tests/server: a live ComfyUI server on 127.0.0.1 (markers ``comfyui`` and ``server``).

ComfyUI is found through ``COMFYUI_PATH`` (else ``/opt/comfyui``); where it is absent
those tiers skip with the reason.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"  # golden data, committed: a clone runs the parity tests


def comfyui_path() -> Path | None:
    """The ComfyUI checkout to test against, or None."""
    for candidate in (os.environ.get("COMFYUI_PATH"), "/opt/comfyui"):
        if candidate and (Path(candidate) / "comfy" / "samplers.py").is_file():
            return Path(candidate)
    return None


# Modules ComfyUI imports at start-up, from its requirements.txt (import names).
COMFYUI_DEPENDENCIES = ("aiohttp", "yaml", "scipy", "psutil", "sqlalchemy", "alembic", "torchsde", "torchvision",
                        "transformers", "comfyui_frontend_package")


def comfyui_skip_reason() -> str | None:
    """Why the ComfyUI tiers cannot run with this interpreter, or None when they can."""
    path = comfyui_path()
    if path is None:
        return (
            "no ComfyUI found: set COMFYUI_PATH to a ComfyUI 0.3.64 checkout "
            "(see README: ../shared/tools/comfyui-setup.sh)"
        )
    missing = [m for m in COMFYUI_DEPENDENCIES if importlib.util.find_spec(m) is None]
    if missing:
        return (
            f"ComfyUI at {path} lacks its dependencies in this Python ({', '.join(missing)} missing): "
            f"run PYTHON={sys.executable} ../shared/tools/comfyui-setup.sh --deps-only {path}"
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
