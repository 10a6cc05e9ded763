"""A flow-model pair through a live ComfyUI server: stock UNETLoader, our guider and patch, stock samplers.

ComfyUI 0.3.64: SD3.5-Large-shaped main, SD3.5-Medium-shaped guide. ComfyUI 0.4+ (0.33.0): Flux.2
Klein-9B-shaped main, Klein-4B-shaped guide with its own (narrower) text conditioning. The tiny
models are saved to the server's ``models/diffusion_models`` and found by model detection; the
hand-made conditioning comes in through a test-only node written into the throw-away base
directory (no text encoder is small enough to build). The server's latents must equal the same
graph run in this process.
"""

from __future__ import annotations

import textwrap

import pytest
import torch
from torch.testing import assert_close

from ..conftest import comfyui_path
from ..nodes import families as fam
from ..nodes import family_runs as runs
from ..nodes.comfy_env import import_comfy
from .live_server import start_server
from .workflow_api import wait_for

pytestmark = [pytest.mark.comfyui, pytest.mark.server]

CONDITIONING_NODE = textwrap.dedent('''
    """Test-only: CONDITIONING from a safetensors file in the input folder (cross_attn + extras)."""
    import os

    import folder_paths
    from safetensors.torch import load_file


    class AutoguidanceTestConditioning:
        @classmethod
        def INPUT_TYPES(cls):
            return {"required": {"file": ("STRING", {"default": ""})}}

        RETURN_TYPES = ("CONDITIONING",)
        FUNCTION = "load"
        CATEGORY = "testing"

        def load(self, file):
            tensors = load_file(os.path.join(folder_paths.get_input_directory(), file))
            cross = tensors.pop("cross_attn")
            return ([[cross, tensors]],)


    NODE_CLASS_MAPPINGS = {"AutoguidanceTestConditioning": AutoguidanceTestConditioning}
''')


def the_pair() -> fam.Pair:
    return next(
        p
        for p in fam.ALL_PAIRS
        if p.name == ("flux2_klein_9b+flux2_klein_4b" if fam.is_current() else "sd35_large+sd35_medium")
    )


@pytest.fixture(scope="module")
def setup(tmp_path_factory, monkeypatch_module):
    """Models, conditioning and the test node in a fresh base directory, then the server."""
    from safetensors.torch import save_file

    import_comfy()
    pair = the_pair()
    base = tmp_path_factory.mktemp("comfy-families")
    main, guide = runs.build(pair.main, 1), runs.build(pair.guide, 2)
    files = {
        role: runs.save_unet(model, base / "models" / "diffusion_models", f"{role}-{pair.name}")
        for role, model in (("main", main), ("guide", guide))
    }
    conds = {
        "positive": pair.main.cond(10),
        "negative": pair.main.cond(11),
        "guide_positive": pair.guide.cond(12),
    }
    (base / "input").mkdir(parents=True, exist_ok=True)
    for name, cond in conds.items():
        save_file(
            {"cross_attn": cond[0][0].contiguous(), **{k: v.contiguous() for k, v in cond[0][1].items()}},
            str(base / "input" / f"{name}.safetensors"),
        )
    node_dir = base / "custom_nodes" / "autoguidance_test_conditioning"
    node_dir.mkdir(parents=True)
    (node_dir / "__init__.py").write_text(CONDITIONING_NODE)
    monkeypatch_module.setenv("OMP_NUM_THREADS", "1")  # tiny models: one thread each
    server = start_server(comfyui_path(), base)
    try:
        yield pair, server, files, conds, (main, guide)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def prompt_for(pair: fam.Pair, files: dict) -> dict:
    """Guider (AG + CFG on (0.28, 5.42]) → SamplerCustomAdvanced, and patch → KSampler; both saved."""
    latent_node = (
        {"class_type": "EmptyFlux2LatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}}
        if fam.is_current()
        else {"class_type": "EmptySD3LatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}}
    )
    guide_positive = {"guide_positive": ["gp", 0]} if pair.own_guide_conditioning else {}
    return {
        "main": {
            "class_type": "UNETLoader",
            "inputs": {"unet_name": files["main"], "weight_dtype": "default"},
        },
        "guide": {
            "class_type": "UNETLoader",
            "inputs": {"unet_name": files["guide"], "weight_dtype": "default"},
        },
        "pos": {"class_type": "AutoguidanceTestConditioning", "inputs": {"file": "positive.safetensors"}},
        "neg": {"class_type": "AutoguidanceTestConditioning", "inputs": {"file": "negative.safetensors"}},
        "gp": {
            "class_type": "AutoguidanceTestConditioning",
            "inputs": {"file": "guide_positive.safetensors"},
        },
        "interval": {
            "class_type": "AutoguidanceScheduleInterval",
            "inputs": {"w": 3.0, "sigma_lo": 0.28, "sigma_hi": 5.42},
        },
        "guider": {
            "class_type": "AutoguidanceGuider",
            "inputs": {
                "model": ["main", 0],
                "guide_model": ["guide", 0],
                "positive": ["pos", 0],
                "negative": ["neg", 0],
                "w": 2.0,
                "cfg": 1.0,
                "cfg_schedule": ["interval", 0],
                **guide_positive,
            },
        },
        "noise": {"class_type": "RandomNoise", "inputs": {"noise_seed": 3}},
        "sampler": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}},
        "sigmas": {
            "class_type": "BasicScheduler",
            "inputs": {"model": ["main", 0], "scheduler": "simple", "steps": 6, "denoise": 1.0},
        },
        "latent": latent_node,
        "run": {
            "class_type": "SamplerCustomAdvanced",
            "inputs": {
                "noise": ["noise", 0],
                "guider": ["guider", 0],
                "sampler": ["sampler", 0],
                "sigmas": ["sigmas", 0],
                "latent_image": ["latent", 0],
            },
        },
        "save_guider": {
            "class_type": "SaveLatent",
            "inputs": {"samples": ["run", 0], "filename_prefix": "families/guider"},
        },
    }


def with_patch(prompt: dict) -> dict:
    return {
        **prompt,
        "patch": {
            "class_type": "AutoguidanceModelPatch",
            "inputs": {"model": ["main", 0], "guide_model": ["guide", 0], "w": 2.0},
        },
        "ksampler": {
            "class_type": "KSampler",
            "inputs": {
                "model": ["patch", 0],
                "seed": 3,
                "steps": 6,
                "cfg": 3.0,
                "sampler_name": "euler",
                "scheduler": "simple",
                "positive": ["pos", 0],
                "negative": ["neg", 0],
                "latent_image": ["latent", 0],
                "denoise": 1.0,
            },
        },
        "save_patch": {
            "class_type": "SaveLatent",
            "inputs": {"samples": ["ksampler", 0], "filename_prefix": "families/patch"},
        },
    }


def saved_latent(server, entry: dict, node: str) -> torch.Tensor:
    from safetensors.torch import load_file

    info = entry["outputs"][node]["latents"][0]
    return load_file(str(server.base / "output" / info["subfolder"] / info["filename"]))["latent_tensor"]


def test_pair_runs_on_a_live_server_as_in_process(setup):
    pair, server, files, conds, (main, guide) = setup
    prompt = prompt_for(pair, files) if pair.own_guide_conditioning else with_patch(prompt_for(pair, files))
    status, reply = server.post("/prompt", {"prompt": prompt})
    assert status == 200, reply
    entry = wait_for(server, reply["prompt_id"])
    assert entry["status"]["status_str"] == "success", entry["status"]
    got = saved_latent(server, entry, "save_guider")
    assert torch.isfinite(got).all()

    from comfyui_autoguidance.nodes.guider import AutoguidanceGuider
    from comfyui_autoguidance.nodes.schedules import SCHEDULE_NODES

    interval = (
        SCHEDULE_NODES["AutoguidanceScheduleInterval"].execute(w=3.0, sigma_lo=0.28, sigma_hi=5.42).result[0]
    )
    guider = AutoguidanceGuider.execute(
        model=main,
        guide_model=guide,
        positive=conds["positive"],
        negative=conds["negative"],
        w=2.0,
        cfg=1.0,
        cfg_schedule=interval,
        guide_positive=conds["guide_positive"] if pair.own_guide_conditioning else None,
    ).result[0]
    latent = runs.run_node(
        "comfy_extras.nodes_flux" if fam.is_current() else "comfy_extras.nodes_sd3",
        "EmptyFlux2LatentImage" if fam.is_current() else "EmptySD3LatentImage",
        width=64,
        height=64,
        batch_size=1,
    )[0]
    expected = runs.sample_with_guider(main, guider, latent, steps=6, seed=3)["samples"]
    # the server's process against this one, same CPU: 6 steps of float32 rounding, ~100 eps of scale
    assert_close(got, expected, rtol=1e-4, atol=1e-4)
    if not pair.own_guide_conditioning:
        assert torch.isfinite(saved_latent(server, entry, "save_patch")).all()
