"""The glyphs ruler: a network that reads every generative factor of a glyph, for the FD.

A class classifier's features are trained to ignore everything but the class (the background
intensity, the gradient, the stroke weight, ...), so an FD measured there cannot see a guide
that distorts those. This network is trained on fresh glyphs to predict *all* of them from the
image: the class (cross-entropy) and, by regression, pose (angle, shift), scale, stroke, glyph
and background intensity and the background gradient g·(cos φ, sin φ). Each regression target t
is mapped from its range [lo, hi] to 2(t − lo)/(hi − lo) − 1, so the loss

    L = CE(logits, class) + mean_k m_k · (ŷ_k − t_k)²

weighs every factor alike; m_k = 0 where factor k does not change the picture (the stroke of
the filled disc and triangle, the rotation of the disc and ring).

The FD's space is what the ruler reads off an image, ``features`` = [softmax(logits), ŷ] (19-d):
every factor has its own coordinates on a common scale, so changing any one alone moves them
(``tests/research/test_glyphs_ruler.py``). The 64-d penultimate layer (``hidden``) is not used
as the primary space: an FD weighs directions by their variance, and that layer spends most of
its variance on class and pose, leaving a change of the gradient below the FD's sampling noise.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from comfyui_autoguidance.demos.digits_metrics import conv_trunk

from .glyphs_data import FACTOR_RANGES, NUM_CLASSES, GlyphFactors, draw_factors, render_factors
from .progress import loss_bar

RULER_FILE = Path(__file__).resolve().parent / "assets" / "glyphs-ruler.safetensors"
TARGETS = ("angle", "scale", "shift_x", "shift_y", "stroke", "fg", "bg", "grad_x", "grad_y")
_UNSEEN = {"stroke": (0, 3), "angle": (0, 1)}  # factor: classes whose picture it does not change


class GlyphRuler(nn.Module):
    """A small CNN on 16×16 glyphs in [−1, 1]: class logits and the factors' regressions."""

    def __init__(self, width: int = 64):
        super().__init__()
        self.conv = conv_trunk()
        self.embed = nn.Sequential(nn.Flatten(), nn.Linear(64 * 16, width), nn.SiLU())
        self.classes = nn.Linear(width, NUM_CLASSES)
        self.factors = nn.Linear(width, len(TARGETS))

    def hidden(self, x: Tensor) -> Tensor:  # the penultimate layer [B, 64]
        return self.embed(self.conv(x.float()))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:  # logits [B, 10], factors [B, 9]
        h = self.hidden(x)
        return self.classes(h), self.factors(h)

    def features(self, x: Tensor) -> Tensor:  # the FD's space: [class probabilities, factors] [B, 19]
        logits, factors = self(x)
        return torch.cat([logits.softmax(1), factors], 1)


def factor_targets(factors: GlyphFactors) -> tuple[Tensor, Tensor]:
    """Regression targets [B, 9] in [−1, 1] (TARGETS order) and their loss mask [B, 9]."""
    v = {name: value.flatten() for name, value in factors.values.items()}
    g_hi = FACTOR_RANGES["grad"][1]
    v["grad_x"] = v["grad"] * v["grad_angle"].cos() / g_hi  # the gradient as a vector: its
    v["grad_y"] = v["grad"] * v["grad_angle"].sin() / g_hi  # direction is unseen when g = 0
    columns, masks = [], []
    for name in TARGETS:
        lo, hi = FACTOR_RANGES.get(name, (-1.0, 1.0))
        columns.append(2 * (v[name] - lo) / (hi - lo) - 1)
        unseen = torch.isin(factors.labels, torch.tensor(_UNSEEN.get(name, ())))
        masks.append((~unseen).float())
    return torch.stack(columns, 1), torch.stack(masks, 1)


def ruler_loss(net: GlyphRuler, factors: GlyphFactors) -> Tensor:
    """L = CE(class) + mean over factors of the masked squared error (module docstring)."""
    logits, predicted = net(render_factors(factors))
    targets, mask = factor_targets(factors)
    return F.cross_entropy(logits, factors.labels) + (mask * (predicted - targets) ** 2).mean()


def train_ruler(steps: int = 4000, batch: int = 128, seed: int = 0) -> GlyphRuler:
    """Adam on fresh glyphs every step, the rate decayed by a cosine to 0 (deterministic for a seed)."""
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    net = GlyphRuler()
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    with loss_bar("glyphs: ruler", steps) as progress:
        for step in range(steps):
            factors = draw_factors(torch.randint(NUM_CLASSES, (batch,), generator=g), g)
            loss = ruler_loss(net, factors)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            progress(step, float(loss.detach()))
    return net.eval().requires_grad_(False)


def save_ruler(net: GlyphRuler, path: Path = RULER_FILE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))


def load_ruler(path: Path = RULER_FILE) -> GlyphRuler:
    net = GlyphRuler()
    net.load_state_dict(load_file(str(path)))
    return net.eval().requires_grad_(False)
