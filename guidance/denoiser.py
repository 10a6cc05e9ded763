"""A guided denoiser built from a main denoiser and one or more guides (eq. 2).

A *denoiser* is a plain callable ``d(x, sigma, **kwargs) -> denoised`` with ``x`` [B, ...]
and ``sigma`` a per-sample tensor [B] (k-diffusion's convention). :func:`guided_denoiser`
wraps the main model D1 and guides D0_k into

    D(x; σ) = D1(x; σ) + Σ_k (w_k(σ) − 1)·(D1(x; σ) − D0_k(x; σ)),

evaluating a guide only on the samples whose weight differs from exactly 1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import torch
from torch import Tensor

from .combine import combine
from .schedule_json import as_schedule
from .schedules import Schedule


class Denoiser(Protocol):
    def __call__(self, x: Tensor, sigma: Tensor, **kwargs: Any) -> Tensor: ...


WeightSpec = Schedule | float | Mapping[str, Any]


def per_sample_sigma(sigma: Tensor | float, x: Tensor) -> Tensor:
    """σ broadcast to one value per sample, shape [B], on x's device."""
    s = torch.as_tensor(sigma, device=x.device)
    if not s.is_floating_point():
        s = s.to(torch.float32)
    if s.ndim == 0:
        return s.expand(x.shape[0])
    s = s.reshape(-1)
    if s.shape[0] != x.shape[0]:
        raise ValueError(
            f"guided denoiser: sigma must be a scalar or one value per sample (got {s.shape[0]} values "
            f"for a batch of {x.shape[0]})"
        )
    return s


def _subset(kwargs: Mapping[str, Any], mask: Tensor, batch: int) -> dict[str, Any]:
    """Slice every tensor kwarg whose first dim is the batch (e.g. class labels) by ``mask``."""
    return {
        k: (v[mask] if isinstance(v, Tensor) and v.ndim > 0 and v.shape[0] == batch else v)
        for k, v in kwargs.items()
    }


def evaluate_where(
    guide: Denoiser, need: Tensor, x: Tensor, sigma: Tensor, fill: Tensor, kwargs: Mapping[str, Any]
) -> Tensor:
    """``guide`` on the samples where ``need`` is True; ``fill`` elsewhere; no call if none need it."""
    if bool(need.all()):
        return guide(x, sigma, **kwargs)
    out = fill.clone()
    if bool(need.any()):
        out[need] = guide(x[need], sigma[need], **_subset(kwargs, need, x.shape[0])).to(out.dtype)
    return out


def guided_denoiser(
    main: Denoiser,
    guides: Denoiser | Sequence[Denoiser],
    schedule_or_weights: WeightSpec | Sequence[WeightSpec],
) -> Callable[..., Tensor]:
    """Wrap D1 (``main``, edm2's ``net``) and guides D0_k (edm2's ``gnet``) into D_w.

    ``schedule_or_weights`` is one weight spec (float, schedule or schedule dict) for all
    guides, or one per guide. Where w_k(σ) == 1 for a sample, guide k is not evaluated
    for it; where that holds for the whole batch, guide k is not called at all.
    """
    guide_list = [guides] if callable(guides) else list(guides)
    if isinstance(schedule_or_weights, Sequence) and not isinstance(schedule_or_weights, (str, Mapping)):
        specs = list(schedule_or_weights)
    else:
        specs = [schedule_or_weights] * len(guide_list)
    if len(specs) != len(guide_list):
        raise ValueError(
            f"guided_denoiser: got {len(guide_list)} guides but {len(specs)} weights; give one weight "
            "per guide or a single weight for all"
        )
    schedules = [as_schedule(s) for s in specs]

    def denoise(x: Tensor, sigma: Tensor | float, **kwargs: Any) -> Tensor:
        s = per_sample_sigma(sigma, x)
        d1 = main(x, s, **kwargs)
        terms = []
        for guide, schedule in zip(guide_list, schedules, strict=True):
            w = schedule.weight(s).to(x.device)  # [B]
            need = w != 1
            if bool(need.any()):
                terms.append((evaluate_where(guide, need, x, s, d1, kwargs), w))
        return combine(d1, terms)

    return denoise
