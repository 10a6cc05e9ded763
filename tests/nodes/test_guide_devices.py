"""The guide pass on a worker thread and on its own device (nodes/pair/devices.py), in real ComfyUI.

On one CPU the concurrent path is forced (``concurrency="thread"``): the guide pass is started
before the main model's batch, runs on a worker thread and is joined in the pre-CFG hook. Every
step must equal the serial path's. ``tests/nodes/test_guide_cuda.py`` runs the same on real
devices (benchmarks/gpu_check.sh).
"""

from __future__ import annotations

import threading

import pytest
import torch
from torch.testing import assert_close

from .comfy_env import import_comfy, record_steps, run_guider, text_cond, tiny_sd15

pytestmark = pytest.mark.comfyui

INTERVAL = (0.28, 5.42)


@pytest.fixture(scope="module", autouse=True)
def comfy():
    import_comfy()
    import comfy.sample
    import comfy.samplers

    return comfy


@pytest.fixture(scope="module")
def pair():
    return tiny_sd15(seed=1, model_channels=32), tiny_sd15(seed=2, model_channels=32)


def sigmas_for(model, steps):
    import comfy.samplers

    return comfy.samplers.calculate_sigmas(model.get_model_object("model_sampling"), "karras", steps)


def interval_schedule():
    from comfyui_autoguidance.guidance import Constant, Interval

    return Interval(Constant(2.5), *INTERVAL)


def guider(main, guide, concurrency, cfg=3.0):
    from comfyui_autoguidance.nodes.guider import AutoguidanceGuider

    made = AutoguidanceGuider.execute(
        model=main,
        guide_model=guide,
        positive=text_cond(10),
        negative=text_cond(11),
        w=2.5,
        cfg=cfg,
        schedule=interval_schedule(),
        cfg_schedule=None,
    ).result[0]
    made.term.concurrency = concurrency
    return made


def term_of(patched):
    from comfyui_autoguidance.nodes.guide_term import GuideTerm

    (term,) = [f for f in patched.model_options["sampler_pre_cfg_function"] if isinstance(f, GuideTerm)]
    return term


def ksampler_steps(comfy, main, guide, concurrency, steps=8):
    """The KSampler patch under the plain KSampler: every step's (x, σ, denoised) and the sample."""
    from comfyui_autoguidance.nodes.model_patch import AutoguidanceModelPatch

    patched = AutoguidanceModelPatch.execute(
        model=main, guide_model=guide, w=2.5, schedule=interval_schedule()
    ).result[0]
    term_of(patched).concurrency = concurrency
    recorded = []

    def record(args):
        recorded.append((args["input"].clone(), args["sigma"].clone(), args["denoised"].clone()))
        return args["denoised"]

    patched.set_model_sampler_post_cfg_function(record)
    noise = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(3))
    sample = comfy.sample.sample(
        patched, noise, steps, 3.0, "heun", "karras", text_cond(10), text_cond(11),
        torch.zeros_like(noise), seed=3, disable_pbar=True,
    )  # fmt: skip
    return recorded, sample, term_of(patched)


class GuideThreads:
    """Spy on ComfyUI's ``calc_cond_batch`` (the main's batch and the guide pass both call it): which
    thread evaluated which model, and with which options."""

    def __init__(self, monkeypatch, guide):
        import comfy.samplers

        from comfyui_autoguidance.nodes import _api

        self.calls: list[tuple[str, bool, bool]] = []  # (thread name, guide model?, multigpu_clones given?)
        original = comfy.samplers.calc_cond_batch

        def spy(model, cond_lists, x, sigma, options):
            multigpu = "multigpu_clones" in options
            self.calls.append((threading.current_thread().name, model is guide.model, multigpu))
            return original(model, cond_lists, x, sigma, options)

        monkeypatch.setattr(comfy.samplers, "calc_cond_batch", spy)  # the main's batch (sampling_function)
        monkeypatch.setattr(_api, "calc_cond_batch", spy)  # the guide pass (the gate holds its own name)

    def guide_threads(self) -> list[str]:
        return [name for name, is_guide, _ in self.calls if is_guide]


def assert_steps_equal(serial, threaded):
    """Every step of the threaded run equals the serial run's: same x, σ and prediction to 1e-6."""
    assert len(serial) == len(threaded)
    for (x_s, s_s, out_s), (x_t, s_t, out_t) in zip(serial, threaded, strict=True):
        assert torch.equal(s_s, s_t)
        assert_close(x_t, x_s, rtol=0, atol=1e-6)
        assert_close(out_t, out_s, rtol=0, atol=1e-6)


def inside(steps) -> int:
    return sum(INTERVAL[0] < float(sigma) <= INTERVAL[1] for _, sigma, _ in steps)


def test_guider_worker_thread_equals_serial_every_step(pair, monkeypatch):
    main, guide = pair
    spy = GuideThreads(monkeypatch, guide)
    runs = {}
    for mode in ("serial", "thread"):
        spy.calls.clear()
        g = guider(main, guide, mode)
        steps = record_steps(g)
        sample = run_guider(g, sigmas_for(main, 8))
        runs[mode] = (steps, sample, spy.guide_threads(), g.guide_calls)
    serial, serial_sample, serial_threads, serial_calls = runs["serial"]
    threaded, sample, threads, calls = runs["thread"]
    assert_steps_equal(serial, threaded)
    assert_close(sample, serial_sample, rtol=0, atol=1e-6)
    # the interval holds: the guide ran only inside it, each time on the worker thread
    assert 0 < inside(threaded) < len(threaded) and calls == serial_calls == inside(threaded)
    assert len(threads) == calls and threading.main_thread().name not in threads
    assert set(serial_threads) == {threading.main_thread().name}


def test_ksampler_patch_worker_thread_equals_serial_every_step(comfy, pair, monkeypatch):
    main, guide = pair
    serial, serial_sample, serial_term = ksampler_steps(comfy, main, guide, "serial")
    spy = GuideThreads(monkeypatch, guide)
    threaded, sample, term = ksampler_steps(comfy, main, guide, "thread")
    assert_steps_equal(serial, threaded)
    assert_close(sample, serial_sample, rtol=0, atol=1e-6)
    assert 0 < inside(threaded) < len(threaded) and term.calls == serial_term.calls == inside(threaded)
    assert len(spy.guide_threads()) == term.calls
    assert threading.main_thread().name not in spy.guide_threads()


def emulate_cfg_split(monkeypatch):
    """ComfyUI 0.23+'s MultiGPU CFG Split as ``outer_sample`` sets it up: the main's
    ``model_options["multigpu_clones"]`` maps its device to the main patcher (no second GPU here)."""
    import comfy.sampler_helpers as helpers

    if not hasattr(helpers, "prepare_model_patcher_multigpu_clones"):
        pytest.skip("ComfyUI before 0.23 has no multi-GPU option (model_options['multigpu_clones'])")

    def prepare(model_patcher, loaded_models, model_options):
        model_options["multigpu_clones"] = {model_patcher.load_device: model_patcher}
        return []

    monkeypatch.setattr(helpers, "prepare_model_patcher_multigpu_clones", prepare)


@pytest.mark.parametrize("mode", ["serial", "thread"])
def test_cfg_split_on_the_main_still_evaluates_the_guide(pair, monkeypatch, mode):
    """With ``multigpu_clones`` in the main's options, ComfyUI evaluates ``multigpu_clones[device]``
    whatever model it is handed: the guide pass must use the guide's own options, or it would run
    the main model and Δ would vanish. Each step is checked against the models called directly."""
    main, guide = pair
    emulate_cfg_split(monkeypatch)
    spy = GuideThreads(monkeypatch, guide)
    g = guider(main, guide, mode, cfg=1.0)
    steps = record_steps(g)
    run_guider(g, sigmas_for(main, 6))
    positive = text_cond(10)[0][0]
    guided = 0
    with torch.no_grad():
        for x, sigma, out in steps:
            d_c = main.model.apply_model(x, sigma, c_crossattn=positive)
            is_inside = INTERVAL[0] < float(sigma) <= INTERVAL[1]
            d_g = guide.model.apply_model(x, sigma, c_crossattn=positive) if is_inside else d_c
            guided += is_inside
            assert_close(out, d_c + (2.5 - 1) * (d_c - d_g), rtol=1e-5, atol=1e-5)
    assert guided > 0 and g.guide_calls == guided
    main_calls = [multigpu for _, is_guide, multigpu in spy.calls if not is_guide]
    guide_calls = [multigpu for _, is_guide, multigpu in spy.calls if is_guide]
    assert main_calls and all(main_calls)  # the emulation reached the main's batch
    assert len(guide_calls) == guided and not any(guide_calls)


def test_guide_pass_moves_x_and_sigma_to_the_guide_device_and_back():
    from comfyui_autoguidance.nodes.pair.devices import guide_pass

    seen = []

    def evaluate(x, sigma):
        seen.append((x.device, sigma.device))
        return torch.ones(x.shape)  # a result made on the CPU, as a guide on the CPU gives

    x, sigma = torch.zeros(2, 4, 8, 8), torch.tensor([1.0])
    out = guide_pass(evaluate, x, sigma, torch.device("meta"))
    assert seen == [(torch.device("meta"), torch.device("meta"))] and out.device == x.device


def test_a_failing_guide_pass_names_both_devices():
    from comfyui_autoguidance.nodes.pair.devices import guide_pass

    def evaluate(x, sigma):
        raise ValueError("weights are elsewhere")

    x, sigma = torch.zeros(1, 4, 8, 8), torch.tensor([1.0])
    with pytest.raises(RuntimeError, match=r"guide pass on meta failed \(main model on cpu\): ValueError"):
        guide_pass(evaluate, x, sigma, torch.device("meta"))
    with pytest.raises(ValueError, match="weights are elsewhere"):  # one device: the error as it was
        guide_pass(evaluate, x, sigma, torch.device("cpu"))


def test_a_failing_threaded_guide_pass_reaches_the_sampler(pair, monkeypatch):
    """An error on the worker thread is raised in the sampling thread, and the run's worker stops."""
    from comfyui_autoguidance.nodes import guide_term

    main, guide = pair
    g = guider(main, guide, "thread", cfg=1.0)

    def broken(*args, **kwargs):
        raise ValueError("guide broke")

    monkeypatch.setattr(guide_term, "evaluate_guide", broken)
    with pytest.raises(ValueError, match="guide broke"):
        run_guider(g, sigmas_for(main, 4))
    assert g.term.worker is None


def test_unknown_concurrency_is_refused(pair):
    from comfyui_autoguidance.guidance import Constant
    from comfyui_autoguidance.nodes.guide_term import GuideTerm

    with pytest.raises(
        ValueError, match=r"unknown mode \(got 'threads'\); expected one of auto, thread, serial"
    ):
        GuideTerm(pair[1], Constant(2.0), concurrency="threads")


def test_model_device_node_puts_a_model_on_the_cpu_and_passes_unknown_devices_through(pair):
    from comfyui_autoguidance.nodes.pair.device_node import AutoguidanceModelDevice

    guide = pair[1]
    assert {"default", "cpu"} <= set(AutoguidanceModelDevice.define_schema().inputs[1].options)
    on_cpu = AutoguidanceModelDevice.execute(guide, "cpu").result[0]
    assert on_cpu is not guide and on_cpu.load_device == on_cpu.offload_device == torch.device("cpu")
    elsewhere = AutoguidanceModelDevice.execute(guide, "gpu:9").result[0]  # a workflow from a bigger machine
    assert elsewhere.load_device == guide.load_device and elsewhere.model is guide.model
    assert AutoguidanceModelDevice.validate_inputs(device="gpu:9") is True


def test_edm2_loader_tells_comfyui_how_to_load_another_copy():
    """Select Model Device and MultiGPU CFG Split (0.23+) copy a model to another GPU by calling the
    loader's factory again: the EDM2 Loader registers one, which gives the same weights."""
    from comfyui_autoguidance.nodes.edm2.loader import AutoguidanceEDM2Loader, register_folders

    register_folders()  # the bundled digits models (ComfyUI registers them when it loads the pack)
    patcher = AutoguidanceEDM2Loader.execute("digits-guide.safetensors").result[0]
    if not hasattr(patcher, "cached_patcher_init"):
        pytest.skip("this ComfyUI copies no model to another GPU (no ModelPatcher.cached_patcher_init)")
    factory, args = patcher.cached_patcher_init
    again = factory(*args, disable_dynamic=True)
    assert again.model is not patcher.model
    ours, theirs = patcher.model.state_dict(), again.model.state_dict()
    assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in ours)
