"""Size limits for the pack's code: no module over 300 lines, no function over 50 (STYLE.md).

guidance/, edm2/ and nodes/ only (research scripts, tests and tools are not held to it). Lines
are counted as ``ast`` sees them: a function runs from its first decorator to its last line,
docstring and comments included.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("guidance", "edm2", "nodes")
MAX_FILE_LINES = 300
MAX_FUNCTION_LINES = 50


def _modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def _functions(tree: ast.AST, prefix: str = ""):
    """(qualified name, lines) of every function and method, nested ones included."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            yield f"{prefix}{node.name}", (node.end_lineno or node.lineno) - start + 1
            yield from _functions(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, f"{prefix}{node.name}.")


def _offenders() -> dict[str, int]:
    found = {}
    for path in _modules():
        rel = path.relative_to(ROOT).as_posix()
        source = path.read_text(encoding="utf-8")
        if (lines := len(source.splitlines())) > MAX_FILE_LINES:
            found[rel] = lines
        for name, length in _functions(ast.parse(source, filename=rel)):
            if length > MAX_FUNCTION_LINES:
                found[f"{rel}::{name}"] = length
    return found


def test_no_module_over_300_lines_and_no_function_over_50():
    offenders = _offenders()
    assert not offenders, (
        f"over the limits ({MAX_FILE_LINES} lines a module, {MAX_FUNCTION_LINES} a function): {offenders}; "
        "split the module or the function"
    )


def test_the_counter_sees_methods_and_decorators():
    source = "class A:\n    @staticmethod\n    def f():\n        return 1\n"
    assert dict(_functions(ast.parse(source))) == {"A.f": 3}
