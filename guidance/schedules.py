"""Noise-level dependent guidance weights w(σ).

Each schedule maps a per-sample σ tensor to a per-sample weight tensor and round-trips
through plain JSON types (``to_dict`` / :func:`schedule_from_dict`) so that it can live
inside a workflow file. ``w = 1`` means "no guidance": a guided denoiser does not evaluate
the guide where a schedule gives exactly 1.

Kinds:
- ``constant``: w(σ) = w.
- ``interval``: w(σ) = w (or an inner schedule) for σ ∈ (sigma_lo, sigma_hi], exactly 1 elsewhere
  (Kynkäänniemi et al. 2024, "Applying guidance in a limited interval").
- ``ramp``: from w_start at sigma_start to w_end at sigma_end, linear or cosine in log or
  linear σ, held constant beyond the ends.
- ``knots``: piecewise linear in log σ through (σ_i, w_i), held constant beyond the ends.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, ClassVar, Protocol

import torch
from torch import Tensor

from .precision import WORKING_DTYPE, as_working_float


class Schedule(Protocol):
    """A guidance weight w(σ): ``weight(sigma [B]) -> w [B]`` plus a JSON form.

    Weights are on σ's own device, in float32 (every backend has it; MPS has no float64) or in
    float64 where σ already is, so a schedule never moves σ across devices or makes float64.
    """

    kind: ClassVar[str]

    def weight(self, sigma: Tensor) -> Tensor: ...

    def to_dict(self) -> dict[str, Any]: ...


# ----------------------------------------------------------------------------
# Validation helpers: every message names the field and says what is accepted.


def _finite(where: str, name: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: {name} must be a number (got {value!r})") from None
    if not math.isfinite(v):
        raise ValueError(f"{where}: {name} must be finite (got {value!r}); use a finite number")
    return v


def _sigma(where: str, name: str, value: Any, positive: bool = False) -> float:
    v = _finite(where, name, value)
    if v < 0 or (positive and v == 0):
        accepted = "σ > 0" if positive else "σ ≥ 0"
        raise ValueError(f"{where}: {name} must be a noise level with {accepted} (got {value!r})")
    return v


# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Constant:
    """w(σ) = w for every σ (the paper's default for the autoguidance term)."""

    w: float
    kind: ClassVar[str] = "constant"

    def __post_init__(self) -> None:
        object.__setattr__(self, "w", _finite("constant schedule", "w", self.w))

    def weight(self, sigma: Tensor) -> Tensor:
        return torch.full_like(as_working_float(sigma), self.w)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "w": self.w}


@dataclass(frozen=True)
class Interval:
    """Guidance limited to σ ∈ (sigma_lo, sigma_hi]: the inner w(σ) there, exactly 1 elsewhere."""

    inner: Schedule
    sigma_lo: float
    sigma_hi: float
    kind: ClassVar[str] = "interval"

    def __post_init__(self) -> None:
        lo = _sigma("interval schedule", "sigma_lo", self.sigma_lo)
        hi = _sigma("interval schedule", "sigma_hi", self.sigma_hi)
        if lo >= hi:
            raise ValueError(
                f"interval schedule: sigma_lo must be below sigma_hi (got sigma_lo={lo}, "
                f"sigma_hi={hi}); swap them or widen the interval"
            )
        object.__setattr__(self, "sigma_lo", lo)
        object.__setattr__(self, "sigma_hi", hi)

    def contains(self, sigma: Tensor) -> Tensor:
        """Boolean mask of σ ∈ (sigma_lo, sigma_hi], compared in σ's own precision.

        Samplers often hold σ in float32: a σ that *is* float32(sigma_lo) counts as sitting
        on the boundary (outside), as the user meant, not as 0.28000000119 > 0.28.
        """
        s = torch.as_tensor(sigma)
        s = s if s.is_floating_point() else s.to(WORKING_DTYPE)
        lo = torch.tensor(self.sigma_lo, dtype=s.dtype, device=s.device)
        hi = torch.tensor(self.sigma_hi, dtype=s.dtype, device=s.device)
        return (s > lo) & (s <= hi)

    def weight(self, sigma: Tensor) -> Tensor:
        inside = self.contains(sigma)
        inner = self.inner.weight(sigma)
        return torch.where(inside, inner, torch.ones_like(inner))

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind}
        if isinstance(self.inner, Constant):
            d["w"] = self.inner.w
        else:
            d["schedule"] = self.inner.to_dict()
        d["sigma_lo"] = self.sigma_lo
        d["sigma_hi"] = self.sigma_hi
        return d


_SPACES = ("log", "linear")
_SHAPES = ("linear", "cosine")


@dataclass(frozen=True)
class Ramp:
    """w moves from w_start at sigma_start to w_end at sigma_end, constant beyond the ends.

    With t = (f(σ) − f(σ_start)) / (f(σ_end) − f(σ_start)) clamped to [0, 1], f = log or
    identity (``space``), and s(t) = t or (1 − cos πt)/2 (``shape``):
    w(σ) = w_start + (w_end − w_start)·s(t).
    """

    w_start: float
    w_end: float
    sigma_start: float
    sigma_end: float
    space: str = "log"
    shape: str = "linear"
    kind: ClassVar[str] = "ramp"

    def __post_init__(self) -> None:
        where = "ramp schedule"
        for name in ("w_start", "w_end"):
            object.__setattr__(self, name, _finite(where, name, getattr(self, name)))
        if self.space not in _SPACES:
            raise ValueError(f"{where}: space must be one of {list(_SPACES)} (got {self.space!r})")
        if self.shape not in _SHAPES:
            raise ValueError(f"{where}: shape must be one of {list(_SHAPES)} (got {self.shape!r})")
        positive = self.space == "log"
        start = _sigma(where, "sigma_start", self.sigma_start, positive)
        end = _sigma(where, "sigma_end", self.sigma_end, positive)
        if start == end:
            raise ValueError(
                f"{where}: sigma_start and sigma_end must differ (both {start}); "
                "use a constant schedule for a flat weight"
            )
        object.__setattr__(self, "sigma_start", start)
        object.__setattr__(self, "sigma_end", end)

    def weight(self, sigma: Tensor) -> Tensor:
        s = as_working_float(sigma)
        if self.space == "log":  # σ = 0 maps to −inf, i.e. the low-σ end of the ramp
            x, a, b = s.log(), math.log(self.sigma_start), math.log(self.sigma_end)
        else:
            x, a, b = s, self.sigma_start, self.sigma_end
        t = (x - a) / (b - a)
        t = t.clamp(0.0, 1.0)
        if self.shape == "cosine":
            t = (1.0 - torch.cos(math.pi * t)) / 2.0
        return self.w_start + (self.w_end - self.w_start) * t

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "w_start": self.w_start,
            "w_end": self.w_end,
            "sigma_start": self.sigma_start,
            "sigma_end": self.sigma_end,
            "space": self.space,
            "shape": self.shape,
        }


@dataclass(frozen=True)
class Knots:
    """Piecewise linear in log σ through (sigmas[i], weights[i]); held constant beyond the ends.

    ``sigmas`` are positive and strictly monotonic, in either order (a list written in sampling
    order, high σ first, is stored reversed together with its weights).
    """

    sigmas: tuple[float, ...]
    weights: tuple[float, ...]
    kind: ClassVar[str] = "knots"

    def __post_init__(self) -> None:
        where = "knots schedule"
        if isinstance(self.sigmas, (str, bytes)) or not isinstance(self.sigmas, Sequence):
            raise ValueError(f"{where}: sigmas must be a list of numbers (got {self.sigmas!r})")
        if isinstance(self.weights, (str, bytes)) or not isinstance(self.weights, Sequence):
            raise ValueError(f"{where}: weights must be a list of numbers (got {self.weights!r})")
        sig = tuple(_sigma(where, f"sigmas[{i}]", v, positive=True) for i, v in enumerate(self.sigmas))
        wts = tuple(_finite(where, f"weights[{i}]", v) for i, v in enumerate(self.weights))
        if len(sig) == 0:
            raise ValueError(f"{where}: sigmas is empty; give at least one knot")
        if len(sig) != len(wts):
            raise ValueError(
                f"{where}: sigmas and weights must have the same length (got {len(sig)} sigmas, "
                f"{len(wts)} weights); give one weight per knot"
            )
        if len(sig) > 1 and all(a > b for a, b in pairwise(sig)):  # written high σ first
            sig, wts = sig[::-1], wts[::-1]
        for i in range(1, len(sig)):
            if sig[i] <= sig[i - 1]:
                raise ValueError(
                    f"{where}: sigmas must be strictly increasing or decreasing (got {list(sig)}, "
                    f"sigmas[{i}]={sig[i]} ≤ sigmas[{i - 1}]={sig[i - 1]}); sort them and drop repeats"
                )
        object.__setattr__(self, "sigmas", sig)
        object.__setattr__(self, "weights", wts)

    def weight(self, sigma: Tensor) -> Tensor:
        s = as_working_float(sigma)
        if len(self.sigmas) == 1:
            return torch.full_like(s, self.weights[0])
        log_knots = torch.tensor(self.sigmas, dtype=s.dtype, device=s.device).log()  # on σ's device
        wts = torch.tensor(self.weights, dtype=s.dtype, device=s.device)
        ls = s.clamp(self.sigmas[0], self.sigmas[-1]).log().reshape(-1)
        idx = torch.searchsorted(log_knots, ls, right=True).clamp(1, len(self.sigmas) - 1)
        x0, x1 = log_knots[idx - 1], log_knots[idx]
        t = (ls - x0) / (x1 - x0)
        w = wts[idx - 1] + (wts[idx] - wts[idx - 1]) * t
        return w.reshape(s.shape)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "sigmas": list(self.sigmas), "weights": list(self.weights)}
