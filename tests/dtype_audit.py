"""A ``TorchDispatchMode`` that records every float64 tensor the code under test creates.

MPS has no float64 and a float64 tensor on a GPU is a slow path, so the guided step must not
make any: on a device (``off_cpu_only``) or, in the ComfyUI tier where everything runs on the
CPU, at all.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten


class Float64Audit(TorchDispatchMode):
    """Records (op, device) for every float64 tensor an op returns while the mode is active."""

    def __init__(self, off_cpu_only: bool = False):
        super().__init__()
        self.off_cpu_only = off_cpu_only
        self.found: list[tuple[str, str]] = []
        self.ops = 0

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        out = func(*args, **(kwargs or {}))
        self.ops += 1
        for t in tree_flatten(out)[0]:
            off_cpu = isinstance(t, torch.Tensor) and t.device.type != "cpu"
            if (
                isinstance(t, torch.Tensor)
                and t.dtype == torch.float64
                and (off_cpu or not self.off_cpu_only)
            ):
                self.found.append((str(func), t.device.type))
        return out
