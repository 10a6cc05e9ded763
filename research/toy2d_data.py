"""The 2-D toy distribution: two branching "trees", a Gaussian mixture with a known density.

Like the paper's Figure 1 toy, most mass sits in a thick trunk and the branches thin out
towards low-density tips, so a sampler must follow narrow, branching structure. Each class
is a mixture of anisotropic Gaussians laid along the segments of a binary tree; weights
halve at every level of branching and widths shrink, so the tips are thin and rare.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class Mixture:
    """A Gaussian mixture p(x) = Σ_k π_k N(x; μ_k, Σ_k) in 2-D, with each component's tree depth."""

    means: Tensor  # [K, 2]
    covs: Tensor  # [K, 2, 2]
    weights: Tensor  # [K], sums to 1
    depth: Tensor  # [K] int, 0 = trunk
    segment: Tensor  # [K] int, index of the tree segment the component lies on

    def log_prob(self, x: Tensor) -> Tensor:
        """log p(x) for x [N, 2] → [N]."""
        return torch.logsumexp(self._log_components(x, torch.zeros(())), dim=1)

    def _log_components(self, x: Tensor, extra_var: Tensor) -> Tensor:
        cov = self.covs + extra_var * torch.eye(2, dtype=self.covs.dtype)  # [K, 2, 2]
        d = x[:, None, :] - self.means[None]  # [N, K, 2]
        prec = torch.linalg.inv(cov)
        maha = torch.einsum("nki,kij,nkj->nk", d, prec, d)
        logdet = torch.logdet(cov)
        return self.weights.log()[None] - 0.5 * (maha + logdet[None] + 2 * math.log(2 * math.pi))

    def denoise(self, x: Tensor, sigma: Tensor) -> Tensor:
        """The exact denoiser D(x; σ) = E[x0 | x0 + σ·n = x] of this mixture, x [N, 2], σ [N]."""
        out = torch.empty_like(x)
        for s in sigma.unique():
            idx = (sigma == s).nonzero().squeeze(1)
            var = s.to(x.dtype) ** 2
            post = torch.softmax(self._log_components(x[idx], var), dim=1)  # [n, K] responsibilities
            cov = self.covs + var * torch.eye(2, dtype=x.dtype)
            gain = self.covs @ torch.linalg.inv(cov)  # [K, 2, 2] Σ_k (Σ_k + σ²I)⁻¹
            d = x[idx, None, :] - self.means[None]
            cond_mean = self.means[None] + torch.einsum("kij,nkj->nki", gain, d)
            out[idx] = (post[..., None] * cond_mean).sum(1)
        return out

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        k = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        chol = torch.linalg.cholesky(self.covs[k])
        z = torch.randn(n, 2, 1, generator=generator, dtype=self.means.dtype)
        return self.means[k] + (chol @ z).squeeze(-1)


def _tree(
    root: tuple[float, float],
    angle: float,
    length: float,
    depth: int,
    max_depth: int,
    spread: float,
    segments: list,
) -> None:
    end = (root[0] + length * math.cos(angle), root[1] + length * math.sin(angle))
    segments.append((root, end, depth))
    if depth < max_depth:
        for turn in (-spread, spread):
            _tree(end, angle + turn, length * 0.72, depth + 1, max_depth, spread * 0.9, segments)


def tree_mixture(angle: float, max_depth: int = 4, per_segment: int = 6, dtype=torch.float64) -> Mixture:
    """One class: a binary tree rooted near the origin, growing in direction ``angle``."""
    segments: list = []
    _tree((0.0, -1.2), angle, 0.9, 0, max_depth, 0.55, segments)
    means, covs, weights, depths, seg_ids = [], [], [], [], []
    for s, ((x0, y0), (x1, y1), depth) in enumerate(segments):
        direction = torch.tensor([x1 - x0, y1 - y0], dtype=dtype)
        length = direction.norm()
        u = direction / length
        v = torch.stack([-u[1], u[0]])
        along, across = (length / per_segment) ** 2 * 0.35, (0.05 * 0.6**depth) ** 2
        cov = along * torch.outer(u, u) + across * torch.outer(v, v)
        for t in torch.linspace(0.5 / per_segment, 1 - 0.5 / per_segment, per_segment, dtype=dtype):
            means.append(torch.tensor([x0, y0], dtype=dtype) + t * direction)
            covs.append(cov)
            weights.append(
                0.35**depth
            )  # each level holds 0.7× the mass of the one before, split in two: thin, rare tips
            depths.append(depth)
            seg_ids.append(s)
    w = torch.tensor(weights, dtype=dtype)
    return Mixture(
        torch.stack(means), torch.stack(covs), w / w.sum(), torch.tensor(depths), torch.tensor(seg_ids)
    )


def toy_classes() -> list[Mixture]:
    """The two classes of the toy: trees leaning left and right, overlapping at the trunk."""
    return [tree_mixture(math.pi / 2 + 0.35), tree_mixture(math.pi / 2 - 0.35)]
