"""Measuring generated digits: a small classifier trained on the real digits, its feature
space, the Fréchet distance there (the FID recipe with our own network) and k-NN
precision/recall (Kynkäänniemi et al. 2019).

FD = ‖μ_r − μ_g‖² + Tr(Σ_r + Σ_g − 2(Σ_r^½ Σ_g Σ_r^½)^½).
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import Tensor, nn

CLASSIFIER_FILE = Path(__file__).resolve().parent / "assets" / "digits-classifier.safetensors"


def conv_trunk() -> nn.Sequential:
    """Three 3×3 convolutions with SiLU, a 16×16 grey image → 64 channels at 4×4: the trunk of the
    small CNNs that measure samples (this classifier, the glyphs ruler in research/)."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),
        nn.SiLU(),
        nn.Conv2d(32, 64, 3, stride=2, padding=1),
        nn.SiLU(),  # 8×8
        nn.Conv2d(64, 64, 3, stride=2, padding=1),
        nn.SiLU(),  # 4×4
    )


class DigitsClassifier(nn.Module):
    """A small CNN for 16×16 digits in [−1, 1]; ``features`` is its 64-d penultimate layer."""

    def __init__(self):
        super().__init__()
        self.conv = conv_trunk()
        self.embed = nn.Sequential(nn.Flatten(), nn.Linear(64 * 16, 64), nn.SiLU())
        self.head = nn.Linear(64, 10)

    def features(self, x: Tensor) -> Tensor:  # [B, 64]
        return self.embed(self.conv(x.float()))

    def forward(self, x: Tensor) -> Tensor:  # logits [B, 10]
        return self.head(self.features(x))


def load_classifier(path: Path = CLASSIFIER_FILE) -> DigitsClassifier:
    net = DigitsClassifier()
    net.load_state_dict(load_file(str(path)))
    return net.eval().requires_grad_(False)


def _sqrtm_psd(m: Tensor) -> Tensor:
    vals, vecs = torch.linalg.eigh(m)
    return (vecs * vals.clamp_min(0).sqrt()) @ vecs.T


def frechet_distance(real: Tensor, fake: Tensor) -> float:
    """FD between Gaussians fitted to two feature sets [N, D] (float64)."""
    real, fake = real.double(), fake.double()
    mu_r, mu_g = real.mean(0), fake.mean(0)
    cov_r, cov_g = torch.cov(real.T), torch.cov(fake.T)
    root_r = _sqrtm_psd(cov_r)
    cross = _sqrtm_psd(root_r @ cov_g @ root_r)
    return float((mu_r - mu_g).square().sum() + torch.trace(cov_r + cov_g - 2 * cross))


def precision_recall(real: Tensor, fake: Tensor, k: int = 3) -> tuple[float, float]:
    """Share of fakes inside the real manifold (precision) and of reals inside the fake one (recall).

    A manifold is the union of balls around its points reaching their k-th nearest neighbour.
    """

    def inside(points: Tensor, manifold: Tensor) -> Tensor:
        radii = torch.cdist(manifold, manifold).kthvalue(k + 1, dim=1).values  # +1: self at distance 0
        return (torch.cdist(points, manifold) <= radii[None]).any(1)

    real, fake = real.double(), fake.double()
    return float(inside(fake, real).double().mean()), float(inside(real, fake).double().mean())
