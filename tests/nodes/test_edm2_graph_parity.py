"""The EDM2 autoguidance graph *is* the paper's sampler.

EDM2 Loader ×2 → Autoguidance Guider → SamplerCustomAdvanced with ``heun``,
``KarrasScheduler(8, 80, 0.002, 7)`` and ``RandomNoise(1234)``, run through ComfyUI's own node
classes, against the official ``edm_sampler`` output on the same weights and noise
(tests/fixtures/edm2/sampler_latent16_autoguidance.safetensors). The fixture networks are
converted to our ``.safetensors`` files by our own code first, and loaded by our loader node.
The bound is float32 rounding at the output's scale (tools/harness.py, ``EPS_SAMPLER``); ComfyUI's
default first-step noise scaling, a real error, must miss it by a wide margin.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from ..conftest import harness
from .comfy_env import import_comfy

pytestmark = pytest.mark.comfyui
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "edm2"
MAIN, GUIDE = "latent16_c10", "latent16_c10_guide"


def run_node(cls, **inputs):
    """Execute one node class as ComfyUI's executor does (V3 ``execute`` or V1 ``FUNCTION``)."""
    if hasattr(cls, "define_schema"):
        return cls.execute(**inputs).result
    return getattr(cls(), cls.FUNCTION)(**inputs)


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    """The official fixture networks, converted to our files and registered under models/edm2."""
    import_comfy()
    import folder_paths

    from comfyui_autoguidance import edm2
    from comfyui_autoguidance.nodes.edm2.loader import FOLDER, register_folders

    folder = tmp_path_factory.mktemp("edm2_models")
    for name in (MAIN, GUIDE):
        config = json.loads((FIXTURES / f"{name}.json").read_text())["config"]
        net = edm2.loading.build(config, load_file(FIXTURES / f"{name}.weights.safetensors"))
        edm2.save(net, folder / f"{name}.safetensors")
    register_folders()
    folder_paths.add_model_folder_path(FOLDER, str(folder))
    return folder


def sample_graph(w: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The graph of the module docstring; returns (noise drawn, output in EDM2's normalised latents)."""
    from comfy_extras import nodes_custom_sampler as custom

    from comfyui_autoguidance.edm2 import latents
    from comfyui_autoguidance.nodes.edm2.conditioning import BY_INDEX, AutoguidanceEDM2ClassConditioning
    from comfyui_autoguidance.nodes.edm2.latent import AutoguidanceEDM2EmptyLatent
    from comfyui_autoguidance.nodes.edm2.loader import AutoguidanceEDM2Loader
    from comfyui_autoguidance.nodes.guider import AutoguidanceGuider

    (main,) = run_node(AutoguidanceEDM2Loader, checkpoint=f"{MAIN}.safetensors", weight_dtype="float32")
    (guide,) = run_node(AutoguidanceEDM2Loader, checkpoint=f"{GUIDE}.safetensors", weight_dtype="float32")
    (positive,) = run_node(
        AutoguidanceEDM2ClassConditioning,
        class_name=BY_INDEX,
        class_index=3,
        label_dim=10,
        second_class_index=-1,
        mix=0.0,
        unconditional=False,
    )
    (guider,) = run_node(AutoguidanceGuider, model=main, guide_model=guide, positive=positive, w=w, cfg=1.0)
    (noise,) = run_node(custom.RandomNoise, noise_seed=1234)
    (sampler,) = run_node(custom.KSamplerSelect, sampler_name="heun")
    (sigmas,) = run_node(custom.KarrasScheduler, steps=8, sigma_max=80.0, sigma_min=0.002, rho=7.0)
    (latent,) = run_node(AutoguidanceEDM2EmptyLatent, channels=4, size=16, batch_size=2)
    output, _ = run_node(
        custom.SamplerCustomAdvanced,
        noise=noise,
        guider=guider,
        sampler=sampler,
        sigmas=sigmas,
        latent_image=latent,
    )
    drawn = noise.generate_noise(latent)
    return drawn, latents.raw_to_normalized(output["samples"])  # the LATENT holds raw VAE latents


def golden() -> dict[str, torch.Tensor]:
    return load_file(FIXTURES / "sampler_latent16_autoguidance.safetensors")


@pytest.mark.parametrize(("w", "key"), [(2.0, "out_guided"), (1.0, "out_unguided")])
def test_edm2_graph_equals_official_edm_sampler(model_files, w, key):
    expected = golden()
    drawn, out = sample_graph(w)
    assert torch.equal(drawn, expected["noise"])  # RandomNoise(1234) is the fixture's noise
    bound = harness.float32_bound(expected[key], harness.EPS_SAMPLER)
    assert (out - expected[key]).abs().max().item() <= bound


def test_bound_catches_comfyui_default_noise_scaling(model_files, monkeypatch):
    """With ComfyUI's EPS first step (n·√(1 + σ_max²), not σ_max·n) the graph is off by far more than
    the bound: the bound is loose enough for other CPUs and tight enough for a real error."""
    from comfyui_autoguidance.nodes.edm2 import model as edm2_model

    def comfyui_default(self, sigma, noise, latent_image, max_denoise=False):
        scale = torch.sqrt(1.0 + sigma**2) if max_denoise else sigma
        return latent_image + noise * scale.reshape(sigma.shape[:1] + (1,) * (noise.ndim - 1))

    monkeypatch.setattr(edm2_model.EDMNoiseScaling, "noise_scaling", comfyui_default)
    expected = golden()["out_guided"]
    error = (sample_graph(2.0)[1] - expected).abs().max().item()
    assert error > 5 * harness.float32_bound(expected, harness.EPS_SAMPLER), error
