"""One noise scale for every model family: the noise-to-signal ratio σ_edm.

Schedules (guidance intervals, ramps, knots) are written in σ_edm, EDM's σ: the ratio of the
noise's to the signal's scale in x_σ = s·(x0 + σ_edm·ε) (Karras et al. 2022, eq. 7 with
s(t) folded into x). Two noise parameterisations cover every model family:

- ``"ve"`` (variance exploding: EPS, V, EDM, X0, Cosmos models): x_σ = x0 + σ·ε, so
  σ_edm = σ, the model's own σ as it is (saved workflows keep their meaning);
- ``"flow"`` (rectified flow: SD3, Flux, Wan, Lumina2, Qwen-Image, …): x_σ = (1 − σ)·x0 + σ·k·ε
  with σ ∈ [0, 1] and a noise multiplier k (1 for nearly every model), so
  σ_edm = k·σ / (1 − σ); σ = 1 (pure noise) maps to +inf, and back: σ = σ_edm / (k + σ_edm).

Generally, x_σ = a·x0 + b·ε has σ_edm = b / a (:func:`ratio_to_edm`).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from .precision import as_working_float

# ----------------------------------------------------------------------------
# The two maps and their inverses (x_σ = (1 − σ)·x0 + σ·k·ε for flow).


def flow_to_edm(sigma: Tensor, noise_scale: float = 1.0) -> Tensor:
    """σ_edm = k·σ / (1 − σ) for a flow model's σ ∈ [0, 1], in σ's precision (σ = 1 → +inf)."""
    s = as_working_float(sigma)
    return torch.where(s >= 1, torch.full_like(s, float("inf")), s * noise_scale / (1 - s))


def edm_to_flow(sigma_edm: Tensor, noise_scale: float = 1.0) -> Tensor:
    """The inverse map, σ = σ_edm / (k + σ_edm), in σ_edm's precision (+inf → 1)."""
    s = as_working_float(sigma_edm)
    return torch.where(torch.isinf(s), torch.ones_like(s), s / (noise_scale + s))


def _identity(sigma: Tensor, noise_scale: float = 1.0) -> Tensor:
    return torch.as_tensor(sigma)


def ratio_to_edm(signal: Tensor, noise: Tensor) -> Tensor:
    """σ_edm = b / a for x_σ = a·x0 + b·ε (the definition the two maps are instances of), in
    float32 or the inputs' wider precision, on their device."""
    a, b = as_working_float(signal), as_working_float(noise)
    return b.to(torch.promote_types(a.dtype, b.dtype)) / a


# ----------------------------------------------------------------------------
# Kind → (to σ_edm, from σ_edm): a dispatch table, so a new kind is one line.

Map = Callable[[Tensor, float], Tensor]
NOISE_KINDS: dict[str, tuple[Map, Map]] = {
    "ve": (_identity, _identity),
    "flow": (flow_to_edm, edm_to_flow),
}


def _maps(kind: str) -> tuple[Map, Map]:
    try:
        return NOISE_KINDS[kind]
    except KeyError:
        raise ValueError(
            f"noise scale: unknown noise kind (got {kind!r}); valid kinds: {', '.join(sorted(NOISE_KINDS))}"
        ) from None


def to_edm(kind: str, sigma: Tensor, noise_scale: float = 1.0) -> Tensor:
    """A model's own σ → σ_edm (``ve``: σ unchanged, its dtype kept; ``flow``: float32, float64 if σ is)."""
    return _maps(kind)[0](sigma, noise_scale)


def from_edm(kind: str, sigma_edm: Tensor, noise_scale: float = 1.0) -> Tensor:
    """σ_edm → the model's own σ (the inverse of :func:`to_edm`)."""
    return _maps(kind)[1](sigma_edm, noise_scale)
