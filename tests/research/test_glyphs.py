"""The glyphs data set, its classifier and the sweep's quick mode (the bundled networks)."""

from __future__ import annotations

import pytest
import torch

from comfyui_autoguidance.demos.digits_metrics import load_classifier
from research import glyphs_sweep
from research.glyphs_data import CLASSES, NUM_CLASSES, sample_glyphs
from research.train_glyphs import CLASSIFIER_FILE


def test_glyphs_are_fresh_deterministic_and_in_range():
    a, la = sample_glyphs(200, seed=3)
    b, lb = sample_glyphs(200, seed=3)
    c, _ = sample_glyphs(200, seed=4)
    assert a.shape == (200, 1, 16, 16) and a.dtype == torch.float32
    assert torch.equal(a, b) and torch.equal(la, lb) and not torch.equal(a, c)
    assert float(a.min()) >= -1 and float(a.max()) <= 1
    assert set(la.tolist()) == set(range(NUM_CLASSES)) == set(range(len(CLASSES)))
    _, balanced = sample_glyphs(30, seed=0, balanced=True)
    assert balanced.tolist() == [i % NUM_CLASSES for i in range(30)]
    # Every image differs (random pose, stroke, intensities): no finite training set to memorise.
    flat = a.flatten(1)
    assert torch.cdist(flat, flat).add(torch.eye(200) * 1e9).min() > 0.1


@pytest.mark.skipif(not CLASSIFIER_FILE.is_file(), reason="glyphs classifier not trained")
def test_classifier_recognises_fresh_glyphs():
    images, labels = sample_glyphs(1000, seed=123)
    with torch.no_grad():
        accuracy = float((load_classifier(CLASSIFIER_FILE)(images).argmax(1) == labels).double().mean())
    assert accuracy > 0.95


@pytest.mark.skipif(not CLASSIFIER_FILE.is_file(), reason="glyphs networks not trained")
def test_sweep_quick_mode_runs(tmp_path, capsys):
    assert glyphs_sweep.main(["--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for family in ("none", "CFG", "autoguidance", "Noise floor"):
        assert family in out
