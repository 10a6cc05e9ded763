"""The main/guide pair check across architectures (nodes/pair/checks.py), on the tiny families.

Same latent space and noise kind: accepted, whatever the architecture or flow shift. Another
latent space (SDXL + SD1.5; SD3 + Flux, both 16 channels) or another noise kind (AuraFlow's flow
on SDXL latents + SDXL): refused by both nodes, naming both models, before anything is loaded.
"""

from __future__ import annotations

import pytest
import torch

from . import families as fam
from . import family_runs as runs
from .comfy_env import import_comfy

pytestmark = pytest.mark.comfyui

NODES = ("AutoguidanceGuider", "AutoguidanceModelPatch")


@pytest.fixture(scope="module", autouse=True)
def comfy():
    import_comfy()
    import comfy.model_management

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield comfy
    torch.set_num_threads(threads)


def family(name: str) -> fam.Family:
    return next(f for f in (*fam.FAMILIES, fam.SD35_LARGE, fam.SD35_MEDIUM) if f.name == name)


def run_node(node_name: str, main, guide, positive):
    from comfyui_autoguidance.nodes.guider import AutoguidanceGuider
    from comfyui_autoguidance.nodes.model_patch import AutoguidanceModelPatch

    if node_name == "AutoguidanceGuider":
        return AutoguidanceGuider.execute(
            model=main, guide_model=guide, positive=positive, w=2.0, cfg=1.0
        ).result[0]
    return AutoguidanceModelPatch.execute(model=main, guide_model=guide, w=2.0).result[0]


@pytest.fixture
def loads(monkeypatch):
    """Every call of ComfyUI's load_models_gpu (the spy forwards to the real one)."""
    import comfy.model_management as mm

    calls, original = [], mm.load_models_gpu

    def spy(models, *args, **kwargs):
        calls.append(list(models))
        return original(models, *args, **kwargs)

    monkeypatch.setattr(mm, "load_models_gpu", spy)
    return calls


REFUSED = [
    (
        "sdxl",
        "sd15",
        r"main model SDXL \(latent SDXL, 4 ch, x = x0 \+ σ·noise\) and guide model SD15 \(latent SD15",
        r"different latent formats \(SDXL vs SD15\)",
    ),
    (
        "sd3",
        "flux_dev",
        r"main model SD3 \(latent SD3, 16 ch, flow matching\) and guide model Flux \(latent Flux, 16 ch",
        r"different latent formats \(SD3 vs Flux\)",
    ),
    (
        "auraflow",
        "sdxl",
        r"main model AuraFlow \(latent SDXL, 4 ch, flow matching\) and guide model SDXL",
        r"different noise parameterisations \(flow matching vs x = x0 \+ σ·noise\)",
    ),
]


@pytest.mark.parametrize("node_name", NODES)
@pytest.mark.parametrize(
    ("main_name", "guide_name", "names", "problem"), REFUSED, ids=[f"{m}+{g}" for m, g, *_ in REFUSED]
)
def test_other_latent_space_or_noise_kind_is_refused_before_loading(
    node_name, main_name, guide_name, names, problem, loads
):
    main, guide = runs.build(family(main_name), 1), runs.build(family(guide_name), 2)
    prefix = (
        "Autoguidance Guider" if node_name == "AutoguidanceGuider" else r"Autoguidance \(KSampler patch\)"
    )
    with pytest.raises(
        ValueError, match=rf"^{prefix}: {names}.* have {problem}.*\. Pick a guide of the same family"
    ):
        run_node(node_name, main, guide, runs.conditioning(family(main_name), 1))
    assert loads == []


@pytest.mark.parametrize("node_name", NODES)
def test_sd35_large_guided_by_medium_is_accepted(node_name, loads):
    large, medium = runs.build(fam.SD35_LARGE, 1), runs.build(fam.SD35_MEDIUM, 2)
    assert type(large.model.diffusion_model) is type(medium.model.diffusion_model)
    assert (
        large.model.diffusion_model.x_block_self_attn_layers
        != medium.model.diffusion_model.x_block_self_attn_layers
    )
    assert run_node(node_name, large, medium, runs.conditioning(fam.SD35_LARGE, 1)) is not None
    assert loads == []  # accepted, and still nothing loaded until sampling


@pytest.mark.parametrize("node_name", NODES)
def test_flux_pair_with_another_shift_is_accepted(node_name):
    """ModelSamplingFlux on the main (shift for 64×64) leaves the guide at Flux's default 1.15: the σ
    tables differ by far more than 5 %, the meaning of σ does not."""
    from comfy_extras.nodes_model_advanced import ModelSamplingFlux

    flux = family("flux_dev")
    main = runs._node_output(
        ModelSamplingFlux, model=runs.build(flux, 1), max_shift=1.15, base_shift=0.5, width=64, height=64
    )[0]
    guide = runs.build(flux, 2)
    m, g = (float(p.get_model_object("model_sampling").sigma_min) for p in (main, guide))
    assert abs(m - g) / g > 0.05
    assert run_node(node_name, main, guide, runs.conditioning(flux, 1)) is not None


def test_flow_pair_with_another_noise_multiplier_is_refused():
    """ComfyUI 0.4+: CONST's noise_scale k is part of what σ means (x = (1 − σ)·x0 + σ·k·ε)."""
    sd3 = family("sd3")
    main, guide = runs.build(sd3, 1), runs.build(sd3, 2)
    sampling = guide.get_model_object("model_sampling")
    if not hasattr(sampling, "set_noise_scale"):
        pytest.skip("CONST has no noise_scale before ComfyUI 0.4")
    import copy

    scaled = copy.deepcopy(sampling)
    scaled.set_noise_scale(0.5)
    guide = guide.clone()
    guide.add_object_patch("model_sampling", scaled)
    with pytest.raises(ValueError, match=r"different noise multipliers \(1 vs 0\.5\)"):
        run_node("AutoguidanceModelPatch", main, guide, None)


def width_pairs() -> list[tuple[fam.Family, fam.Family]]:
    """(main, guide) reading text embeddings of different widths: Klein 9B over 4B (0.4+), and an
    SD1.5-style UNet over one with another ``context_dim`` (any version)."""
    sd15 = family("sd15")
    narrow = fam.Family(
        "sd15_48", "SD15", {**sd15.unet_config, "context_dim": 48}, fam.cross(48), sd15.latent
    )
    found = [(sd15, narrow)]
    if fam.is_current():
        found.append((fam.FLUX2_KLEIN_9B, fam.FLUX2_KLEIN_4B))
    return found


@pytest.mark.parametrize("node_name", NODES)
def test_guide_reading_another_text_width_needs_guide_positive(node_name, loads):
    """Must-show 4: without 'guide_positive' the main model's prompt cannot reach a guide with another
    text encoder; both nodes refuse at execute time, naming the socket and both widths, nothing loaded
    (it used to fail inside the first step with a 'mat1 and mat2' shape error)."""
    from comfyui_autoguidance.nodes import _api

    for main_family, guide_family in width_pairs():
        main, guide = runs.build(main_family, 1), runs.build(guide_family, 2)
        widths = _api.context_width(main.model), _api.context_width(guide.model)
        assert widths[0] != widths[1] and None not in widths
        pattern = (
            rf"reads text embeddings {widths[1]} wide, the main model .* {widths[0]} wide.*'guide_positive'"
        )
        with pytest.raises(ValueError, match=pattern):
            run_node(node_name, main, guide, runs.conditioning(main_family, 1))
        assert loads == []
        guide_positive = runs.conditioning(guide_family, 2)
        if node_name == "AutoguidanceGuider":
            from comfyui_autoguidance.nodes.guider import AutoguidanceGuider

            AutoguidanceGuider.execute(
                model=main, guide_model=guide, positive=runs.conditioning(main_family, 1), w=2.0, cfg=1.0,
                guide_positive=guide_positive,
            )  # fmt: skip
        else:
            from comfyui_autoguidance.nodes.model_patch import AutoguidanceModelPatch

            AutoguidanceModelPatch.execute(
                model=main, guide_model=guide, w=2.0, guide_positive=guide_positive
            )
