"""Node-level checks and schedule nodes through their real V3 classes."""

from __future__ import annotations

import pytest
import torch

from .comfy_env import import_comfy, text_cond, tiny_sd15

pytestmark = pytest.mark.comfyui


@pytest.fixture(scope="module", autouse=True)
def comfy():
    import_comfy()
    import comfy.model_management

    return comfy


def loaded_patchers():
    import comfy.model_management as mm

    # A LoadedModel holds its patcher weakly: entries whose patcher is gone are not loaded models.
    return [lm.model for lm in mm.current_loaded_models if lm.model is not None]


@pytest.mark.parametrize("node_name", ["AutoguidanceGuider", "AutoguidanceModelPatch"])
def test_mismatched_latent_channels_fail_before_loading(node_name):
    import comfy.latent_formats

    from comfyui_autoguidance.nodes.guider import AutoguidanceGuider
    from comfyui_autoguidance.nodes.model_patch import AutoguidanceModelPatch

    main = tiny_sd15(seed=1, channels=16, latent_format=comfy.latent_formats.SD3())
    guide = tiny_sd15(seed=2)
    before = loaded_patchers()
    node = {"AutoguidanceGuider": AutoguidanceGuider, "AutoguidanceModelPatch": AutoguidanceModelPatch}[
        node_name
    ]
    kwargs = {"model": main, "guide_model": guide, "w": 2.0}
    if node is AutoguidanceGuider:
        kwargs |= {"positive": text_cond(1), "cfg": 1.0}
    with pytest.raises(
        ValueError,
        match=r"main model .*16 ch.* and guide model .*4 ch.* different latent channels "
        r"\(16 vs 4\)\. Pick a guide of the same family",
    ):
        node.execute(**kwargs)
    assert loaded_patchers() == before
    assert all(p.model is not main.model and p.model is not guide.model for p in loaded_patchers())


def test_mismatched_latent_format_same_channels():
    import comfy.latent_formats

    from comfyui_autoguidance.nodes.model_patch import AutoguidanceModelPatch

    main = tiny_sd15(seed=1)
    guide = tiny_sd15(seed=2, latent_format=comfy.latent_formats.SDXL())
    with pytest.raises(
        ValueError, match=r"Autoguidance \(KSampler patch\): .*different latent formats \(SD15 vs SDXL\)"
    ):
        AutoguidanceModelPatch.execute(model=main, guide_model=guide, w=2.0)


def test_schedule_nodes_build_and_validate():
    from comfyui_autoguidance.guidance import Interval, Knots
    from comfyui_autoguidance.nodes.schedules import SCHEDULE_NODES

    n = SCHEDULE_NODES

    interval = n["AutoguidanceScheduleInterval"].execute(w=2.0, sigma_lo=0.28, sigma_hi=5.42).result[0]
    assert isinstance(interval, Interval)
    assert interval.weight(torch.tensor([0.28, 1.0, 5.42, 6.0])).tolist() == [1.0, 2.0, 2.0, 1.0]
    msg = n["AutoguidanceScheduleInterval"].validate_inputs(w=2.0, sigma_lo=5.0, sigma_hi=1.0)
    assert msg.startswith("Guidance Schedule (Interval): interval schedule: sigma_lo must be below sigma_hi")
    assert n["AutoguidanceScheduleInterval"].validate_inputs(w=2.0, sigma_lo=0.28, sigma_hi=5.42) is True

    knots = (
        n["AutoguidanceScheduleKnots"]
        .execute(
            sigmas="80, 5, 1, 0.1",
            weights="1.5, 2.5, 2.0, 1.0",
        )
        .result[0]
    )
    assert (
        isinstance(knots, Knots)
        and knots.sigmas == (0.1, 1.0, 5.0, 80.0)
        and knots.weights == (1.0, 2.0, 2.5, 1.5)
    )
    bad = n["AutoguidanceScheduleKnots"].validate_inputs(sigmas="80, five", weights="1, 2")
    assert "'sigmas' must be numbers separated by commas" in bad
    with pytest.raises(ValueError, match="same length"):
        n["AutoguidanceScheduleKnots"].execute(sigmas="80, 5", weights="1")

    ramp = (
        n["AutoguidanceScheduleRamp"]
        .execute(w_start=3.0, w_end=1.0, sigma_start=10.0, sigma_end=0.1, space="log", shape="linear")
        .result[0]
    )
    assert ramp.weight(torch.tensor([1.0])).item() == pytest.approx(2.0)
    limited = n["AutoguidanceScheduleLimit"].execute(schedule=ramp, sigma_lo=0.5, sigma_hi=2.0).result[0]
    assert limited.weight(torch.tensor([0.5, 1.0, 3.0])).tolist() == pytest.approx([1.0, 2.0, 1.0])
    assert "sigma_lo must be below" in n["AutoguidanceScheduleLimit"].validate_inputs(
        sigma_lo=2.0, sigma_hi=2.0
    )
    const = n["AutoguidanceScheduleConstant"].execute(w=1.5).result[0]
    assert const.to_dict() == {"kind": "constant", "w": 1.5}


def test_every_input_has_a_tooltip():
    from comfyui_autoguidance.nodes.extension import NODE_CLASSES

    for cls in NODE_CLASSES:
        schema = cls.define_schema()
        for inp in schema.inputs:
            assert inp.tooltip and len(inp.tooltip) > 15, f"{schema.node_id}.{inp.id} lacks a tooltip"
        assert schema.display_name and schema.description
