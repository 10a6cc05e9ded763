"""Research scripts behind the bundled models and ``docs/reproduction.md``; not installed with the pack.

Run them from the root of a checkout (with the pack installed: ``pip install -e ".[research]"``):

    python -m research.toy2d            # the paper's 2-D toy study
    python -m research.train_digits     # retrain the bundled digits trio and classifier
    python -m research.digits_sweep     # the w sweep (reproduction table)
    python -m research.train_glyphs     # retrain the glyphs trio (post-hoc EMA), ruler and classifier
    python -m research.glyphs_sweep     # the paper's Table 1 on glyphs, with its ablations
    python -m research.glyphs_metrics   # which generative factors each ruler sees
    python -m research.glyphs_diagnose  # how main and guide err in intensity, per noise level

They import the pack as ``comfyui_autoguidance`` and never ComfyUI or the pack's ``nodes``.
"""
