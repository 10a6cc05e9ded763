"""The one place that imports ComfyUI's node API, so an API change is a one-line fix."""

from comfy_api.latest import ComfyExtension, io  # noqa: F401
