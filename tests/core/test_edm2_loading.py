"""Loading official snapshots safely, our safetensors, conversion, and the errors."""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from comfyui_autoguidance.edm2 import EDM2, load, presets
from comfyui_autoguidance.edm2.loading import read_safetensors
from comfyui_autoguidance.edm2.safe_pickle import UnsafePickleError, safe_load

from ..conftest import harness

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "edm2"
SNAPSHOT = FIXTURES / "latent16_c10.snapshot.pkl"


def io_tensors():
    return load_file(FIXTURES / "latent16_c10.io.safetensors")


def snapshot_io_error(net) -> float:
    """Max |D(x; σ, c) − official| on the fixture inputs against the official snapshot's output, in
    units of one evaluation's float32 rounding budget (≤ 1 passes on any CPU; tools/harness.py)."""
    x = io_tensors()
    with torch.no_grad():
        out = net(x["x"], x["sigma"], x["class_labels"])
    official = load_file(FIXTURES / "latent16_c10.snapshot-io.safetensors")["denoised"]
    return (out - official).abs().max().item() / harness.float32_bound(official, harness.EPS_FORWARD)


def test_official_pickle_keeps_float16_and_matches_snapshot_io():
    net = load(SNAPSHOT)
    assert next(net.parameters()).dtype == torch.float16
    assert snapshot_io_error(load(SNAPSHOT, dtype=torch.float32)) <= 1.0


def test_conversion_round_trip_cli(tmp_path):
    out = tmp_path / "edm2-img512-xs-0134217-0.125.safetensors"
    cmd = [sys.executable, "-m", "comfyui_autoguidance.edm2.convert", str(SNAPSHOT), str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "latent16_c10.snapshot.pkl -> " in done.stdout and "10 classes" in done.stdout
    assert snapshot_io_error(load(out, dtype=torch.float32)) <= 1.0
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert again.returncode == 1 and "--force" in again.stderr
    forced = subprocess.run([*cmd, "--force"], capture_output=True, text=True, timeout=120)
    assert forced.returncode == 0, forced.stderr


def test_conversion_drops_official_only_arguments(tmp_path):
    from comfyui_autoguidance.edm2.convert import convert

    convert(SNAPSHOT, tmp_path / "out.safetensors")
    config, _, preset = read_safetensors(tmp_path / "out.safetensors")
    assert preset is None and "use_fp16" not in config


class Evil:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_pickle_that_would_run_code_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"ema": Evil(marker)}))
    with pytest.raises(ValueError, match=r"refusing to load global '(posix|os|nt)\.system'"):
        load(path)
    assert not marker.exists()
    with pytest.raises(UnsafePickleError, match=r"builtins\.eval"):
        safe_load(io.BytesIO(pickle.dumps(eval)))


def test_truncated_snapshot(tmp_path):
    path = tmp_path / "cut.pkl"
    path.write_bytes(SNAPSHOT.read_bytes()[:50_000])
    with pytest.raises(ValueError, match=r"truncated or corrupt.*download it again"):
        load(path)


def test_non_edm2_pickle(tmp_path):
    path = tmp_path / "other.pkl"
    path.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    with pytest.raises(ValueError, match=r"not an EDM2 network snapshot .*found \['weights'\]"):
        load(path)


def test_safetensors_without_metadata(tmp_path):
    path = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(ValueError, match=r"no 'edm2\.config' metadata.*edm2\.convert"):
        load(path)


def test_unsupported_suffix_and_missing_file(tmp_path):
    (tmp_path / "net.ckpt").write_bytes(b"x")
    with pytest.raises(ValueError, match=r"unsupported file type '\.ckpt'"):
        load(tmp_path / "net.ckpt")
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "none.pkl")


@pytest.mark.parametrize(
    ("name", "millions"),
    [
        ("img512-xs", 125),
        ("img512-s", 280),
        ("img512-m", 498),
        ("img512-l", 777),
        ("img512-xl", 1119),
        ("img512-xxl", 1523),
    ],
)
def test_parameter_counts_on_meta_device(name, millions):
    with torch.device("meta"):
        net = EDM2(**presets.config(name))
    assert all(p.is_meta for p in net.parameters())
    assert round(sum(p.numel() for p in net.parameters()) / 1e6) == millions


def test_every_named_config_builds_and_presets_are_consistent():
    for name in presets.NAMED_CONFIGS:
        with torch.device("meta"):
            EDM2(**presets.config(name))
    p = presets.PRESETS["edm2-img512-s-autog-fid"]
    assert (p.main, p.guide, p.guidance, p.kind) == (
        "edm2-img512-s-2147483-0.070.pkl",
        "edm2-img512-xs-0134217-0.125.pkl",
        2.10,
        "autoguidance",
    )
    q = presets.PRESETS["edm2-img512-xxl-autog-fid"]
    assert (q.main, q.guide, q.guidance) == (
        "edm2-img512-xxl-0939524-0.075.pkl",
        "edm2-img512-m-0268435-0.155.pkl",
        2.05,
    )
    assert presets.PRESETS["edm2-img512-s-guid-fid"].kind == "cfg"
    assert presets.config_for_checkpoint("edm2-img512-xs-uncond-2147483-0.045.pkl")["label_dim"] == 0
    with pytest.raises(ValueError, match="unknown name 'img512-huge'"):
        presets.config("img512-huge")


def test_weights_made_under_inference_mode_work_in_and_out_of_it():
    """ComfyUI loads and samples under torch.inference_mode: the weight cache must cope."""
    from comfyui_autoguidance.edm2 import EDM2

    config = harness.tiny_edm2(img_channels=1, label_dim=0, model_channels=8, attn_resolutions=[])
    torch.manual_seed(0)
    reference = EDM2(**config).eval()
    x, sigma = torch.randn(2, 1, 8, 8), torch.tensor([0.5, 3.0])
    with torch.no_grad():
        expected = reference(x, sigma)
    with torch.inference_mode():
        net = EDM2(**config).eval()
        net.load_state_dict(reference.state_dict())
        inside = net(x, sigma)
        inside_again = net(x, sigma)  # from the cache
    with torch.no_grad():
        outside = net(x, sigma)
    for out in (inside, inside_again, outside):
        torch.testing.assert_close(out, expected)
