"""The bundled digits LoRA (``edm2/loras/digits-bold.safetensors``) in real ComfyUI: core's LoraLoader
reads it for our EDM2 model, and the digits-main + LoRA / bare digits-main pair samples over one
loaded model exactly as two separate models would."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from .comfy_env import edm2_class_cond, import_comfy, record_steps

pytestmark = pytest.mark.comfyui

REPO = Path(__file__).resolve().parents[2]
LORA = REPO / "edm2" / "loras" / "digits-bold.safetensors"
MAIN = REPO / "edm2" / "assets" / "digits-main.safetensors"


@pytest.fixture(scope="module", autouse=True)
def comfy():
    import_comfy()
    import comfy.samplers
    import comfy.sd
    import comfy.utils

    return comfy


def digits_main():
    from comfyui_autoguidance.edm2 import load
    from comfyui_autoguidance.nodes.edm2.model import edm2_patcher

    return edm2_patcher(load(MAIN).eval().requires_grad_(False), pixel_space=True)


def with_lora(comfy, patcher, strength=1.0):
    """What LoraLoaderModelOnly does (``comfy.sd.load_lora_for_models`` on the file, model only)."""
    lora = comfy.utils.load_torch_file(str(LORA), safe_load=True)
    return comfy.sd.load_lora_for_models(patcher, None, lora, strength, 0)[0]


def test_loraloader_maps_every_key_onto_the_edm2_model(comfy):
    """ComfyUI's key map for our EDM2Model (``diffusion_model.net.unet.<layer>``) takes every tensor of
    the file: one LoRA patch per block convolution, none left over."""
    import comfy.lora

    file = comfy.utils.load_torch_file(str(LORA), safe_load=True)
    base = digits_main()
    key_map = comfy.lora.model_lora_keys_unet(base.model, {})
    patches = comfy.lora.load_lora(file, key_map)
    layers = {k.rsplit(".", 2)[0] for k in file if k.endswith(".lora_up.weight")}
    assert len(patches) == len(layers) > 10
    assert set(patches) == {f"{layer}.weight" for layer in layers}
    assert set(patches) <= set(base.model.state_dict())


def test_lora_pair_samples_as_two_separate_models(comfy):
    """main = digits-main + the LoRA, guide = the same loaded digits-main: one model in memory (EDM2
    normalises its weights, so the LoRA's layers get a main-pass copy), each step equal to the step
    made from two separately loaded models, and the LoRA really moves D."""
    import comfy.model_management as mm

    from comfyui_autoguidance.nodes.guider import AutoguidanceGuider

    base = digits_main()
    positive = edm2_class_cond(3, 10)
    guider = AutoguidanceGuider.execute(
        model=with_lora(comfy, base), guide_model=base, positive=positive, w=2.0, cfg=1.0
    ).result[0]
    assert guider.guide.model is base.model and guider.model_patcher.get_nested_additional_models() == []
    steps = record_steps(guider)
    sigmas = comfy.samplers.calculate_sigmas(base.get_model_object("model_sampling"), "karras", 4)
    noise = torch.randn(2, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    heun = comfy.samplers.sampler_object("heun")
    guider.sample(noise, torch.zeros_like(noise), heun, sigmas, seed=0, disable_pbar=True)
    mm.unload_all_models()
    main_ref, guide_ref = with_lora(comfy, digits_main()), digits_main()
    mm.load_models_gpu([main_ref, guide_ref])
    labels = positive[0][1]["edm2_labels"]
    worst, effect = 0.0, 0.0
    with torch.no_grad():
        for x, sigma, out in steps:
            d1, d0 = (
                r.model.apply_model(x, sigma, y=labels.expand(x.shape[0], -1)) for r in (main_ref, guide_ref)
            )
            expected = d1 + (d1 - d0)
            worst = max(worst, float((out - expected).abs().max() / expected.abs().max()))
            effect = max(effect, float((d1 - d0).abs().max() / d1.abs().max()))
    mm.unload_all_models()
    assert worst <= 1e-5 < effect / 100, (worst, effect)


def test_lora_folder_is_registered_for_core_loaders(comfy):
    import folder_paths

    import comfyui_autoguidance.nodes.edm2.loader  # noqa: F401  (registers the folders at import)

    assert LORA.name in folder_paths.get_filename_list("loras")
