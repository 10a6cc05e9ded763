"""The gate (nodes/_api.py) is the pack's whole ComfyUI surface, checked against the real ComfyUI.

- No ComfyUI module is reachable through the gate (names are re-exported one at a time).
- Every attribute or method of a ComfyUI object that a module outside the gate reads is listed in
  ``HOST_ATTRIBUTES``; and every listed one exists in this ComfyUI, so the list stays true.

Host names are what ComfyUI's classes define (``dir`` and ``self.X =`` in their source), less the
names every torch module, tensor, dict, list, str and path has.
"""

from __future__ import annotations

import ast
import inspect
import pathlib
import textwrap
import types

import pytest
import torch

from ..conftest import REPO
from .comfy_env import import_comfy

pytestmark = pytest.mark.comfyui
COMFYUI_TOP = {"comfy", "comfy_api", "comfy_extras", "comfy_execution", "folder_paths", "server", "nodes"}
GATE = REPO / "nodes" / "_api.py"


def host_classes() -> list[type]:
    """ComfyUI classes whose instances the pack's modules hold: patchers, models, guiders, VAEs, …"""
    import comfy.conds
    import comfy.latent_formats
    import comfy.model_base
    import comfy.model_patcher
    import comfy.model_sampling
    import comfy.samplers
    import comfy.sd
    import comfy.supported_models_base

    sampling = [c for c in vars(comfy.model_sampling).values() if inspect.isclass(c)]
    return [
        comfy.model_patcher.ModelPatcher,
        comfy.model_base.BaseModel,
        comfy.samplers.CFGGuider,
        comfy.latent_formats.LatentFormat,
        comfy.supported_models_base.BASE,
        comfy.sd.VAE,
        comfy.sd.CLIP,
        comfy.conds.CONDRegular,
        *sampling,
    ]


def host_names() -> set[str]:
    generic: set[str] = set()
    for kind in (torch.Tensor, torch.nn.Module, object, dict, list, str, pathlib.Path, type):
        generic |= set(dir(kind))
    names: set[str] = set()
    for cls in host_classes():
        names |= set(dir(cls))
        names |= instance_attributes(cls)
    return names - generic


def instance_attributes(cls: type) -> set[str]:
    """``X`` of every ``self.X = …`` (tuple targets too) in the class's own source."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError):
        return set()
    targets = [
        t
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign | ast.AnnAssign | ast.AugAssign)
        for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
    ]
    flat = [e for t in targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
    return {
        t.attr
        for t in flat
        if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"
    }


def our_modules_in(tree: ast.Module) -> set[str]:
    """Names a module binds to our own modules (``from .. import _api``, ``from ... import edm2``)."""
    return {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level
        for alias in node.names
    }


def host_reads() -> dict[str, list[str]]:
    """Host attribute names read outside the gate → where (``path:line``)."""
    host, reads = host_names(), {}
    for path in sorted((REPO / "nodes").rglob("*.py")):
        if path == GATE:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        ours = our_modules_in(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute) or node.attr not in host:
                continue
            if isinstance(node.value, ast.Name) and node.value.id in ours:
                continue  # a name of one of our modules (edm2.load, _api.calc_cond_batch)
            reads.setdefault(node.attr, []).append(f"{path.relative_to(REPO)}:{node.lineno}")
    return reads


@pytest.fixture(scope="module")
def gate():
    import_comfy()
    from comfyui_autoguidance.nodes import _api

    return _api


def test_no_comfyui_module_is_reachable_through_the_gate(gate):
    """Only ``io``, the V3 node API's public namespace (``io.ComfyNode``, ``io.Float``, …), is a module."""
    modules = {
        name
        for name, value in vars(gate).items()
        if isinstance(value, types.ModuleType)
        and value.__name__.split(".")[0] in COMFYUI_TOP
        and not name.startswith("_")
    }
    assert modules == {"io"}, modules


def test_every_host_attribute_read_outside_the_gate_is_named_in_it(gate):
    unnamed = {name: where for name, where in host_reads().items() if name not in gate.HOST_ATTRIBUTES}
    assert not unnamed, (
        f"name these in nodes/_api.py HOST_ATTRIBUTES (or go through a gate function): {unnamed}"
    )


def test_every_named_host_attribute_exists_in_this_comfyui(gate):
    host = host_names()
    assert not set(gate.HOST_ATTRIBUTES) - host, sorted(set(gate.HOST_ATTRIBUTES) - host)


def test_the_reader_sees_a_host_read_and_skips_our_modules(tmp_path):
    module = ast.parse("from .. import _api\nx = patcher.model_size()\ny = _api.calc_cond_batch\n")
    ours = our_modules_in(module)
    attrs = [n for n in ast.walk(module) if isinstance(n, ast.Attribute)]
    assert ours == {"_api"}
    assert [a.attr for a in attrs if not (isinstance(a.value, ast.Name) and a.value.id in ours)] == [
        "model_size"
    ]
