"""The glyphs ruler: it reads every generative factor, and each factor changed alone moves its features."""

from __future__ import annotations

import pytest
import torch

from comfyui_autoguidance.demos.digits_metrics import load_classifier
from research.glyphs_data import FACTOR_RANGES, FACTORS, NUM_CLASSES, draw_factors, render, render_factors
from research.glyphs_metrics import factor_sensitivity
from research.glyphs_ruler import RULER_FILE, TARGETS, factor_targets, load_ruler
from research.train_glyphs import CLASSIFIER_FILE

needs_ruler = pytest.mark.skipif(not RULER_FILE.is_file(), reason="glyphs ruler not trained")


def test_render_is_render_factors_of_draw_factors():
    labels = torch.arange(40) % NUM_CLASSES
    direct = render(labels, torch.Generator().manual_seed(5))
    factors = draw_factors(labels, torch.Generator().manual_seed(5))
    assert torch.equal(direct, render_factors(factors))
    for name, (lo, hi) in FACTOR_RANGES.items():
        assert lo <= float(factors.values[name].min()) and float(factors.values[name].max()) <= hi


@pytest.mark.parametrize("name", FACTORS)
def test_each_factor_alone_changes_the_pixels(name):
    """The generator uses every factor: moving one alone changes the T glyph (class 7)."""
    factors = draw_factors(torch.full((8,), 7), torch.Generator().manual_seed(1))
    if name == "class":
        moved = factors.replace(name, torch.full((8,), 2))
    else:
        lo, hi = FACTOR_RANGES[name]
        moved = factors.replace(name, lo + (factors.values[name] - lo + (hi - lo) / 2) % (hi - lo))
    difference = (render_factors(moved) - render_factors(factors)).abs().flatten(1).amax(1)
    assert bool((difference > 0.01).all())


def test_factor_targets_map_each_range_to_unit_interval_and_mask_what_is_unseen():
    labels = torch.tensor([0, 1, 3, 7])
    factors = draw_factors(labels, torch.Generator().manual_seed(0))
    lo = factors.replace("bg", torch.full((4, 1, 1), -1.0)).replace("scale", torch.full((4, 1, 1), 0.8))
    targets, mask = factor_targets(lo)
    assert targets.shape == mask.shape == (4, len(TARGETS))
    torch.testing.assert_close(targets[:, TARGETS.index("bg")], torch.full((4,), -1.0))
    torch.testing.assert_close(targets[:, TARGETS.index("scale")], torch.full((4,), 1.0))
    assert float(targets.abs().max()) <= 1 + 1e-6
    # The stroke of the filled disc (0) and triangle (3), the rotation of disc and ring (0, 1): unseen.
    assert mask[:, TARGETS.index("stroke")].tolist() == [0.0, 1.0, 0.0, 1.0]
    assert mask[:, TARGETS.index("angle")].tolist() == [0.0, 0.0, 1.0, 1.0]


@needs_ruler
def test_ruler_reads_every_factor_of_fresh_glyphs():
    g = torch.Generator().manual_seed(99)
    factors = draw_factors(torch.randint(NUM_CLASSES, (2000,), generator=g), g)
    with torch.no_grad():
        logits, predicted = load_ruler()(render_factors(factors))
    targets, mask = factor_targets(factors)
    assert float((logits.argmax(1) == factors.labels).double().mean()) > 0.97
    for k, name in enumerate(TARGETS):
        seen = mask[:, k] > 0
        error = (predicted[seen, k] - targets[seen, k]).square().mean()
        r2 = float(1 - error / targets[seen, k].var())
        assert r2 > 0.8, f"{name}: R² {r2:.3f}"


@needs_ruler
@pytest.mark.parametrize("name", FACTORS)
def test_each_factor_changed_alone_moves_the_ruler(name):
    """Raising one factor by half its range, all else equal, moves the ruler's features
    far beyond the noise floor (FD between two independent draws of the same population)."""
    assert factor_sensitivity(load_ruler().features, name) > 3.0


@needs_ruler
@pytest.mark.skipif(not CLASSIFIER_FILE.is_file(), reason="glyphs classifier not trained")
@pytest.mark.parametrize("name", ["bg", "grad", "grad_angle"])
def test_the_class_classifier_barely_sees_the_background(name):
    """Why the ruler exists: the class classifier responds far less to the background than the ruler."""
    classifier = factor_sensitivity(load_classifier(CLASSIFIER_FILE).features, name)
    assert classifier < 0.5 * factor_sensitivity(load_ruler().features, name)
