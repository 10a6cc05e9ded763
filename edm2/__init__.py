"""EDM2 networks in pure PyTorch (never imports ComfyUI)."""
