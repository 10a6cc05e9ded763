"""Research scripts behind the README's figures and tables; not installed with the pack.

Run them from the root of a checkout (with the pack installed: ``pip install -e ".[research]"``):

    python -m research.toy2d            # the paper's 2-D toy study
    python -m research.train_digits     # retrain the bundled digits trio and classifier
    python -m research.digits_sweep     # the w sweep (reproduction table)

They import the pack as ``comfyui_autoguidance`` and never ComfyUI or the pack's ``nodes``.
"""
