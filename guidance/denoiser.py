"""A guided denoiser built from a main denoiser and one or more guides (eq. 2).

A *denoiser* is a plain callable ``d(x, sigma, **kwargs) -> denoised`` with ``x`` [B, ...]
and ``sigma`` a per-sample tensor [B] (k-diffusion's convention). :func:`guided_denoiser`
wraps the main model D1 and guides D0_k into

    D(x; σ) = D1(x; σ) + Σ_k (w_k(σ) − 1)·(D1(x; σ) − D0_k(x; σ)),

calling a guide only when its weight differs from exactly 1 for some sample (samplers call a
denoiser with one σ for the whole batch, so a guide runs on all of it or not at all).
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


def guided_denoiser(
    main: Denoiser,
    guides: Denoiser | Sequence[Denoiser],
    schedule_or_weights: WeightSpec | Sequence[WeightSpec],
) -> Callable[..., Tensor]:
    """Wrap D1 (``main``, edm2's ``net``) and guides D0_k (edm2's ``gnet``) into D_w.

    ``schedule_or_weights`` is one weight spec (float, schedule or schedule dict) for all
    guides, or one per guide. Where w_k(σ) == 1 for the whole batch, guide k is not called;
    a sample whose own w_k is 1 keeps D1 for that term ((w − 1)·(D1 − D0) = 0).
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
            if bool((w != 1).any()):
                terms.append((guide(x, s, **kwargs), w))
        return combine(d1, terms)

    return denoise
