"""Run the front end's ES modules under node (Node.js) and read back JSON."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(
    NODE is None, reason="node (Node.js) is not installed: the web/ maths cannot run"
)


def run_js(body: str, data: object = None) -> object:
    """Run ``body`` as an ES module in the repo root with ``DATA`` bound to ``data``; it must
    ``console.log(JSON.stringify(result))`` once."""
    # DATA comes on stdin: a whole /object_info answer is over the argument-length limit.
    script = f"const DATA = JSON.parse((await import('node:fs')).readFileSync(0, 'utf8'));\n{body}"
    out = subprocess.run(
        [NODE, "--input-type=module", "-e", script],
        cwd=REPO,
        input=json.dumps(data),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)
