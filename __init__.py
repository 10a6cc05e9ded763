"""comfyui-autoguidance: ComfyUI entry point.

ComfyUI imports this folder as a custom node package. Importing it must stay cheap and must
not import ComfyUI: the nodes are loaded lazily by :func:`comfy_entrypoint` (V3 API).
Never define ``NODE_CLASS_MAPPINGS`` here: ComfyUI would then ignore the V3 entry.
"""

WEB_DIRECTORY = "./web"


async def comfy_entrypoint():
    """Return the pack's ``ComfyExtension`` (imported only when ComfyUI asks for it)."""
    from .nodes.extension import AutoguidanceExtension

    return AutoguidanceExtension()
