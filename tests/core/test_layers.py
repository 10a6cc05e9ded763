"""The layers import one way: nodes → edm2 → guidance (demos beside nodes); ComfyUI only in nodes/_api.py.

Read from the source with ``ast`` (nothing is imported), so it holds whatever is installed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Which of our packages each package may import (itself included).
ALLOWED = {
    "guidance": {"guidance"},
    "edm2": {"edm2", "guidance"},
    "demos": {"demos", "edm2", "guidance"},
    "nodes": {"nodes", "edm2", "guidance"},
}
COMFYUI = {"comfy", "comfy_api", "comfy_extras", "comfy_execution", "comfyui_version", "execution"}
COMFYUI |= {"folder_paths", "latent_preview", "node_helpers", "nodes", "server"}
COMFYUI_GATE = "nodes/_api.py"


def imports(path: Path, package: str) -> tuple[set[str], set[str]]:
    """(our packages imported, top-level absolute modules imported) by one module of ``package``."""
    ours, absolute = set(), set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:  # relative: resolve against the package
            target = (node.module or "").split(".")[0] if node.level == 2 else package
            if node.level == 2 and not node.module:  # "from .. import x": x are our packages
                ours.update(alias.name for alias in node.names)
            else:
                ours.add(target)
        elif isinstance(node, ast.ImportFrom):
            absolute.add((node.module or "").split(".")[0])
            if node.module and node.module.startswith("comfyui_autoguidance."):
                ours.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            absolute.update(alias.name.split(".")[0] for alias in node.names)
    return ours, absolute


def modules() -> list[tuple[str, Path]]:
    return [(package, p) for package in ALLOWED for p in sorted((ROOT / package).rglob("*.py"))]


@pytest.mark.parametrize(
    ("package", "path"), modules(), ids=lambda v: str(v) if isinstance(v, str) else v.name
)
def test_imports_go_one_way_and_comfyui_only_through_api(package, path):
    ours, absolute = imports(path, package)
    rel = path.relative_to(ROOT).as_posix()
    assert ours <= ALLOWED[package], f"{rel} imports {sorted(ours - ALLOWED[package])}: layers go {ALLOWED}"
    if rel != COMFYUI_GATE:
        assert not absolute & COMFYUI, (
            f"{rel} imports ComfyUI ({sorted(absolute & COMFYUI)}): use {COMFYUI_GATE}"
        )


def test_the_reader_resolves_relative_imports(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "from ..edm2 import sample\nfrom . import labels\nfrom .. import guidance\nimport comfy.samplers\n"
    )
    assert imports(module, "nodes") == ({"edm2", "nodes", "guidance"}, {"comfy"})
