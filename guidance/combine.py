"""Guidance combination of denoised predictions (Karras et al. 2024, eq. 2).

Autoguidance: ``D_w(x; σ, c) = w·D1(x; σ, c) + (1 − w)·D0(x; σ, c)``, where D1 is the main
model (edm2's ``net``) and D0 the guide (edm2's ``gnet``). With several guiding terms the
general form is

    D = D1 + Σ_k (w_k − 1)·(D1 − D0_k)

which covers autoguidance (D0 = a weaker *conditional* model), CFG (D0 = the unconditional
main model) and their hybrid (one term of each).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

_HALF = (torch.float16, torch.bfloat16)


def _per_sample(w: Tensor | float, ref: Tensor) -> Tensor:
    """w in ``ref``'s dtype, shape [] or [B, 1, 1, ...], broadcasting against ``ref`` [B, ...]."""
    w = torch.as_tensor(w, device=ref.device).to(ref.dtype)
    if w.ndim == 0:
        return w
    if w.ndim != 1 or w.shape[0] != ref.shape[0]:
        raise ValueError(
            f"combine: weights must be a scalar or one per sample (got shape {tuple(w.shape)} "
            f"for a batch of {ref.shape[0]}); pass a float or a tensor of shape [B]"
        )
    return w.reshape(-1, *([1] * (ref.ndim - 1)))


def combine(d1: Tensor, terms: Sequence[tuple[Tensor, Tensor | float]]) -> Tensor:
    """``D1 + Σ_k (w_k − 1)·(D1 − D0_k)`` for ``terms = [(D0_k, w_k), ...]``.

    ``d1`` and every ``D0_k`` have the same shape [B, ...]; ``w_k`` is a float or a
    per-sample tensor [B]. Half-precision inputs are combined in float32 and cast back.
    A term whose weight is exactly 1 everywhere is skipped, so all-ones weights return
    ``d1`` itself, bit for bit.
    """
    active = [(d0, w) for d0, w in terms if not _is_one(w)]
    if not active:
        return d1
    acc_dtype = torch.float32 if d1.dtype in _HALF else d1.dtype
    main = d1.to(acc_dtype)
    for d0, _ in active:
        if d0.shape != d1.shape:
            raise ValueError(
                f"combine: guide prediction shape {tuple(d0.shape)} differs from the main "
                f"prediction {tuple(d1.shape)}; both models must see the same input"
            )
    if len(active) == 1:  # w·D1 + (1 − w)·D0 as D0.lerp(D1, w): the official EDM2 arithmetic
        d0, w = active[0]
        return d0.to(acc_dtype).lerp(main, _per_sample(w, main)).to(d1.dtype)
    out = main.clone()
    for d0, w in active:
        out = out + guidance_term(main, d0.to(acc_dtype), w)
    return out.to(d1.dtype)


def guidance_term(d1: Tensor, d0: Tensor, w: Tensor | float) -> Tensor:
    """One guiding term ``(w − 1)·(D1 − D0)`` in d1's dtype; ``w`` a float or per-sample [B]."""
    return (_per_sample(w, d1) - 1.0) * (d1 - d0)


def _is_one(w: Tensor | float) -> bool:
    """True when every weight equals exactly 1 (the term then contributes nothing)."""
    if isinstance(w, Tensor):
        return bool((w == 1).all())
    return float(w) == 1.0
