"""Runnable demonstrations of autoguidance (pure PyTorch; Pillow draws the figures)."""
