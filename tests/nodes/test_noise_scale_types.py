"""σ_edm for every model-sampling type of the installed ComfyUI, read off its own ``noise_scaling``.

x_σ = noise_scaling(σ, ε, x0) = a·x0 + b·ε, so σ_edm = b / a. A model type or prediction class
this table does not know fails here (rather than silently mapping to identity): add it to
``nodes/noise_scale.py``'s table and to ``STATED`` below.
"""

from __future__ import annotations

import inspect
from types import SimpleNamespace

import pytest
import torch
from torch.testing import assert_close

from .comfy_env import import_comfy

pytestmark = pytest.mark.comfyui

# ModelType → the stated map: "ve" σ_edm = σ; "flow" σ_edm = k·σ/(1 − σ).
STATED = {
    "EPS": "ve",
    "V_PREDICTION": "ve",
    "V_PREDICTION_EDM": "ve",
    "STABLE_CASCADE": "ve",
    "EDM": "ve",
    "V_PREDICTION_CONTINUOUS": "ve",
    "IMG_TO_IMG": "ve",
    "FLOW_COSMOS": "ve",
    "V_PREDICTION_DDPM": "ve",
    "FLOW": "flow",
    "FLUX": "flow",
    "FLOW_AV": "flow",
    "IMG_TO_IMG_FLOW": "flow",  # adds no noise at all (image editing); samples on CONST's flow σ
}
NOISE_FREE = {"IMG_TO_IMG_FLOW"}


@pytest.fixture(scope="module", autouse=True)
def comfy():
    import_comfy()
    import comfy.model_base

    return comfy


def sampling_for(model_type: str):
    import comfy.model_base

    config = SimpleNamespace(sampling_settings={})
    return comfy.model_base.model_sampling(config, comfy.model_base.ModelType[model_type])


def measured(sampling, sigma: torch.Tensor) -> torch.Tensor:
    """b / a from noise_scaling itself, independently of nodes/noise_scale.py."""
    s = sigma.double().reshape(-1, 1, 1, 1)
    ones, zeros = (
        torch.ones(len(sigma), 1, 2, 2, dtype=torch.float64),
        torch.zeros(len(sigma), 1, 2, 2, dtype=torch.float64),
    )
    a = sampling.noise_scaling(s.reshape(-1), zeros.clone(), ones.clone())[:, 0, 0, 0]
    b = sampling.noise_scaling(s.reshape(-1), ones.clone(), zeros.clone())[:, 0, 0, 0]
    return b / a


def test_every_model_type_maps_to_its_noise_to_signal_ratio():
    import comfy.model_base

    from comfyui_autoguidance.guidance.noise_scale import to_edm
    from comfyui_autoguidance.nodes.noise_scale import noise_kind, schedule_sigma

    unknown = [t.name for t in comfy.model_base.ModelType if t.name not in STATED]
    assert not unknown, f"ComfyUI has model types this pack does not map yet: {unknown}"
    for model_type in comfy.model_base.ModelType:
        sampling = sampling_for(model_type.name)
        assert noise_kind(sampling) == STATED[model_type.name], model_type.name
        lo, hi = float(sampling.sigma_min), float(sampling.sigma_max)
        top = min(hi, 0.999) if STATED[model_type.name] == "flow" else hi
        sigma = torch.exp(
            torch.linspace(torch.log(torch.tensor(max(lo, 1e-3))), torch.log(torch.tensor(top)), 7)
        )
        got = schedule_sigma(sampling, sigma)
        if model_type.name in NOISE_FREE:
            assert torch.equal(measured(sampling, sigma), torch.zeros(7, dtype=torch.float64))
            assert_close(got, to_edm("flow", sigma), rtol=0, atol=0)
            continue
        assert got.dtype == torch.float32, model_type.name  # σ's precision: MPS has no float64
        assert_close(got.double(), measured(sampling, sigma), rtol=3e-7, atol=0, msg=model_type.name)


def test_every_prediction_class_is_in_the_table():
    """Each class defining noise_scaling (comfy.model_sampling's, and LCM's base) is in the table."""
    import comfy.model_sampling
    from comfy_extras.nodes_model_advanced import LCM

    from comfyui_autoguidance.nodes.noise_scale import NOISE_KIND_OF_OWNER, noise_scaling_owner

    owners = {
        c.__name__
        for _, c in inspect.getmembers(comfy.model_sampling, inspect.isclass)
        if "noise_scaling" in vars(c)
    }
    assert owners <= set(NOISE_KIND_OF_OWNER), f"not in the table: {owners - set(NOISE_KIND_OF_OWNER)}"
    assert noise_scaling_owner(LCM()).__name__ == "EPS"


def test_flow_shift_does_not_change_the_map_and_pure_noise_is_infinite():
    from comfyui_autoguidance.nodes.noise_scale import noise_kind, schedule_sigma, sigma_range

    sampling, shifted = sampling_for("FLOW"), sampling_for("FLOW")
    shifted.set_parameters(shift=3.0)  # what ModelSamplingSD3 does: other σ visited, same x_σ for a σ
    sigma = torch.tensor([0.25, 0.5, 1.0])
    assert schedule_sigma(sampling, sigma).tolist() == pytest.approx([1 / 3, 1.0, float("inf")], rel=1e-7)
    assert torch.equal(schedule_sigma(shifted, sigma), schedule_sigma(sampling, sigma))
    assert noise_kind(sampling) == "flow" and float(sampling.sigma_max) == 1.0
    assert sigma_range(sampling)["sigma_edm_max"] is None


def test_eps_range_is_the_familiar_one():
    from comfyui_autoguidance.nodes.noise_scale import noise_kind, sigma_range

    span = sigma_range(sampling_for("EPS"))
    assert noise_kind(sampling_for("EPS")) == "ve"
    assert span["sigma_edm_min"] == pytest.approx(0.0292, abs=1e-3)
    assert span["sigma_edm_max"] == pytest.approx(14.61, abs=1e-2)


def test_const_noise_multiplier_on_current_comfyui():
    from comfyui_autoguidance.nodes.noise_scale import schedule_sigma

    sampling = sampling_for("FLOW")
    if not hasattr(sampling, "set_noise_scale"):
        pytest.skip("CONST has no noise_scale before ComfyUI 0.4")
    sampling.set_noise_scale(0.5)
    sigma = torch.tensor([0.2, 0.6])
    got = schedule_sigma(sampling, sigma).double()
    assert_close(got, measured(sampling, sigma), rtol=3e-7, atol=0)
    assert_close(got, 0.5 * sigma.double() / (1 - sigma.double()), rtol=3e-7, atol=0)


def test_an_unknown_prediction_type_is_measured_not_assumed(caplog):
    import comfy.model_sampling

    from comfyui_autoguidance.nodes.noise_scale import noise_kind, schedule_sigma

    class Halved(comfy.model_sampling.CONST):  # a custom node's x = (1 − σ)·x0 + σ·ε/2
        def noise_scaling(self, sigma, noise, latent_image, max_denoise=False):
            return super().noise_scaling(sigma, noise * 0.5, latent_image)

    class Custom(comfy.model_sampling.ModelSamplingDiscreteFlow, Halved):
        pass

    sampling = Custom(SimpleNamespace(sampling_settings={}))
    assert noise_kind(sampling) is None
    sigma = torch.tensor([0.5])
    with caplog.at_level("WARNING"):
        assert schedule_sigma(sampling, sigma).tolist() == [0.5]
    assert "unknown model-sampling type Custom" in caplog.text
