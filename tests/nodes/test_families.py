"""Every model family, through the real nodes, on tiny random-weight models (tests/nodes/families.py).

How each family's model is made, per ComfyUI line ("file": a state dict saved to
``models/diffusion_models`` and loaded by the stock ``UNETLoader``, i.e. model detection;
"config": ``comfy.supported_models.<class>(tiny unet_config).get_model``, because detection
pins the real widths, e.g. SD1.5's 320 channels or Lumina2's 2304, so a tiny file is not
recognised; ``test_detection_table_is_true`` keeps this table honest):

| family | real model | config class | 0.3.64 | 0.33.0 |
| --- | --- | --- | --- | --- |
| sd15 | SD1.5, ε-prediction | SD15 | config | config |
| sd2_768v | SD2.x 768-v, v-prediction | SD20 (ModelType.V_PREDICTION) | config | config |
| sdxl | SDXL, pooled text + sizes as ``adm`` | SDXL | config | config |
| sd3 | SD3 Medium (MMDiT) | SD3 | file | file |
| flux_dev | Flux.1-dev, guidance embedding (``FluxGuidance`` node) | Flux | config | file |
| chroma | Chroma | Chroma | config | config |
| lumina2 | Lumina Image 2.0 | Lumina2 | config | config |
| qwen_image | Qwen-Image (Wan 2.1 latents, 5-D) | QwenImage | config | config |
| wan21 | Wan 2.1 T2V, 5-D video latents | WAN21_T2V | file | file |
| hunyuan_video | HunyuanVideo, 5-D, guidance embedding | HunyuanVideo | file | file |
| auraflow | AuraFlow (SDXL latents, flow) | AuraFlow | config | config |
| sd35_large+sd35_medium | SD3.5 Large main, SD3.5 Medium (MMDiT-X) guide | SD3 | file | file |
| z_image | Z-Image | ZImage | — | config |
| flux2_klein_9b+flux2_klein_4b | Flux.2 Klein 9B main, Klein 4B guide (own text widths) | Flux2 | — | file |

For each pair: the guider (autoguidance alone; autoguidance + CFG limited to σ_edm ∈ (0.28, 5.42])
through ``SamplerCustomAdvanced`` and the model patch through the plain ``KSampler``, every step
checked against the two models called directly.
"""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from . import families as fam
from . import family_runs as runs
from .comfy_env import import_comfy, record_steps

pytestmark = pytest.mark.comfyui

LO, HI = 0.28, 5.42  # the guidance-interval paper's SD-XL interval, in σ_edm


@pytest.fixture(scope="module")
def comfy():
    import_comfy()
    import comfy.model_management

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: a second thread only waits (50x slower on a busy 2-core machine)
    yield comfy
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def models(comfy, tmp_path_factory):
    """(family, seed) → ModelPatcher, each made once; detected families go through a file + UNETLoader."""
    import folder_paths

    folder = tmp_path_factory.mktemp("diffusion_models")
    folder_paths.add_model_folder_path("diffusion_models", str(folder))
    cache: dict = {}

    def get(family: fam.Family, seed: int):
        key = (family.name, seed)
        if key not in cache:
            cache[key] = runs.make_model(family, seed, folder)
        return cache[key]

    return get


def pair_ids(pairs):
    return [p.name for p in pairs]


PAIRS = fam.ALL_PAIRS  # Flux.2 and Z-Image skip on ComfyUI before 0.4


def setup_pair(models, pair: fam.Pair):
    if not fam.is_current() and (pair.main.current_only or pair.guide.current_only):
        pytest.skip(f"{pair.name} needs ComfyUI 0.4 or newer (tested on 0.33.0)")
    main, guide = models(pair.main, 1), models(pair.guide, 2)
    positive, negative = runs.conditioning(pair.main, 10), runs.conditioning(pair.main, 11)
    guide_positive = runs.conditioning(pair.guide, 12) if pair.own_guide_conditioning else None
    return main, guide, positive, negative, guide_positive


def sigma_edm(model, sigma: torch.Tensor) -> float:
    from comfyui_autoguidance.nodes.noise_scale import schedule_sigma

    return float(schedule_sigma(model.get_model_object("model_sampling"), sigma.reshape(1).double())[0])


def guider_node(
    main, guide, positive, w, negative=None, guide_positive=None, cfg=1.0, schedule=None, cfg_schedule=None
):
    from comfyui_autoguidance.nodes.guider import AutoguidanceGuider

    return AutoguidanceGuider.execute(
        model=main,
        guide_model=guide,
        positive=positive,
        negative=negative,
        guide_positive=guide_positive,
        w=w,
        cfg=cfg,
        schedule=schedule,
        cfg_schedule=cfg_schedule,
    ).result[0]


def interval_node(w: float):
    from comfyui_autoguidance.nodes.schedules import SCHEDULE_NODES

    return SCHEDULE_NODES["AutoguidanceScheduleInterval"].execute(w=w, sigma_lo=LO, sigma_hi=HI).result[0]


# ----------------------------------------------------------------------------


@pytest.mark.parametrize("pair", PAIRS, ids=pair_ids(PAIRS))
def test_guider_autoguidance_alone(models, pair):
    """Every step is D1 + (w − 1)(D1 − D0) with both models called directly; the output is finite."""
    main, guide, positive, _, guide_positive = setup_pair(models, pair)
    guider = guider_node(main, guide, positive, 2.5, guide_positive=guide_positive)
    steps = record_steps(guider)
    out = runs.sample_with_guider(main, guider, runs.empty_latent(pair.main), steps=3, seed=5)["samples"]
    assert torch.isfinite(out).all() and out.shape == pair.main.latent
    assert len(steps) == 3 and guider.guide_calls == 3
    for x, sigma, got in steps:
        d1 = runs.denoise(main, positive, x, sigma)
        d0 = runs.denoise(guide, guide_positive or positive, x, sigma)
        assert_close(got, d1 + (2.5 - 1) * (d1 - d0), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("pair", PAIRS, ids=pair_ids(PAIRS))
def test_guider_with_cfg_limited_to_an_interval(models, pair):
    """AG (w = 2) at every step plus CFG (3) only where σ_edm ∈ (0.28, 5.42]: each step matches."""
    main, guide, positive, negative, guide_positive = setup_pair(models, pair)
    guider = guider_node(
        main,
        guide,
        positive,
        2.0,
        negative=negative,
        guide_positive=guide_positive,
        cfg_schedule=interval_node(3.0),
    )
    steps = record_steps(guider)
    out = runs.sample_with_guider(main, guider, runs.empty_latent(pair.main), steps=8, seed=6)["samples"]
    assert torch.isfinite(out).all()
    inside = [LO < sigma_edm(main, s) <= HI for _, s, _ in steps]
    assert any(inside) and not all(inside), [sigma_edm(main, s) for _, s, _ in steps]
    for (x, sigma, got), cfg_on in zip(steps, inside, strict=True):
        d_c = runs.denoise(main, positive, x, sigma)
        d_u = runs.denoise(main, negative, x, sigma)
        d_g = runs.denoise(guide, guide_positive or positive, x, sigma)
        w_cfg = 3.0 if cfg_on else 1.0
        # ComfyUI runs cond and uncond as one batch of 2: float32 sums round differently from two
        # batch-1 calls, and (w_cfg − 1) doubles that; the autoguidance step alone is held to 1e-5 above.
        assert_close(got, d_c + (w_cfg - 1) * (d_c - d_u) + (2.0 - 1) * (d_c - d_g), rtol=1e-5, atol=5e-5)


@pytest.mark.parametrize("pair", PAIRS, ids=pair_ids(PAIRS))
def test_guider_interval_runs_the_guide_exactly_inside(models, pair):
    """An autoguidance interval (0.28, 5.42] in σ_edm: guide evaluations = steps whose σ_edm is inside."""
    main, guide, positive, _, guide_positive = setup_pair(models, pair)
    guider = guider_node(
        main, guide, positive, 1.0, guide_positive=guide_positive, schedule=interval_node(2.0)
    )
    with runs.Spy(guide) as spy:
        out = runs.sample_with_guider(main, guider, runs.empty_latent(pair.main), steps=8, seed=9)["samples"]
    assert torch.isfinite(out).all()
    expected = [float(s) for s in runs.step_sigmas(main, 8)[:-1] if LO < sigma_edm(main, s) <= HI]
    assert 0 < len(expected) < 8
    assert spy.sigmas == pytest.approx(expected, rel=1e-6) and guider.guide_calls == len(expected)


@pytest.mark.parametrize("pair", PAIRS, ids=pair_ids(PAIRS))
def test_patch_on_plain_ksampler(models, pair):
    """The patch through the KSampler node: the guide runs exactly at the steps whose σ_edm is inside
    (0.28, 5.42], and the result equals the guider's with the same weights (a guide with its own
    text encoder, Klein 4B under Klein 9B, gets its conditioning through ``guide_positive``)."""
    from comfyui_autoguidance.nodes.model_patch import AutoguidanceModelPatch

    main, guide, positive, negative, guide_positive = setup_pair(models, pair)
    patched = AutoguidanceModelPatch.execute(
        model=main, guide_model=guide, w=2.0, schedule=interval_node(2.0), guide_positive=guide_positive
    ).result[0]
    latent = runs.empty_latent(pair.main)
    with runs.Spy(guide) as spy:
        out = runs.sample_with_ksampler(patched, positive, negative, latent, steps=8, cfg=3.0, seed=7)[
            "samples"
        ]
    assert torch.isfinite(out).all()
    expected = [float(s) for s in runs.step_sigmas(main, 8)[:-1] if LO < sigma_edm(main, s) <= HI]
    assert spy.sigmas == pytest.approx(expected, rel=1e-6)
    guider = guider_node(
        main,
        guide,
        positive,
        1.0,
        negative=negative,
        guide_positive=guide_positive,
        cfg=3.0,
        schedule=interval_node(2.0),
    )
    via_guider = runs.sample_with_guider(main, guider, latent, steps=8, seed=7)["samples"]
    assert_close(out, via_guider, rtol=1e-4, atol=1e-4)


def test_flux_interval_guides_exactly_the_steps_inside_in_noise_to_signal_ratio(models):
    """AutoguidanceScheduleInterval(w, 0.28, 5.42) on Flux: the guide runs at exactly the steps whose
    σ_flow / (1 − σ_flow) lies in (0.28, 5.42], not at σ_flow ∈ (0.28, 1]."""
    family = next(f for f in fam.FAMILIES if f.name == "flux_dev")
    main, guide = models(family, 1), models(family, 2)
    guider = guider_node(main, guide, runs.conditioning(family, 10), 2.0, schedule=interval_node(2.0))
    with runs.Spy(guide) as spy:
        runs.sample_with_guider(main, guider, runs.empty_latent(family), steps=12, seed=8)
    flow = [float(s) for s in runs.step_sigmas(main, 12)[:-1]]
    expected = [s for s in flow if s < 1 and LO < s / (1 - s) <= HI]
    assert 0 < len(expected) < len(flow)
    assert spy.sigmas == pytest.approx(expected, rel=1e-6) and guider.guide_calls == len(expected)
    naive = [s for s in flow if LO < s <= HI]  # the interval read as σ_flow: other steps
    assert naive != expected


# ----------------------------------------------------------------------------
# The family table is what ComfyUI does.


@pytest.mark.parametrize(
    "family",
    [*fam.FAMILIES, fam.SD35_LARGE, fam.SD35_MEDIUM, fam.FLUX2_KLEIN_9B, fam.FLUX2_KLEIN_4B],
    ids=lambda f: f.name,
)
def test_detection_table_is_true(comfy, family):
    """Detected families load from their file as the same model; others are not recognised at this size."""
    import comfy.sd

    if family.current_only and not fam.is_current():
        pytest.skip(f"{family.name} needs ComfyUI 0.4 or newer")
    built = runs.build(family, 1)
    state = {k: v.clone() for k, v in built.model.diffusion_model.state_dict().items()}
    try:
        loaded = comfy.sd.load_diffusion_model_state_dict(state, model_options={"dtype": torch.float32})
    except (RuntimeError, AssertionError, KeyError, TypeError):
        loaded = None  # detected as the real size: the tiny weights do not fit
    if not fam.is_detected(family):
        assert loaded is None, f"{family.name} is now detected at this size: mark it detected in families.py"
        return
    assert loaded is not None and type(loaded.model.model_config).__name__ == family.config
    x, sigma = torch.randn(family.latent), torch.tensor([0.5])
    cond = runs.conditioning(family, 3)
    assert_close(runs.denoise(loaded, cond, x, sigma), runs.denoise(built, cond, x, sigma), rtol=0, atol=0)


def test_families_cover_the_issue(comfy):
    names = {p.name for p in fam.pairs()}
    assert {
        "sd15",
        "sd2_768v",
        "sdxl",
        "sd3",
        "flux_dev",
        "wan21",
        "hunyuan_video",
        "sd35_large+sd35_medium",
    } <= names
    assert names & {"lumina2", "chroma", "qwen_image"}
    if fam.is_current():
        assert {"flux2_klein_9b+flux2_klein_4b", "z_image"} <= names
