"""The thin ComfyUI adapter: the only package here that imports ComfyUI (through ``_api``)."""
