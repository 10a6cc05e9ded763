"""The precision noise levels and weights are computed in: float32, or wider where σ already is.

Every backend ComfyUI samples on has float32; MPS has no float64 and on a GPU float64 is a slow
path. So σ, σ_edm and w(σ) stay on σ's own device in float32, except that a float64 σ (CPU
sampling in float64, the official EDM sampler) keeps its float64.
"""

from __future__ import annotations

import torch
from torch import Tensor

WORKING_DTYPE = torch.float32


def as_working_float(x: Tensor | float) -> Tensor:
    """``x`` on its own device in float32, or float64 where it already is (a float → a CPU tensor)."""
    t = torch.as_tensor(x)
    return t.to(torch.promote_types(t.dtype, WORKING_DTYPE) if t.is_floating_point() else WORKING_DTYPE)
