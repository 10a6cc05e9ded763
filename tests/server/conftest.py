from __future__ import annotations

import pytest

from ..conftest import comfyui_path
from .live_server import seeded_server


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    yield from seeded_server(comfyui_path(), tmp_path_factory.mktemp("comfy-base"))
