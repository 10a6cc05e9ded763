"""The Comfy Registry package: ``comfy node validate`` and ``comfy node pack`` (comfy-cli from the
package index) run offline on a copy of the tracked tree, and the archive holds what a ComfyUI
user needs (the node pack, its bundled models, the web extension, the workflows with their
thumbnails, README, LICENSE, pyproject.toml) and nothing of tests, CI, benchmarks or tools.

comfy-cli is taken from ``$COMFY_CLI``, else from a virtual environment in the cache directory
(``$AUTOGUIDANCE_CACHE``, default ~/.cache/comfyui-autoguidance), installed there on first use;
where it cannot be installed the tests skip with the reason.
"""

from __future__ import annotations

import ast
import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import PurePosixPath

import pytest

from .conftest import REPO

tomllib = pytest.importorskip("tomllib", reason="tomllib (Python 3.11+) reads pyproject.toml")

CACHE = os.environ.get("AUTOGUIDANCE_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "comfyui-autoguidance"
)
PACK = {
    "__init__.py",
    "pyproject.toml",
    "README.md",
    "LICENSE",
    "nodes",
    "guidance",
    "edm2",
    "web",
    "workflows",
}
NEVER = ("tests/", ".ci/", "benchmarks/", ".benchmarks/", "tools/", "docs/", "demos/", "research/")
THUMBNAIL_BYTES = 60_000
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def tracked_files() -> list[str]:
    out = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        pytest.skip(f"not a git checkout ({out.stderr.strip()}): comfy node pack packs git-tracked files")
    return [f for f in out.stdout.split("\0") if f and (REPO / f).is_file()]


@pytest.fixture(scope="module")
def comfy_cli() -> str:
    if os.environ.get("COMFY_CLI"):
        return os.environ["COMFY_CLI"]
    venv = os.path.join(CACHE, "comfy-cli-venv")
    exe = os.path.join(venv, "bin", "comfy")
    if not os.path.exists(exe):
        steps = [
            [sys.executable, "-m", "venv", venv],
            [os.path.join(venv, "bin", "pip"), "install", "-q", "comfy-cli"],
        ]
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True, timeout=600, check=False)
            if done.returncode != 0:
                shutil.rmtree(venv, ignore_errors=True)
                pytest.skip(
                    f"comfy-cli could not be installed ({' '.join(step[:3])}): {done.stderr.strip()[-300:]}"
                )
    return exe


def run_comfy(comfy_cli: str, cwd, *args: str) -> subprocess.CompletedProcess:
    """comfy-cli with no way out: telemetry off, a throw-away home, every proxy pointing nowhere."""
    nowhere = "http://127.0.0.1:9"
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "HOME": str(cwd.parent / "home"),
        "HTTP_PROXY": nowhere,
        "HTTPS_PROXY": nowhere,
        "http_proxy": nowhere,
        "https_proxy": nowhere,
        "NO_PROXY": "",
        "no_proxy": "",
    }
    return subprocess.run(
        [comfy_cli, "--skip-prompt", "--no-json", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.fixture(scope="module")
def packed(comfy_cli, tmp_path_factory) -> tuple[zipfile.ZipFile, str]:
    """(the archive of a copy of the tracked tree, validate's output)."""
    tree = tmp_path_factory.mktemp("pack") / "comfyui-autoguidance"
    for name in tracked_files():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, tree / name)
    for step in (["init", "-q"], ["add", "-A"]):
        subprocess.run(["git", *step], cwd=tree, check=True, capture_output=True)
    validated = run_comfy(comfy_cli, tree, "node", "validate")
    assert validated.returncode == 0, validated.stdout + validated.stderr
    packed = run_comfy(comfy_cli, tree, "node", "pack")
    assert packed.returncode == 0 and (tree / "node.zip").is_file(), packed.stdout + packed.stderr
    return zipfile.ZipFile(io.BytesIO((tree / "node.zip").read_bytes())), validated.stdout


def test_validate_passes_without_warnings(packed):
    _, out = packed
    assert "All validation checks passed" in out and "warning" not in out.lower(), out


def test_archive_holds_the_pack_and_nothing_else(packed):
    archive, _ = packed
    names = set(archive.namelist())
    assert {PurePosixPath(n).parts[0] for n in names} == PACK
    assert not [n for n in names if n.startswith(NEVER)]
    wanted = {f for f in tracked_files() if PurePosixPath(f).parts[0] in PACK}
    assert wanted == names, sorted(wanted ^ names)  # every tracked file of the pack, no more
    models = [n for n in names if n.startswith("edm2/assets/") and n.endswith(".safetensors")]
    assert len(models) >= 3, models  # the bundled digits trio
    assert sum(i.file_size for i in archive.infolist()) < 8_000_000


def _module_in(names: set[str], path: PurePosixPath) -> bool:
    return bool({f"{path}.py", f"{path}/__init__.py"} & names)


def test_every_relative_import_resolves_inside_the_archive(packed):
    archive, _ = packed
    names = set(archive.namelist())
    for name in (n for n in names if n.endswith(".py")):
        for node in ast.walk(ast.parse(archive.read(name))):
            if not (isinstance(node, ast.ImportFrom) and node.level):
                continue
            base = PurePosixPath(name).parent
            for _ in range(node.level - 1):
                base = base.parent
            if node.module:
                found = _module_in(names, base.joinpath(*node.module.split(".")))
            else:  # from . import x: x is a module, or a name of the package's __init__
                found = _module_in(names, base) or all(_module_in(names, base / a.name) for a in node.names)
            assert found, (
                f"{name}: from {'.' * node.level}{node.module or ''} import ... is not in the archive"
            )


def test_every_workflow_has_a_small_thumbnail(packed):
    from PIL import Image

    archive, _ = packed
    workflows = sorted(n for n in archive.namelist() if n.startswith("workflows/") and n.endswith(".json"))
    assert workflows
    for name in workflows:
        jpg = name.removesuffix(".json") + ".jpg"
        assert jpg in archive.namelist(), f"{name} has no thumbnail {jpg}"
        data = archive.read(jpg)
        assert len(data) < THUMBNAIL_BYTES, (jpg, len(data))
        with Image.open(io.BytesIO(data)) as img:
            # square Templates-browser cards; their exact size is tools/make_thumbnails.py's (tests/web)
            assert img.format == "JPEG" and img.size[0] == img.size[1], (jpg, img.format, img.size)


def test_registry_metadata():
    comfy = PYPROJECT["tool"]["comfy"]
    assert comfy["requires-comfyui"] == ">=0.3.64"  # the oldest ComfyUI the tests run against
    repository = PYPROJECT["project"]["urls"]["Repository"]
    assert repository == "https://github.com/comfyui-autoguidance/comfyui-autoguidance"
    raw = repository.replace("https://github.com/", "https://raw.githubusercontent.com/") + "/main/"
    assert comfy["Icon"].startswith(raw), comfy["Icon"]
    icon = REPO / comfy["Icon"].removeprefix(raw)
    from PIL import Image

    with Image.open(icon) as img:
        assert img.format == "PNG" and img.size[0] == img.size[1] <= 400, (img.format, img.size)
