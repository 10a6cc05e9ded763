"""What a guide does at one noise level: D1 − D0, D_w and the RMS ratio r(σ) (maths only).

Autoguidance (Karras et al. 2024, eq. 2) guides the main model D1 (edm2's ``net``) with a
weaker guide D0 (edm2's ``gnet``): D_w = w·D1 + (1 − w)·D0 = D1 + (w − 1)·(D1 − D0), so the
guide acts only through D1 − D0. Its relative size at each σ,

    r(σ) = RMS(D1 − D0) / RMS(D1),    RMS(v) = √(mean over pixels and channels of v²)

says at which noise levels the two models disagree, i.e. where guidance can act at all; with
CFG the same ratio of D1(c) − D1(∅) to D1(c) is the paper's "conditional − unconditional".
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from .combine import combine


def rms(v: Tensor) -> Tensor:
    """RMS(v) per sample: √(mean of v² over every dimension but the first), in float32. [B]"""
    return v.float().pow(2).flatten(1).mean(dim=1).sqrt()


@dataclass(frozen=True)
class PairInspection:
    """The predictions of main and guide at N noise levels, one row per σ (sampling order).

    ``x``, ``d1``, ``d0`` (and ``d1_uncond``) are [N, C, H, W] in the model's own space;
    ``w`` is the weight used for D_w at each σ [N].
    """

    sigmas: Tensor  # [N]
    x: Tensor  # x_σ, the noisy input both models saw
    d1: Tensor  # D1(x_σ; σ, c): the main model
    d0: Tensor  # D0(x_σ; σ, c): the guide
    w: Tensor  # [N]
    d1_uncond: Tensor | None = None  # D1(x_σ; σ, ∅): the main model on the negative, for CFG

    @property
    def difference(self) -> Tensor:
        """D1 − D0, what autoguidance amplifies by (w − 1)."""
        return self.d1 - self.d0

    @property
    def guided(self) -> Tensor:
        """D_w = D1 + (w − 1)(D1 − D0) at each row's own w."""
        return combine(self.d1, [(self.d0, self.w.to(self.d1.device))])

    @property
    def cfg_difference(self) -> Tensor | None:
        """D1(c) − D1(∅), what CFG amplifies (None without a negative)."""
        return None if self.d1_uncond is None else self.d1 - self.d1_uncond

    @property
    def ratios(self) -> Tensor:
        """r = RMS(D1 − D0) / RMS(D1) per σ [N]; D1 = 0 gives inf (or nan when D0 = 0 too)."""
        return rms(self.d1.float() - self.d0.float()) / rms(self.d1)

    @property
    def cfg_ratios(self) -> Tensor | None:
        """RMS(D1(c) − D1(∅)) / RMS(D1(c)) per σ [N] (None without a negative)."""
        return (
            None if self.d1_uncond is None else rms(self.d1.float() - self.d1_uncond.float()) / rms(self.d1)
        )
