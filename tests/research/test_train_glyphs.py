"""The glyphs export: post-hoc EMA networks carry their training run's own buffers."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from comfyui_autoguidance.edm2 import load
from research.glyphs_data import NUM_CLASSES, sample_glyphs
from research.train_glyphs import RUNS, asset_name, export, train_run


def test_export_keeps_each_runs_noise_embedding_and_its_own_ema(tmp_path):
    """The snapshots hold parameters only; the noise embedding's Fourier frequencies and phases
    are random buffers drawn at construction, so an export built on a fresh network would feed
    every σ through a different embedding than the one the network was trained with."""
    work, out = tmp_path / "work", tmp_path / "grid"
    for name in RUNS:
        train_run(name, main_steps=16, seed=0, out=work)
    export(work, 16, out)
    for run, exported in (
        ("main", "main"),
        ("main", "train-only"),
        ("small", "guide"),
        ("small", "capacity-only"),
    ):
        trained = load(work / f"glyphs-{run}-ema010.safetensors", dtype=torch.float32)
        net = load(out / asset_name(exported, 0.10), dtype=torch.float32)
        for (name, buffer), (_, ours) in zip(trained.named_buffers(), net.named_buffers(), strict=True):
            torch.testing.assert_close(ours, buffer, rtol=1e-3, atol=1e-3, msg=f"{exported}: {name}")
    # σ_rel 0.10 at T is a stored profile: the export is the loop's own EMA (to float16 rounding).
    x0, labels = sample_glyphs(20, seed=1, balanced=True)
    sigma = torch.full((20,), 1.0)
    x, c = (
        x0 + torch.randn(x0.shape, generator=torch.Generator().manual_seed(2)),
        F.one_hot(labels, NUM_CLASSES),
    )
    with torch.no_grad():
        direct = load(work / "glyphs-main-ema010.safetensors", dtype=torch.float32)(x, sigma, c.float())
        exported = load(out / asset_name("main", 0.10), dtype=torch.float32)(x, sigma, c.float())
    torch.testing.assert_close(exported, direct, rtol=0, atol=2e-2)
