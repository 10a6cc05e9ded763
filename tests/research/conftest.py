"""The research scripts (``research/``, not installed) as the package ``research``.

Only that folder is registered: the repository root never goes on ``sys.path``, so the pack's
``nodes/`` cannot shadow ComfyUI's top-level ``nodes``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

RESEARCH = Path(__file__).resolve().parents[2] / "research"

if "research" not in sys.modules:
    _spec = importlib.util.spec_from_file_location(
        "research", RESEARCH / "__init__.py", submodule_search_locations=[str(RESEARCH)]
    )
    assert _spec is not None and _spec.loader is not None
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["research"] = _module
    _spec.loader.exec_module(_module)
