"""scikit-learn's 8×8 handwritten digits (1,797 images, 10 classes) as EDM2 training data.

Pixels 0..16 → [0, 1] → upscaled to 16×16 (bilinear) → model space [−1, 1] (EDM2's img64
convention). The data set ships inside scikit-learn, so nothing is downloaded.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

RESOLUTION = 16
NUM_CLASSES = 10


def load_digits_tensors(resolution: int = RESOLUTION) -> tuple[Tensor, Tensor]:
    """(images [N, 1, R, R] in [−1, 1], labels [N] int64)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("the digits data set comes with scikit-learn: pip install -e '.[train]'") from None
    digits = load_digits()
    pixels = torch.tensor(digits.images, dtype=torch.float32)[:, None] / 16.0  # [N, 1, 8, 8] in [0, 1]
    if resolution != 8:
        pixels = F.interpolate(pixels, size=resolution, mode="bilinear", align_corners=False).clamp(0, 1)
    return pixels * 2 - 1, torch.tensor(digits.target, dtype=torch.long)
