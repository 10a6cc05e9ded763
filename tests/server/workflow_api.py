"""UI-format workflows (as the front end saves them) checked against, and converted with, a
real server's ``/object_info``: the same mapping the front end does when it queues a graph."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
WORKFLOW_DIR = REPO / "workflows"
FRONTEND_ONLY = {"Note", "MarkdownNote", "Reroute", "PrimitiveNode"}
SEED_CONTROLS = {"fixed", "increment", "decrement", "randomize"}
WIDGET_TYPES = {"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"}


def load_workflow(name: str) -> dict[str, Any]:
    return json.loads((WORKFLOW_DIR / name).read_text())


def ordered_inputs(info: dict[str, Any]) -> list[tuple[str, list[Any]]]:
    """(name, spec) of a node's inputs in declaration order: required, then optional."""
    order = info.get("input_order", {})
    out = []
    for group in ("required", "optional"):
        specs = info["input"].get(group, {})
        for name in order.get(group, list(specs)):
            out.append((name, specs[name]))
    return out


def is_widget(spec: list[Any]) -> bool:
    return isinstance(spec[0], list) or spec[0] in WIDGET_TYPES


def combo_options(spec: list[Any]) -> list[Any]:
    return spec[0] if isinstance(spec[0], list) else spec[1].get("options", [])


def widget_values(node: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
    """Map a node's ``widgets_values`` onto its widget inputs (a seed's 'control after generate'
    value is skipped); raises ValueError when the counts do not fit."""
    values = list(node.get("widgets_values", []))
    mapped, i = {}, 0
    for name, spec in ordered_inputs(info):
        if not is_widget(spec):
            continue
        if i >= len(values):
            raise ValueError(f"node {node['id']} ({node['type']}): no value for widget '{name}'")
        mapped[name] = values[i]
        i += 1
        opts = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
        if opts.get("control_after_generate") and i < len(values) and values[i] in SEED_CONTROLS:
            i += 1
    if i != len(values):
        raise ValueError(f"node {node['id']} ({node['type']}): {len(values)} widget values for {i} widgets")
    return mapped


def widget_problem(name: str, value: Any, spec: list[Any]) -> str | None:
    """Why ``value`` is not valid for the input ``spec``, or None."""
    opts = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
    if isinstance(spec[0], list) or spec[0] == "COMBO":
        return None if value in combo_options(spec) else f"'{name}' = {value!r} is not one of its options"
    kind = spec[0]
    if kind == "BOOLEAN":
        return None if isinstance(value, bool) else f"'{name}' = {value!r} is not a boolean"
    if kind == "STRING":
        return None if isinstance(value, str) else f"'{name}' = {value!r} is not a string"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"'{name}' = {value!r} is not a number"
    if kind == "INT" and not float(value).is_integer():
        return f"'{name}' = {value!r} is not an integer"
    if "min" in opts and value < opts["min"]:
        return f"'{name}' = {value} is below its minimum {opts['min']}"
    if "max" in opts and value > opts["max"]:
        return f"'{name}' = {value} is above its maximum {opts['max']}"
    return None


def to_api_prompt(workflow: dict[str, Any], object_info: dict[str, Any]) -> dict[str, Any]:
    """The API prompt ({id: {class_type, inputs}}) that queuing this UI workflow sends."""
    links = {link[0]: link for link in workflow["links"]}
    prompt = {}
    for node in workflow["nodes"]:
        if node["type"] in FRONTEND_ONLY or node.get("mode", 0) in (2, 4):  # notes, muted, bypassed
            continue
        inputs: dict[str, Any] = dict(widget_values(node, object_info[node["type"]]))
        for socket in node.get("inputs", []):
            if socket.get("link") is not None:
                _, src, slot, *_ = links[socket["link"]]
                inputs[socket["name"]] = [str(src), slot]
        prompt[str(node["id"])] = {"class_type": node["type"], "inputs": inputs}
    return prompt


def wait_for(server, prompt_id: str, timeout: float = 300.0) -> dict[str, Any]:
    """The history entry of a finished prompt (raises on timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        history = server.get(f"/history/{prompt_id}")
        if prompt_id in history and history[prompt_id].get("status", {}).get("completed") is not None:
            entry = history[prompt_id]
            if entry["status"].get("status_str") in ("success", "error"):
                return entry
        time.sleep(0.2)
    raise TimeoutError(f"prompt {prompt_id} did not finish in {timeout} s; log:\n{server.log()[-3000:]}")


def output_images(server, entry: dict[str, Any], kinds: tuple[str, ...] = ("output",)) -> list[Path]:
    """The image files a finished prompt wrote: saved ones only unless ``kinds`` adds "temp" (previews)."""
    files = []
    for out in entry.get("outputs", {}).values():
        for image in out.get("images", []):
            if image.get("type", "output") not in kinds:
                continue
            files.append(
                server.base / image.get("type", "output") / image.get("subfolder", "") / image["filename"]
            )
    return files
