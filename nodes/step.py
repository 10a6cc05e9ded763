"""One guided denoising step inside ComfyUI: CFG term, autoguidance term, post-CFG hooks.

    D = D1(c) + (w_cfg − 1)·(D1(c) − D1(∅)) + (w_ag − 1)·(D1(c) − D0(c))

D1(c)/D1(∅) are the main model's conditional/unconditional predictions, D0(c) the guide's.
A ``sampler_cfg_function`` (the CFG-rescale family) replaces the CFG term as in ComfyUI's
``cfg_function``; ``sampler_post_cfg_function`` hooks then see the full result.
"""

from __future__ import annotations

from typing import Any

import torch

from ..guidance import combine, guidance_term


def _cfg_term(x, cond_pred, uncond_pred, w_cfg, sigma, model, options, cond, uncond) -> torch.Tensor:
    """ComfyUI's ``sampler_cfg_function`` result, i.e. its replacement of D1(∅) + w_cfg·(D1(c) − D1(∅))."""
    args = {"cond": x - cond_pred, "uncond": x - uncond_pred, "cond_scale": w_cfg, "timestep": sigma,
            "input": x, "sigma": sigma, "cond_denoised": cond_pred, "uncond_denoised": uncond_pred,
            "model": model, "model_options": options, "input_cond": cond, "input_uncond": uncond}
    return x - options["sampler_cfg_function"](args)


def finish_step(
    model: Any, x: torch.Tensor, sigma: torch.Tensor, cond_pred: torch.Tensor, uncond_pred: torch.Tensor,
    guide_pred: torch.Tensor | None, w_cfg: torch.Tensor, w_ag: torch.Tensor, options: dict,
    cond: Any = None, uncond: Any = None,
) -> torch.Tensor:
    """Combine the predictions of one step and run the main model's post-CFG hooks.

    ``uncond`` is the unconditional cond list or None when that pass was skipped (then
    ``uncond_pred`` is what ComfyUI's ``calc_cond_batch`` returns for a skipped list).
    """
    uses_cfg = uncond is not None
    if uses_cfg and "sampler_cfg_function" in options:
        result = _cfg_term(x, cond_pred, uncond_pred, float(w_cfg[0]), sigma, model, options, cond, uncond)
        if guide_pred is not None:
            result = result + guidance_term(cond_pred.float(), guide_pred.float(), w_ag).to(result.dtype)
    else:
        terms = [(uncond_pred, w_cfg)] if uses_cfg else []
        terms += [(guide_pred, w_ag)] if guide_pred is not None else []
        result = combine(cond_pred, terms)
    cond_scale = float(w_cfg[0]) if uses_cfg else 1.0
    for fn in options.get("sampler_post_cfg_function", []):
        result = fn({"denoised": result, "cond": cond, "uncond": uncond, "cond_scale": cond_scale, "model": model,
                     "uncond_denoised": uncond_pred, "cond_denoised": cond_pred, "sigma": sigma,
                     "model_options": options, "input": x})
    return result
