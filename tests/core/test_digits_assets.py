"""The bundled digits trio and classifier: present, the shapes the README promises, and doing
their jobs (the classifier on real digits, the metrics on known cases, the demo end to end)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from comfyui_autoguidance.demos.digits import TRIO_FILES, load_trio
from comfyui_autoguidance.demos.digits_metrics import (
    CLASSIFIER_FILE,
    frechet_distance,
    load_classifier,
    precision_recall,
)
from comfyui_autoguidance.edm2.loading import read_safetensors

sklearn = pytest.importorskip(
    "sklearn", reason="scikit-learn carries the digits data set: pip install -e '.[test]'"
)


def params(net) -> int:
    return sum(p.numel() for p in net.parameters())


def test_trio_is_bundled_with_the_recipe():
    assert all(p.is_file() for p in TRIO_FILES.values())
    total = sum(p.stat().st_size for p in TRIO_FILES.values()) + CLASSIFIER_FILE.stat().st_size
    assert total < 8e6  # "a few MB"
    trio = load_trio()
    assert trio["main"].label_dim == 10 and trio["guide"].label_dim == 10 and trio["uncond"].label_dim == 0
    assert params(trio["guide"]) < params(trio["main"]) / 2  # smaller
    assert {n.img_channels for n in trio.values()} == {1} and {n.img_resolution for n in trio.values()} == {
        16
    }
    assert [read_safetensors(p)[2] for p in TRIO_FILES.values()] == [
        "digits-main",
        "digits-guide",
        "digits-uncond",
    ]


def test_classifier_recognises_real_digits():
    from comfyui_autoguidance.demos.digits_data import load_digits_tensors

    images, labels = load_digits_tensors()
    net = load_classifier()
    with torch.no_grad():
        accuracy = (net(images).argmax(1) == labels).double().mean().item()
    assert accuracy > 0.97


def test_frechet_distance_and_precision_recall_on_known_cases():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(2000, 8, generator=g, dtype=torch.float64)
    b = torch.randn(2000, 8, generator=g, dtype=torch.float64)
    shifted = b + torch.tensor([3.0] + [0.0] * 7, dtype=torch.float64)
    assert frechet_distance(a, b) < 0.1
    assert frechet_distance(a, shifted) == pytest.approx(9.0, rel=0.05)  # ‖Δμ‖² = 9, equal covariances
    scaled = b * 2  # Σ_g = 4I: Tr(I + 4I − 2·2I) = 8
    assert frechet_distance(a, scaled) == pytest.approx(8.0, rel=0.1)
    precision, recall = precision_recall(a[:500], b[:500] * 0.2)  # fakes collapsed to the centre
    assert precision > 0.9 and recall < 0.3


def test_demo_quick_writes_a_labelled_grid(tmp_path):
    from PIL import Image

    out = tmp_path / "grid.png"
    run = subprocess.run(
        [sys.executable, "-m", "comfyui_autoguidance", "demo", "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    img = Image.open(out)
    assert img.size == (28 + 3 * (2 * 64 + 12), 22 + 10 * 64)  # 3 methods × 2 samples, 10 classes
    assert "wrote" in run.stdout


def test_bundled_real_features_are_the_classifiers_features_of_the_real_digits():
    from comfyui_autoguidance.demos.digits import REAL_FEATURES_FILE, real_digit_features

    assert REAL_FEATURES_FILE.is_file()
    net = load_classifier()
    torch.testing.assert_close(
        real_digit_features(net, bundled=True), real_digit_features(net, bundled=False)
    )
