"""EDM2 networks built by our code inside real ComfyUI sampling, and the EDM2 nodes."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from ..conftest import harness
from .comfy_env import edm2_class_cond, edm2_with_gains, import_comfy, record_steps, run_guider

pytestmark = pytest.mark.comfyui
TINY = harness.TINY_EDM2


@pytest.fixture(scope="module", autouse=True)
def comfy():
    import_comfy()


def tiny_net(seed, channels=16):
    """The tiny EDM2 net with ``channels`` channels, seeded weights, every scalar gain 0.6."""
    return edm2_with_gains({**TINY, "model_channels": channels}, seed, gain=0.6)


def class_cond(index, label_dim=10):
    return edm2_class_cond(index, label_dim)


def test_comfy_edm_wrapping_equals_our_preconditioning():
    from comfyui_autoguidance.nodes.edm2.model import edm2_patcher

    net = tiny_net(0)
    patcher = edm2_patcher(net, pixel_space=False)
    x = torch.randn(2, 4, 8, 8)
    sigma = torch.tensor([0.5, 20.0])
    labels = torch.eye(10)[[3, 7]]
    with torch.no_grad():
        ours = net(x, sigma, labels)
        comfy_out = patcher.model.apply_model(x, sigma, y=labels)
    # ComfyUI's EDM c_in/c_out/c_skip around our UNet vs our own preconditioning: one evaluation's rounding
    assert_close(comfy_out, ours, rtol=0, atol=harness.float32_bound(ours, harness.EPS_FORWARD))


def test_guider_on_edm2_pair_matches_separate_predictions_and_counts_interval():
    import comfy.samplers

    from comfyui_autoguidance.guidance import Constant, Interval
    from comfyui_autoguidance.nodes.edm2.model import edm2_patcher
    from comfyui_autoguidance.nodes.guider import AutoguidanceGuider

    main_net, guide_net = tiny_net(1, 32), tiny_net(2, 16)
    main, guide = edm2_patcher(main_net, False), edm2_patcher(guide_net, False)
    positive = class_cond(4)
    guider = AutoguidanceGuider.execute(
        model=main,
        guide_model=guide,
        positive=positive,
        w=2.1,
        cfg=1.0,
        schedule=Interval(Constant(2.1), 0.28, 5.42),
    ).result[0]
    steps = record_steps(guider)
    run_guider(guider, comfy.samplers.calculate_sigmas(main.get_model_object("model_sampling"), "karras", 12))
    labels = torch.eye(10)[[4]]
    inside = 0
    with torch.no_grad():
        for x, sigma, out in steps:
            d1 = main_net(x, sigma, labels)
            w = 2.1 if 0.28 < sigma.item() <= 5.42 else 1.0
            inside += w != 1.0
            expected = d1 if w == 1.0 else guide_net(x, sigma, labels).lerp(d1, w)
            # D0.lerp(D1, w) vs ComfyUI's D1 + (w − 1)(D1 − D0): a few roundings at the step's scale
            assert_close(out, expected, rtol=0, atol=harness.float32_bound(expected, harness.EPS_FORWARD))
    assert guider.guide_calls == inside and 0 < inside < len(steps)


def test_edm2_models_are_a_known_noise_kind_not_a_measured_one():
    """EDM2's x_σ = x0 + σ·ε: σ_edm is the model's σ as it is, without the measured fallback."""
    from comfyui_autoguidance.nodes.edm2.model import edm2_patcher
    from comfyui_autoguidance.nodes.noise_scale import noise_kind, schedule_sigma

    sampling = edm2_patcher(tiny_net(0), pixel_space=False).get_model_object("model_sampling")
    assert noise_kind(sampling) == "ve"
    sigma = torch.tensor([0.002, 1.0, 80.0])
    assert schedule_sigma(sampling, sigma) is sigma


def test_text_conditioning_into_edm2_is_refused():
    from comfyui_autoguidance.nodes.edm2.model import edm2_patcher
    from comfyui_autoguidance.nodes.guider import AutoguidanceGuider

    main, guide = edm2_patcher(tiny_net(1), False), edm2_patcher(tiny_net(2), False)
    text = [[torch.randn(1, 77, 768), {}]]
    with pytest.raises(
        ValueError, match=r"Autoguidance Guider: 'positive' does not fit EDM2Config.*EDM2 Class Conditioning"
    ):
        AutoguidanceGuider.execute(model=main, guide_model=guide, positive=text, w=2.0, cfg=1.0)


def test_edm2_with_sd15_pair_is_refused_before_loading():
    from comfyui_autoguidance.nodes.edm2.model import edm2_patcher
    from comfyui_autoguidance.nodes.model_patch import AutoguidanceModelPatch

    from .comfy_env import tiny_sd15

    with pytest.raises(
        ValueError,
        match=r"main model EDM2Config \(latent EDM2Latent, 4 ch.*\) and guide model SD15 .*"
        r"different latent formats",
    ):
        AutoguidanceModelPatch.execute(
            model=edm2_patcher(tiny_net(1), False), guide_model=tiny_sd15(3), w=2.0
        )


def test_class_conditioning_vectors():
    from comfyui_autoguidance.nodes.edm2.conditioning import AutoguidanceEDM2ClassConditioning

    cond = AutoguidanceEDM2ClassConditioning.execute(
        class_name="88: macaw",
        class_index=0,
        label_dim=1000,
        second_class_index=207,
        mix=0.25,
        unconditional=False,
    ).result[0]
    labels = cond[0][1]["edm2_labels"]
    assert labels.shape == (1, 1000) and labels[0, 88].item() == 0.75 and labels[0, 207].item() == 0.25
    unc = AutoguidanceEDM2ClassConditioning.execute(
        class_name="88: macaw",
        class_index=0,
        label_dim=1000,
        second_class_index=-1,
        mix=0.0,
        unconditional=True,
    ).result[0]
    assert unc[0][1]["edm2_labels"].abs().sum().item() == 0
    with pytest.raises(ValueError, match=r"class_index must be -1 .* between 0 and 9"):
        class_cond(12)


def test_loader_reads_snapshot_and_refuses_non_edm2(tmp_path):
    import folder_paths

    from comfyui_autoguidance.nodes.edm2.loader import AutoguidanceEDM2Loader, register_folders

    from ..conftest import FIXTURES

    register_folders()
    folder = tmp_path / "edm2"
    folder.mkdir()
    (folder / "tiny.pkl").write_bytes((FIXTURES / "edm2" / "latent16_c10.snapshot.pkl").read_bytes())
    (folder / "other.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    folder_paths.add_model_folder_path("edm2", str(folder))
    patcher = AutoguidanceEDM2Loader.execute(checkpoint="tiny.pkl", weight_dtype="float32").result[0]
    assert patcher.model.label_dim == 10 and patcher.model.latent_format.latent_channels == 4
    with pytest.raises(
        ValueError, match=r"EDM2 Loader: 'other\.safetensors' is not a usable EDM2 checkpoint"
    ):
        AutoguidanceEDM2Loader.execute(checkpoint="other.safetensors", weight_dtype="default")
