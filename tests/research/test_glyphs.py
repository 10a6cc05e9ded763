"""The glyphs data set, its classifier, the sweep's search and quick mode, the shipped table."""

from __future__ import annotations

import pytest
import torch

from comfyui_autoguidance.demos.digits_metrics import load_classifier
from research import glyphs_sweep
from research.glyphs_data import CLASSES, NUM_CLASSES, sample_glyphs
from research.glyphs_report import WINNERS_FILE, load_winners, networks
from research.glyphs_sweep import FAMILIES, Setting, search
from research.train_glyphs import ASSETS, CLASSIFIER_FILE


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


class Bowl:
    """Stands in for the sweep's Runner: FD is a known bowl with its minimum on the grid."""

    def __init__(self) -> None:
        self.seen: set[Setting] = set()

    def __call__(self, s: Setting, seed: int, num_steps: int | None = None) -> dict[str, float]:
        self.seen.add(s)
        ema_g = 0.0 if s.ema_g is None else s.ema_g
        return {"fd": (s.ema_m - 0.2) ** 2 + 2 * (ema_g - 0.05) ** 2 + (s.w - 2.5) ** 2 / 10}


def test_search_descends_to_each_familys_best_on_the_grid():
    bowl = Bowl()
    assert search(bowl, "autoguidance") == Setting("autoguidance", 0.20, 0.05, 2.5)
    assert search(bowl, "training only") == Setting("training only", 0.20, 0.05, 2.5)
    # CFG's guide has one EMA; "same EMA" ties both EMAs: argmin of (e − 0.2)² + 2(e − 0.05)² is 0.10.
    assert search(bowl, "CFG") == Setting("CFG", 0.20, None, 2.0)
    assert search(bowl, "same EMA") == Setting("same EMA", 0.10, 0.10, 2.5)
    assert search(bowl, "none") == Setting("none", 0.20, None, 1.0)
    assert all(s.ema_g == s.ema_m for s in bowl.seen if s.family == "same EMA")
    assert len({s for s in bowl.seen if s.family == "autoguidance"}) < 5 * 5 * 6  # not the full grid


def test_settings_name_their_networks():
    assert networks(Setting("none", 0.15, None, 1.0)) == ["glyphs-main-ema150.safetensors"]
    assert networks(Setting("CFG", 0.05, None, 1.2)) == [
        "glyphs-main-ema050.safetensors",
        "glyphs-uncond-ema100.safetensors",
    ]
    assert networks(Setting("capacity only", 0.2, 0.25, 2.0))[1] == "glyphs-capacity-only-ema250.safetensors"


@pytest.mark.skipif(not WINNERS_FILE.is_file(), reason="glyphs table not shipped")
def test_the_shipped_table_has_every_family_and_its_networks():
    winners = load_winners()
    assert tuple(winners) == FAMILIES
    for family, s in winners.items():
        assert s.family == family
        for name in networks(s):
            assert (ASSETS / name).is_file(), name


@pytest.mark.skipif(not WINNERS_FILE.is_file(), reason="glyphs networks not shipped")
def test_sweep_quick_mode_runs(tmp_path, capsys):
    assert glyphs_sweep.main(["--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for text in ("| none |", "| CFG |", "| autoguidance |", "real glyphs", "FD ruler", "saturated"):
        assert text in out
