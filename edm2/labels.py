"""EDM2's class conditioning: the label vector c ∈ R^label_dim and the ImageNet-1k class names.

A conditional EDM2 network takes c as a one-hot vector (or a blend of two); the zero vector is
what the official code feeds a conditional network given no label (the unconditional input).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import torch


@cache
def imagenet_class_names() -> tuple[str, ...]:
    """The 1000 ImageNet-1k class names in label order (the img512/img64 models' classes)."""
    return tuple(json.loads(Path(__file__).with_name("imagenet_classes.json").read_text()))


def class_vector(label_dim: int, index: int, second: int = -1, mix: float = 0.0) -> torch.Tensor:
    """c = (1 − mix)·onehot(index) + mix·onehot(second), shape [1, label_dim]; index −1 → zeros."""
    for field, value in (("class_index", index), ("second_class_index", second)):
        if not -1 <= value < label_dim:
            raise ValueError(
                f"{field} must be -1 (none) or between 0 and {label_dim - 1} "
                f"for a model with {label_dim} classes (got {value})"
            )
    c = torch.zeros(1, label_dim)
    if index >= 0:
        c[0, index] += 1.0 - (mix if second >= 0 else 0.0)
    if second >= 0:
        c[0, second] += mix
    return c
