"""Every benchmark script runs in ``--quick`` mode and prints its table (so none can rot).

The ComfyUI-driven ones skip, with the reason, where ComfyUI is absent."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import comfyui_skip_reason

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = {  # script: (needs ComfyUI, a line its table must contain)
    "edm2_forward.py": (False, "| network | batch |"),
    "guider_overhead.py": (True, "| EDM2 size | direct forwards (s) |"),
    "interval_payback.py": (True, "| schedule | evaluations |"),
    "ag_vs_cfg.py": (True, "| guidance | s / step | vs no guidance |"),
    "memory.py": (True, "| case | peak RSS (MiB) |"),
    "lora_pair.py": (True, "| loader | adapter |"),
    "parallel_guide.py": (True, "| case | w = 1 (s) | serial (s) | concurrent (s) |"),
}


def test_every_script_is_covered():
    assert {p.name for p in BENCH.glob("*.py") if not p.name.startswith("_")} == set(SCRIPTS)


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_quick_run_prints_its_table(script):
    needs_comfy, header = SCRIPTS[script]
    reason = comfyui_skip_reason() if needs_comfy else None
    if reason:
        pytest.skip(f"{reason} (this benchmark drives ComfyUI)")
    out = subprocess.run(
        [sys.executable, str(BENCH / script), "--quick"],
        cwd=BENCH,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    assert header in out.stdout, out.stdout
    rows = [line for line in out.stdout.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) >= 2, out.stdout  # a header and at least one measured row
