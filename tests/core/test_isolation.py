"""guidance/ and edm2/ are pure PyTorch: they import with ComfyUI made unimportable."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parent
BLOCKER = textwrap.dedent(
    """
    import importlib.abc, sys
    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            top = name.split('.')[0]
            if top in ('comfy', 'comfy_api', 'comfy_extras', 'folder_paths', 'nodes', 'server', 'execution'):
                raise ImportError(f'blocked ComfyUI module {name}')
    sys.meta_path.insert(0, Block())
    """
)


@pytest.mark.parametrize("module", ["comfyui_autoguidance.guidance", "comfyui_autoguidance.edm2"])
def test_core_packages_import_without_comfyui(module):
    code = BLOCKER + textwrap.dedent(
        f"""
        import {module}
        bad = [m for m in sys.modules if m.split('.')[0] in ('comfy', 'comfy_api', 'nodes')]
        assert not bad, bad
        print('ok')
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_package_root_does_not_expose_top_level_nodes():
    code = "import comfyui_autoguidance, importlib.util\nprint(importlib.util.find_spec('nodes'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd="/")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "None"


def test_core_tier_collects_without_comfyui():
    """Every tests/core module imports with ComfyUI unimportable, in its own process: true in any order.

    Checking this process's ``sys.modules`` would depend on whether a tests/nodes test ran first.
    """
    code = BLOCKER + textwrap.dedent(
        f"""
        import pytest
        rc = pytest.main(["--collect-only", "-q", "-p", "no:randomly", {str(CORE)!r}])
        bad = [m for m in sys.modules if m.split('.')[0] in ('comfy', 'comfy_api', 'nodes')]
        assert rc == 0 and not bad, (rc, bad)
        print('ok')
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=CORE
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")
