"""The guide on its own device and beside the main model, on real CUDA devices (benchmarks/gpu_check.sh).

Skipped without CUDA, and when ComfyUI was already imported for the CPU in this process (run this
file on its own: ``python -m pytest -m comfyui tests/nodes/test_guide_cuda.py``). Device pairs:
main on cuda:0 with the guide on the CPU, and with two GPUs the guide on cuda:1. The models are
small EDM2 networks (our own code, float32, float16 or bfloat16).
"""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from .comfy_env import edm2_class_cond, edm2_with_gains, harness, import_comfy, record_steps

pytestmark = [
    pytest.mark.comfyui,
    pytest.mark.skipif(
        not torch.cuda.is_available(), reason="no CUDA device (benchmarks/gpu_check.sh runs these)"
    ),
]

PAIRS = [("cuda:0", "cpu")] + ([("cuda:0", "cuda:1")] if torch.cuda.device_count() > 1 else [])
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
MAIN = harness.tiny_edm2(
    img_resolution=16, img_channels=3, model_channels=64, num_blocks=2, attn_resolutions=[8]
)
GUIDE = {**MAIN, "model_channels": 32, "num_blocks": 1}


@pytest.fixture(scope="module", autouse=True)
def comfy():
    import_comfy(cpu=False)
    import comfy.model_management as mm

    if mm.cpu_state == mm.CPUState.CPU:
        pytest.skip("ComfyUI was imported for the CPU earlier in this process: run this file on its own")
    return mm


def patcher_on(config: dict, seed: int, device: str, dtype: torch.dtype = torch.float32):
    """An EDM2 network in ``dtype`` as a ComfyUI patcher that ComfyUI loads on ``device``."""
    from comfyui_autoguidance.nodes.edm2.model import edm2_patcher

    patcher = edm2_patcher(edm2_with_gains(config, seed).to(dtype), True)
    patcher.load_device = torch.device(device)
    if patcher.load_device.type == "cpu":
        patcher.offload_device = patcher.load_device
    return patcher


def sample(
    main, guide, concurrency: str | None = None, steps: int = 6, cfg: float = 3.0, shape=(1, 3, 16, 16)
) -> tuple[torch.Tensor, list, object]:
    """w = 2 and ``cfg`` (class 3 against the unconditional), Heun over ComfyUI's karras σ, noise of
    ``shape`` from seed 0: the sample (float32, CPU), every step, the guider. ``concurrency`` None
    keeps the guider's own (``auto``)."""
    import comfy.samplers

    from comfyui_autoguidance.nodes.guider import AutoguidanceGuider

    guider = AutoguidanceGuider.execute(
        model=main,
        guide_model=guide,
        positive=edm2_class_cond(3, 10),
        negative=edm2_class_cond(0, 10, unconditional=True),
        w=2.0,
        cfg=cfg,
    ).result[0]
    if concurrency is not None:
        guider.term.concurrency = concurrency
    steps_seen = record_steps(guider)
    sigmas = comfy.samplers.calculate_sigmas(main.get_model_object("model_sampling"), "karras", steps)
    noise = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    out = guider.sample(
        noise,
        torch.zeros_like(noise),
        comfy.samplers.sampler_object("heun"),
        sigmas,
        seed=0,
        disable_pbar=True,
    )
    return out.float().cpu(), steps_seen, guider


def relative(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.float().cpu(), b.float().cpu()
    return float((a - b).abs().max() / b.abs().max())


def same(device: torch.device, wanted: str) -> bool:
    want = torch.device(wanted)
    return device.type == want.type and (want.index is None or device.index in (None, want.index))


@pytest.mark.parametrize(("main_device", "guide_device"), PAIRS)
def test_guide_on_its_own_device_runs_there_beside_the_main(main_device, guide_device, monkeypatch):
    """x and σ reach the guide on its device, D0 comes back; the worker-thread path ('auto', the
    devices differ) equals the serial one, and the sample is the one-device sample (to the two
    devices' float32 kernels)."""
    import threading

    from comfyui_autoguidance.nodes import guide_term

    seen = []
    original = guide_term.evaluate_guide

    def spy(guide, cond_list, x, sigma, options):
        weights = next(guide.model.diffusion_model.parameters()).device
        seen.append((x.device, sigma.device, weights, threading.current_thread().name))
        return original(guide, cond_list, x, sigma, options)

    monkeypatch.setattr(guide_term, "evaluate_guide", spy)
    main, guide = patcher_on(MAIN, 1, main_device), patcher_on(GUIDE, 2, guide_device)
    apart, _, guider = sample(main, guide, "auto")
    assert seen and all(same(d, guide_device) for *devices, _ in seen for d in devices), seen[:3]
    assert threading.main_thread().name not in {name for *_, name in seen}  # beside the main's batch
    assert guider.term.worker is None  # the run's worker thread is gone
    serial, _, _ = sample(main, guide, "serial")
    assert relative(apart, serial) <= 1e-5
    together, _, _ = sample(main, patcher_on(GUIDE, 2, main_device), "serial")
    assert relative(apart, together) <= 1e-3  # CPU and GPU kernels round differently (TF32 where on)


@pytest.mark.parametrize("dtype", sorted(DTYPES))
def test_threaded_guide_pass_equals_serial_on_one_gpu(dtype):
    main, guide = patcher_on(MAIN, 1, "cuda:0", DTYPES[dtype]), patcher_on(GUIDE, 2, "cuda:0", DTYPES[dtype])
    threaded, steps, guider = sample(main, guide, "thread")
    serial, serial_steps, _ = sample(main, guide, "serial")
    assert torch.isfinite(threaded).all() and guider.guide_calls > 0
    for (_, _, out), (_, _, expected) in zip(steps, serial_steps, strict=True):
        assert_close(out.float(), expected.float(), rtol=0, atol=1e-5 * float(expected.float().abs().max()))
    assert relative(threaded, serial) <= 1e-5


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="one GPU: MultiGPU CFG Split needs two")
def test_cfg_split_on_the_main_with_the_guide_on_the_second_gpu():
    """MultiGPU CFG Split on the main (a clone on cuda:1 takes half the cond/uncond batch) and the
    guide put on cuda:1 by the Autoguidance Model Device node: every GPU works, and the sample is
    the one-GPU sample."""
    import comfy.multigpu

    from comfyui_autoguidance.nodes.edm2.loader import AutoguidanceEDM2Loader, register_folders
    from comfyui_autoguidance.nodes.pair.device_node import AutoguidanceModelDevice

    register_folders()
    main = AutoguidanceEDM2Loader.execute("digits-main.safetensors").result[0]
    guide = AutoguidanceEDM2Loader.execute("digits-guide.safetensors").result[0]
    placed = AutoguidanceModelDevice.execute(guide, "gpu:1").result[0]
    assert same(placed.load_device, "cuda:1")
    split = comfy.multigpu.create_multigpu_deepclones(main, 2)
    assert {p.load_device.index for p in split.get_additional_models_with_key("multigpu")} == {1}
    one_gpu, _, _ = sample(main, guide, steps=8, cfg=2.0, shape=(2, 1, 16, 16))
    both, _, guider = sample(split, placed, steps=8, cfg=2.0, shape=(2, 1, 16, 16))
    assert guider.guide_calls > 0 and relative(both, one_gpu) <= 1e-4
