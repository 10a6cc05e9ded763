from __future__ import annotations

import pytest

from ..conftest import comfyui_path  # noqa: TID252
from .live_server import start_server

NOT_EDM2 = "not-an-edm2-model.safetensors"
LATENT_EDM2 = "tiny-latent-edm2.safetensors"


def seed_models(base) -> None:
    """Files the bad-input tests point nodes at, put in place before the server lists its models:
    a safetensors that is not EDM2, and a tiny 4-channel latent EDM2 (no pair with the 1-channel digits)."""
    import torch
    from safetensors.torch import save_file

    from comfyui_autoguidance.edm2 import EDM2, save

    folder = base / "models" / "edm2"
    folder.mkdir(parents=True, exist_ok=True)
    save_file({"model.diffusion_model.input_blocks.0.0.weight": torch.zeros(4, 4)}, str(folder / NOT_EDM2))
    torch.manual_seed(0)
    save(EDM2(img_resolution=16, img_channels=4, label_dim=10, model_channels=16, channel_mult=[1, 2], num_blocks=1,
              attn_resolutions=[8]), folder / LATENT_EDM2)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("comfy-base")
    seed_models(base)
    srv = start_server(comfyui_path(), base)
    yield srv
    srv.stop()
