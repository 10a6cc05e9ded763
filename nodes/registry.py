"""Every node class of the pack, in menu order."""

from __future__ import annotations

NODE_CLASSES: tuple = ()
