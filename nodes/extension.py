"""The pack's ``ComfyExtension``: lists every node class it registers."""

from __future__ import annotations

from ._api import ComfyExtension, io


class AutoguidanceExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        from .registry import NODE_CLASSES

        return list(NODE_CLASSES)
