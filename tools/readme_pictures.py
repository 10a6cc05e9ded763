"""Refresh the README's pictures made by a live ComfyUI: run the tests that draw them, copy them to docs/.

    COMFYUI_PATH=/path/to/ComfyUI python tools/readme_pictures.py

The tests check the pictures (curves on screen, both inspector images drawn) and leave them under
``out/`` on every run; they never write ``docs/``. This tool is the one step that does.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# docs/ picture: (where its test leaves it, the test that draws it)
PICTURES = {
    "schedule_widget.png": (
        "out/e2e/schedule_widget.png",
        "tests/e2e/test_ui.py::test_screenshot_of_the_schedule_widget_for_the_readme",
    ),
    "pair_inspector.png": (
        "out/pair_inspector.png",
        "tests/server/test_pair_inspector.py::test_pair_inspector_workflow_draws_both_images_and_the_numbers",
    ),
}


def main() -> int:
    tests = [test for _, test in PICTURES.values()]
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", *tests], cwd=REPO)
    if done.returncode != 0:
        print("the tests that draw the pictures failed: docs/ left as it was", file=sys.stderr)
        return done.returncode
    for name, (made, test) in PICTURES.items():
        source = REPO / made
        if not source.is_file():
            print(f"{test} left no {made}: docs/{name} not refreshed", file=sys.stderr)
            return 1
        shutil.copyfile(source, REPO / "docs" / name)
        print(f"docs/{name} <- {made}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
