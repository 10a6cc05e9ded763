"""Every Templates-browser card: a square thumbnail made by tools/make_thumbnails.py from the committed
workflow (its JPEG comment names the kind and the workflow file's SHA-256). A workflow whose models ship
with the pack shows its output ("run"); the rest show a labelled crop of their graph ("graph"), since
their models cannot be had here. tests/server/test_workflows.py runs the digits workflow again and
compares its output with the card."""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest

from .node_js import REPO

WORKFLOWS = sorted((REPO / "workflows").glob("*.json"))
BUNDLED_MODELS = (
    "digits-main.safetensors",
    "digits-guide.safetensors",
    "digits-bold.safetensors",
)  # LoRA: edm2/loras


def make_thumbnails():
    """tools/make_thumbnails.py, loaded by path (the repository root never goes on sys.path)."""
    spec = importlib.util.spec_from_file_location("_make_thumbnails", REPO / "tools" / "make_thumbnails.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def needs_only_bundled_models(path) -> bool:
    """Whether every model file the workflow names ships with the pack."""
    values = [
        v for n in json.loads(path.read_text())["nodes"] if n["type"] != "Note" for v in n["widgets_values"]
    ]
    files = {v for v in values if isinstance(v, str) and v.endswith((".safetensors", ".pkl", ".ckpt"))}
    return files <= set(BUNDLED_MODELS)


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.stem)
def test_each_card_is_made_from_its_committed_workflow(path):
    from PIL import Image

    thumbs = make_thumbnails()
    jpg = path.with_suffix(".jpg")
    assert jpg.is_file(), f"{jpg.name} is missing: run tools/make_thumbnails.py"
    assert Image.open(jpg).size == (thumbs.SIZE, thumbs.SIZE)  # the card's square: nothing cropped
    mark = thumbs.mark_of(jpg)
    assert mark.get("workflow-sha256") == thumbs.digest(path), (
        f"{jpg.name} is stale: run tools/make_thumbnails.py"
    )
    assert mark["kind"] == ("run" if needs_only_bundled_models(path) else "graph"), mark


def test_the_first_workflows_to_try_show_their_output():
    kinds = {p.stem: make_thumbnails().mark_of(p.with_suffix(".jpg")).get("kind") for p in WORKFLOWS}
    for name in ("autoguidance-digits", "autoguidance-schedule-showcase", "autoguidance-pair-inspector"):
        assert kinds[name] == "run", kinds
