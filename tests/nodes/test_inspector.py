"""Autoguidance Pair Inspector on real ComfyUI models: its panels and plot against the models
called directly, its cost in model passes, its tooltips and its refusals of bad input."""

from __future__ import annotations

import math
import re
from itertools import pairwise

import pytest
import torch
from torch.testing import assert_close

from .comfy_env import import_comfy, text_cond, tiny_sd15

pytestmark = pytest.mark.comfyui


@pytest.fixture(scope="module", autouse=True)
def comfy():
    import_comfy()


@pytest.fixture
def captured(monkeypatch):
    """Run the node for real, keeping what it computed: the inspection, the grid and the plot."""
    from comfyui_autoguidance.nodes.inspector import node as inspector
    from comfyui_autoguidance.nodes.inspector import pictures

    seen: dict = {}

    def keep(name, fn, module):
        def spy(*args, **kwargs):
            seen[name] = fn(*args, **kwargs)
            seen[name + "_args"] = args
            return seen[name]

        monkeypatch.setattr(module, fn.__name__, spy)

    keep("inspection", inspector.inspect_pair, inspector)
    keep("plot", pictures.ratio_plot, pictures)
    keep("grid", pictures.grid, pictures)
    return seen


def forward_rows(patcher) -> list[int]:
    """Spy on a model's network: the batch size of every call (one row = one evaluation of one image)."""
    net, rows = patcher.model.diffusion_model, []
    original = net.forward

    def counted(x, *args, **kwargs):
        rows.append(x.shape[0])
        return original(x, *args, **kwargs)

    net.forward = counted
    return rows


def run(node_kwargs: dict):
    from comfyui_autoguidance.nodes.inspector.node import AutoguidancePairInspector

    defaults = {"width": 64, "height": 64, "seed": 3, "w": 2.0, "sigmas": "auto"}
    return AutoguidancePairInspector.execute(**(defaults | node_kwargs)).result


def table(text: str) -> dict[str, list[float]]:
    """The STRING output's table: column name → values."""
    lines = text.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("σ "))
    names = lines[head].split()
    rows = [[float(v) for v in line.split()] for line in lines[head + 1 :] if re.match(r"^[0-9.]", line)]
    return {n: [r[j] for r in rows] for j, n in enumerate(names)}


def rms(v):
    return v.float().pow(2).mean().sqrt().item()


# ----------------------------------------------------------------------------
# 1. Panels and plot equal the models called directly.


def test_sd15_pair_difference_and_ratios_equal_direct_models(captured):
    main, guide = tiny_sd15(seed=1), tiny_sd15(seed=2)
    cond = text_cond(1)
    grid, plot, text = run({"model": main, "guide_model": guide, "positive": cond, "sigmas": "14, 2, 0.1"})
    ins = captured["inspection"]
    eps = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(3))  # 64 px / 8, seed 3
    direct_ratios = []
    for i, sigma in enumerate([14.0, 2.0, 0.1]):
        x = sigma * eps  # x_σ = x0 + σ·ε with the empty latent x0 = 0
        assert_close(ins.x[i : i + 1], x, rtol=1e-6, atol=1e-6)
        s = torch.tensor([sigma])
        with torch.no_grad():
            d1 = main.model.apply_model(x, s, c_crossattn=cond[0][0])
            d0 = guide.model.apply_model(x, s, c_crossattn=cond[0][0])
        assert_close(ins.difference[i : i + 1], d1 - d0, rtol=0, atol=1e-5)
        assert_close(ins.guided[i : i + 1], 2 * d1 - d0, rtol=0, atol=1e-5)
        direct_ratios.append(rms(d1 - d0) / rms(d1))
    assert captured["plot_args"][0] is ins and ins.sigmas.tolist() == pytest.approx([14.0, 2.0, 0.1])
    assert ins.ratios.tolist() == pytest.approx(direct_ratios, rel=1e-5)
    numbers = table(text)
    assert numbers["σ"] == [14.0, 2.0, 0.1] and numbers["ratio"] == pytest.approx(direct_ratios, rel=1e-3)
    assert grid.shape[0] == 1 and grid.shape[-1] == 3 and plot.shape == (1, 440, 720, 3)
    assert float(grid.min()) >= 0 and float(grid.max()) <= 1 and float(plot.std()) > 0.05  # drawn, not blank


def digits_pair():
    from comfyui_autoguidance.nodes.edm2.loader import AutoguidanceEDM2Loader, register_folders

    register_folders()  # the bundled files, as at server start
    load = AutoguidanceEDM2Loader.execute
    return (
        load(checkpoint="digits-main.safetensors", weight_dtype="float32").result[0],
        load(checkpoint="digits-guide.safetensors", weight_dtype="float32").result[0],
    )


def digit(index: int, unconditional: bool = False):
    from comfyui_autoguidance.nodes.edm2.conditioning import BY_INDEX, AutoguidanceEDM2ClassConditioning

    return AutoguidanceEDM2ClassConditioning.execute(
        class_name=BY_INDEX,
        class_index=index,
        label_dim=10,
        second_class_index=-1,
        mix=0.0,
        unconditional=unconditional,
    ).result[0]


def test_digits_pair_panels_and_plot_equal_direct_networks(captured):
    from comfyui_autoguidance.nodes.inspector.pictures import signed_colormap

    main, guide = digits_pair()
    _, _, text = run(
        {
            "model": main,
            "guide_model": guide,
            "positive": digit(3),
            "width": 16,
            "height": 16,
            "sigmas": "40, 2.5, 0.3, 0.02",
        }
    )
    ins, grid = captured["inspection"], captured["grid"]
    eps = torch.randn(1, 1, 16, 16, generator=torch.Generator().manual_seed(3))  # pixel space: 16×16 grey
    labels = torch.eye(10)[[3]]
    direct_ratios = []
    for i, sigma in enumerate([40.0, 2.5, 0.3, 0.02]):
        x = sigma * eps
        with torch.no_grad():
            d1 = main.model.diffusion_model.net(x, sigma, labels)  # the EDM2 networks themselves
            d0 = guide.model.diffusion_model.net(x, sigma, labels)
        assert_close(ins.difference[i : i + 1], d1 - d0, rtol=0, atol=1e-5)
        direct_ratios.append(rms(d1 - d0) / rms(d1))
        # The grid's D1 − D0 panel is that difference (1 channel: the field itself), colour-mapped.
        panel = grid.panels[i][3]
        factor = panel.shape[0] // 16  # enlarged by a whole factor, each pixel a square
        expected = signed_colormap((d1 - d0)[0, 0], grid.scales[i]).repeat_interleave(factor, 0)
        expected = expected.repeat_interleave(factor, 1)
        assert_close(panel, expected, rtol=0, atol=1e-5)
        assert grid.scales[i] == pytest.approx(float((d1 - d0).abs().max()), rel=1e-5)
    assert ins.ratios.tolist() == pytest.approx(direct_ratios, rel=1e-5)
    assert table(text)["ratio"] == pytest.approx(direct_ratios, rel=1e-3)


# ----------------------------------------------------------------------------
# 2. Cost: one main and one guide evaluation per σ (+ one uncond with a negative).


@pytest.mark.parametrize("with_negative", [False, True])
def test_cost_is_one_main_and_one_guide_pass_per_sigma(with_negative, monkeypatch):
    import comfy.model_management
    import comfy.utils

    main, guide = digits_pair()
    main_rows, guide_rows = forward_rows(main), forward_rows(guide)
    loads, progress = [], []
    load = comfy.model_management.load_models_gpu
    monkeypatch.setattr(
        comfy.model_management,
        "load_models_gpu",
        lambda models, *a, **k: (loads.append(list(models)), load(models, *a, **k))[1],
    )
    comfy.utils.set_progress_bar_global_hook(
        lambda value, total, preview, node_id=None: progress.append(value)
    )
    try:
        extra = {"negative": digit(0, unconditional=True)} if with_negative else {}
        run(
            {
                "model": main,
                "guide_model": guide,
                "positive": digit(5),
                "width": 16,
                "height": 16,
                "sigmas": "20, 5, 1, 0.1, 0.01",
                **extra,
            }
        )
    finally:
        comfy.utils.set_progress_bar_global_hook(None)
    assert sum(main_rows) == 5 * (2 if with_negative else 1)  # D1(c) (and D1(∅), batched with it)
    assert len(main_rows) == 5 and guide_rows == [1] * 5
    assert len(loads) == 1 and {id(p.model) for p in loads[0]} == {id(main.model), id(guide.model)}
    assert progress[-1] == 5


def test_auto_sigmas_spread_over_the_models_range(captured):
    main, guide = digits_pair()
    run({"model": main, "guide_model": guide, "positive": digit(1), "width": 16, "height": 16})
    sigmas = captured["inspection"].sigmas.tolist()
    assert len(sigmas) == 6 and sigmas[0] == pytest.approx(80.0) and sigmas[-1] == pytest.approx(0.002)
    steps = [math.log(a / b) for a, b in pairwise(sigmas)]
    assert steps == pytest.approx([math.log(80 / 0.002) / 5] * 5, rel=1e-5)  # even in log σ


def test_schedule_sets_w_and_shades_its_interval(captured):
    from comfyui_autoguidance.guidance import Constant, Interval
    from comfyui_autoguidance.nodes.inspector.pictures import FRAME, SHADE

    main, guide = digits_pair()
    kwargs = {"model": main, "guide_model": guide, "positive": digit(2), "width": 16, "height": 16}
    _, plot, _ = run(kwargs | {"sigmas": "10, 1", "schedule": Interval(Constant(3.0), 0.28, 5.42)})
    assert captured["inspection"].w.tolist() == [1.0, 3.0]
    left, top, right, _ = FRAME
    row = (plot[0, top + 2] * 255).round()  # just under the top of the axes: shade or white, no data
    shaded = [x for x in range(left, right + 1) if row[x].tolist() == list(SHADE)]
    lo_sigma, hi_sigma = captured["plot_args"][1]  # the plotted σ range, high σ on the left

    def sigma_at(x):
        t = (x - left) / (right - left)
        return math.exp(math.log(hi_sigma) - t * (math.log(hi_sigma) - math.log(lo_sigma)))

    assert 5.2 < sigma_at(shaded[0]) <= 5.42 and 0.28 < sigma_at(shaded[-1]) < 0.3
    assert len(shaded) > 0.9 * (shaded[-1] - shaded[0])  # one span (the σ = 1 grid line aside)
    _, unshaded, _ = run(kwargs | {"sigmas": "10, 1"})
    assert not ((unshaded[0, top + 2] * 255).round() == torch.tensor(SHADE)).all(-1).any()


# ----------------------------------------------------------------------------
# 3. Tooltips and bad input.


def test_every_input_has_a_tooltip():
    from comfyui_autoguidance.nodes.inspector.node import AutoguidancePairInspector

    schema = AutoguidancePairInspector.define_schema()
    assert (
        schema.node_id == "AutoguidancePairInspector" and schema.display_name == "Autoguidance Pair Inspector"
    )
    for inp in schema.inputs:
        assert inp.tooltip and len(inp.tooltip) > 30, f"{inp.id} lacks a tooltip"
    assert [o.display_name for o in schema.outputs] == ["grid", "plot", "numbers"]
    w_input = next(i for i in schema.inputs if i.id == "w")
    assert (w_input.min, w_input.max) == (0.0, 30.0)  # the one range of every w widget (sockets.py)


BAD_SIGMAS = [
    ("", r"'sigmas' is empty .*Type noise levels separated by commas"),
    (" , ;", r"'sigmas' is empty"),
    ("14, five", r"'sigmas' must be numbers separated by commas"),
    ("2, -1", r"'sigmas' must be positive finite noise levels \(got \[-1.0\]\)"),
    (
        "100, 1",
        r"'sigmas' has \[100.0\] outside the main model's noise range \[0.02917, 14.61\].*inside that range",
    ),
]


@pytest.mark.parametrize(("sigmas", "message"), BAD_SIGMAS)
def test_bad_sigmas_fail_before_any_model_pass(sigmas, message):
    from comfyui_autoguidance.nodes.inspector.node import AutoguidancePairInspector

    main, guide = tiny_sd15(seed=1), tiny_sd15(seed=2)
    rows = forward_rows(main) + forward_rows(guide)
    with pytest.raises(ValueError, match="^Autoguidance Pair Inspector: " + message):
        run({"model": main, "guide_model": guide, "positive": text_cond(1), "sigmas": sigmas})
    assert rows == []
    if "outside" not in message:  # caught at queue time too, where the model is not needed
        assert AutoguidancePairInspector.validate_inputs(sigmas=sigmas).startswith(
            "Autoguidance Pair Inspector: "
        )


def test_guide_from_another_latent_space_fails_before_any_model_pass():
    import comfy.latent_formats

    main = tiny_sd15(seed=1)
    guide = tiny_sd15(seed=2, channels=16, latent_format=comfy.latent_formats.SD3())
    main_rows = forward_rows(main)
    with pytest.raises(
        ValueError,
        match=r"^Autoguidance Pair Inspector: main model .* and guide model .* different "
        r"latent channels \(4 vs 16\)\. Pick a guide of the same family",
    ):
        run({"model": main, "guide_model": guide, "positive": text_cond(1)})
    assert main_rows == []


def test_latent_and_vae_of_another_model_are_refused():
    class OtherVAE:
        latent_channels = 16

    main, guide = digits_pair()
    kwargs = {"model": main, "guide_model": guide, "positive": digit(1)}
    with pytest.raises(ValueError, match=r"'latent' has shape \(1, 4, 8, 8\) but .* takes \[B, 1, H, W\]"):
        run(kwargs | {"latent": {"samples": torch.zeros(1, 4, 8, 8)}})
    with pytest.raises(ValueError, match=r"the VAE decodes 16-channel latents but .* makes 1-channel ones"):
        run(kwargs | {"vae": OtherVAE()})


# ----------------------------------------------------------------------------
# Display paths and a guide sharing the main model's weights.


def test_a_connected_vae_decodes_the_raw_latents(captured):
    class RecordingVAE:
        """A VAE stand-in at the I/O edge: records what it is asked to decode, returns grey 8× pictures."""

        latent_channels = 4

        def __init__(self):
            self.seen = []

        def decode(self, latents):
            self.seen.append(latents.clone())
            return torch.full((latents.shape[0], latents.shape[2] * 8, latents.shape[3] * 8, 3), 0.5)

    main, guide, vae = tiny_sd15(seed=1), tiny_sd15(seed=2), RecordingVAE()
    run(
        {
            "model": main,
            "guide_model": guide,
            "positive": text_cond(1),
            "sigmas": "5, 0.5",
            "vae": vae,
            "width": 128,
            "height": 128,
        }
    )
    ins, grid = captured["inspection"], captured["grid"]
    (latents,) = vae.seen  # one decode for every picture of the grid
    assert latents.shape == (8, 4, 16, 16)  # x_σ, D1, D0, D_w for two σ
    # raw space, as VAE Decode
    assert_close(latents[2:4], main.model.process_latent_out(ins.d1), rtol=0, atol=1e-6)
    # the decoder's pictures at its own size (128 px: not enlarged); maps resized to fit
    for row in grid.panels:
        assert all(p.shape == (128, 128, 3) for p in row)
        assert all(float((p - 0.5).abs().max()) == 0 for p in (row[0], row[1], row[2], row[4]))


def test_a_guide_sharing_the_main_checkpoint_differs_by_nothing(captured):
    main = tiny_sd15(seed=1)
    guide = main.clone()  # what two loaders of one file give: one underlying model
    _, _, text = run({"model": main, "guide_model": guide, "positive": text_cond(1), "sigmas": "3, 0.3"})
    assert captured["inspection"].difference.abs().max() == 0
    assert table(text)["ratio"] == [0.0, 0.0]
