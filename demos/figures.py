"""Pillow for the demos' figures, imported with an install hint (the `demo` extra; ComfyUI ships it)."""

from __future__ import annotations

from types import ModuleType


def pil() -> tuple[ModuleType, ModuleType]:
    """(PIL.Image, PIL.ImageDraw), or an ImportError that says how to install Pillow."""
    try:
        from PIL import Image, ImageDraw
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the demos draw with Pillow: pip install -e '.[demo]' (or pip install pillow)"
        ) from None
    return Image, ImageDraw
