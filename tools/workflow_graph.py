"""UI-format workflow graphs whose sockets and widget order come from ComfyUI's own node schemas.

A node is added with its widgets *by name*; the order of ``widgets_values`` and of the socket
slots is read from the node's schema (what ``GET /object_info`` serves), so a schema change
shows up as a changed file instead of a silently shifted widget list.

``object_info()`` builds that schema table in process through a real ComfyUI: its built-in
nodes (``nodes.py`` and ``comfy_extras``) and this pack's node list.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from dataclasses import dataclass, field
from typing import Any

WIDGET_TYPES = {"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"}
# The front end adds this widget after an INT input that asks for it (seeds); "fixed" keeps the
# example reproducible.
CONTROL = "control_after_generate"
# Front-end-only nodes, which no /object_info lists.
FRONT_END_NODES: dict[str, dict[str, Any]] = {
    "Note": {
        "input": {"required": {"text": ["STRING", {"multiline": True}]}},
        "input_order": {"required": ["text"]},
        "output": [],
        "output_name": [],
    },
}


def object_info() -> dict[str, dict[str, Any]]:
    """``GET /object_info`` of the ComfyUI on ``sys.path`` plus this pack, computed in process."""
    import nodes  # ComfyUI's top-level nodes.py (harness.import_comfy put it on sys.path)
    from comfyui_autoguidance.nodes.extension import NODE_CLASSES

    _run(nodes.init_builtin_extra_nodes())
    classes = dict(nodes.NODE_CLASS_MAPPINGS)
    classes.update({cls.define_schema().node_id: cls for cls in NODE_CLASSES})
    return {name: _node_info(cls) for name, cls in classes.items()} | FRONT_END_NODES


def _run(coroutine: Any) -> Any:
    """``asyncio.run``, also where this thread already runs an event loop (a test process that drove
    a browser through Playwright's sync API before): then on a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _node_info(cls: Any) -> dict[str, Any]:
    """What the server's ``node_info`` returns for ``cls``: V3 nodes describe themselves."""
    if hasattr(cls, "GET_NODE_INFO_V1"):
        return cls.GET_NODE_INFO_V1()
    inputs = cls.INPUT_TYPES()
    return {
        "input": inputs,
        "input_order": {group: list(specs) for group, specs in inputs.items()},
        "output": list(cls.RETURN_TYPES),
        "output_name": list(getattr(cls, "RETURN_NAMES", cls.RETURN_TYPES)),
    }


@dataclass(frozen=True)
class Schema:
    """The parts of a node's info that shape its UI-format entry."""

    sockets: list[tuple[str, str]]  # input sockets (name, type), slot order
    widgets: list[tuple[str, Any]]  # (name, default or ...) in widgets_values order, controls included
    outputs: list[tuple[str, str]]  # (name, type)
    multiline: list[bool]  # per widget: a multi-line text box

    @classmethod
    def from_info(cls, info: dict[str, Any]) -> Schema:
        sockets, widgets, multiline = [], [], []
        for group in ("required", "optional"):
            specs = info["input"].get(group, {})
            for name in info.get("input_order", {}).get(group, list(specs)):
                kind, options = _kind(specs[name]), (specs[name][1] if len(specs[name]) > 1 else {})
                if kind in WIDGET_TYPES and not options.get("forceInput"):
                    widgets.append((name, options.get("default", ...)))
                    multiline.append(bool(options.get("multiline")))
                    if options.get(CONTROL):
                        widgets.append((CONTROL, "fixed"))
                        multiline.append(False)
                else:
                    sockets.append((name, kind))
        outputs = [(str(n), str(k)) for n, k in zip(info["output_name"], info["output"], strict=True)]
        return cls(sockets, widgets, outputs, multiline)

    def widget_values(self, node_type: str, given: dict[str, Any]) -> list[Any]:
        """``given`` (by name) in schema order; defaults fill the rest; unknown names are an error."""
        known = [name for name, _ in self.widgets]
        if unknown := sorted(set(given) - set(known)):
            raise ValueError(f"{node_type}: no widget named {unknown}; its widgets are {known}")
        values = [given.get(name, default) for name, default in self.widgets]
        if missing := [name for (name, _), v in zip(self.widgets, values, strict=True) if v is ...]:
            raise ValueError(f"{node_type}: widgets {missing} have no default; give them by name")
        return values


def _kind(spec: list[Any]) -> str:
    """An input's type: a list of options (the V1 combo) is a COMBO."""
    return "COMBO" if isinstance(spec[0], list) else str(spec[0])


@dataclass
class Node:
    id: int
    type: str
    schema: Schema
    pos: tuple[int, int]
    widgets: list[Any]
    title: str | None = None
    size: tuple[int, int] = (300, 110)
    links_in: dict[str, int] = field(default_factory=dict)  # input name -> link id
    links_out: dict[int, list[int]] = field(default_factory=dict)  # output slot -> link ids

    def to_json(self, order: int) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "pos": list(self.pos),
            "size": list(self.size),
            "flags": {},
            "order": order,
            "mode": 0,
            "inputs": [
                {"name": name, "type": kind, "link": self.links_in.get(name)}
                for name, kind in self.schema.sockets
            ],
            "outputs": [
                {"name": name, "type": kind, "links": self.links_out.get(i, []), "slot_index": i}
                for i, (name, kind) in enumerate(self.schema.outputs)
            ],
            "properties": {"Node name for S&R": self.type},
            "widgets_values": self.widgets,
        }
        if self.title:
            entry["title"] = self.title
        if self.type == "Note":
            entry["color"], entry["bgcolor"] = "#432", "#653"
        return entry


class Graph:
    """A LiteGraph graph as ComfyUI's front end saves it (``version`` 0.4)."""

    def __init__(self, info: dict[str, dict[str, Any]]) -> None:
        self.info = info
        self.nodes: list[Node] = []
        self.links: list[list[Any]] = []
        self.view: dict[str, Any] = {"scale": 0.8, "offset": [0, 0]}  # extra.ds: the saved view

    def add(
        self,
        type_: str,
        pos: tuple[int, int],
        /,
        title: str | None = None,
        box: tuple[int, int] = (300, 110),
        **widgets: Any,
    ) -> Node:
        """A node of ``type_`` at ``pos`` (``box`` = its size on the canvas), widgets given by name.

        Widgets not given take their schema default; one without a default must be given.
        """
        if type_ not in self.info:
            raise ValueError(f"{type_}: not a node type of this ComfyUI (is its extension loaded?)")
        schema = Schema.from_info(self.info[type_])
        node = Node(len(self.nodes) + 1, type_, schema, pos, schema.widget_values(type_, widgets), title, box)
        self.nodes.append(node)
        return node

    def link(self, src: Node, output: str | int, dst: Node, input_name: str) -> None:
        """Connect ``src``'s output (by name or slot) to ``dst``'s input socket ``input_name``."""
        names = [name for name, _ in src.schema.outputs]
        slot = output if isinstance(output, int) else names.index(output)
        inputs = [name for name, _ in dst.schema.sockets]
        if input_name not in inputs:
            raise ValueError(f"{dst.type}: no input socket {input_name!r}; its sockets are {inputs}")
        link_id = len(self.links) + 1
        self.links.append(
            [link_id, src.id, slot, dst.id, inputs.index(input_name), src.schema.outputs[slot][1]]
        )
        dst.links_in[input_name] = link_id
        src.links_out.setdefault(slot, []).append(link_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "last_node_id": len(self.nodes),
            "last_link_id": len(self.links),
            "nodes": [node.to_json(order) for order, node in enumerate(self.nodes)],
            "links": self.links,
            "groups": [],
            "config": {},
            "extra": {"ds": self.view},
            "version": 0.4,
        }
