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
    """(our top-level packages imported, top-level absolute modules imported) by one module of
    ``package`` (dotted, e.g. ``nodes.edm2``): a relative import of level L climbs L − 1 packages."""
    ours, absolute = set(), set()
    parts = package.split(".")
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:  # relative: resolve against the package
            base = parts[: len(parts) - (node.level - 1)]
            if base:
                ours.add(base[0])
            elif node.module:  # climbed to the root package: the module names our package
                ours.add(node.module.split(".")[0])
            else:  # "from <root> import x": x are our packages
                ours.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            absolute.add((node.module or "").split(".")[0])
            if node.module and node.module.startswith("comfyui_autoguidance."):
                ours.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            absolute.update(alias.name.split(".")[0] for alias in node.names)
    return ours, absolute


def modules() -> list[tuple[str, Path]]:
    """(dotted package, path) of every module of the layered packages, subpackages included."""
    return [
        (".".join(p.parent.relative_to(ROOT).parts), p)
        for package in ALLOWED
        for p in sorted((ROOT / package).rglob("*.py"))
    ]


@pytest.mark.parametrize(
    ("package", "path"), modules(), ids=lambda v: str(v) if isinstance(v, str) else v.name
)
def test_imports_go_one_way_and_comfyui_only_through_api(package, path):
    ours, absolute = imports(path, package)
    rel = path.relative_to(ROOT).as_posix()
    allowed = ALLOWED[package.split(".")[0]]
    assert ours <= allowed, f"{rel} imports {sorted(ours - allowed)}: layers go {ALLOWED}"
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
    deeper = tmp_path / "d.py"
    deeper.write_text("from ...edm2 import sample\nfrom .. import _api\nfrom .model import x\n")
    assert imports(deeper, "nodes.edm2") == ({"edm2", "nodes"}, set())
