"""Schedules, the guided denoiser and the EDM2 forward on every device: σ's device, no float64.

``cpu`` and ``meta`` always run; ``cuda`` and ``mps`` where present. ``meta`` tensors carry only
shape, dtype and device, so a schedule or network that builds a tensor on the CPU and mixes it
with σ fails there exactly as it would on a GPU, and :class:`Float64Audit` sees every dtype.
"""

from __future__ import annotations

import pytest
import torch

from comfyui_autoguidance.edm2 import EDM2
from comfyui_autoguidance.guidance import Constant, Interval, Knots, Ramp

from ..conftest import harness
from ..dtype_audit import Float64Audit

DEVICES = ["cpu", "meta"]
DEVICES += ["cuda"] if torch.cuda.is_available() else []
DEVICES += ["mps"] if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available() else []

SCHEDULES = {
    "constant": Constant(2.0),
    "interval": Interval(Constant(2.5), 0.28, 5.42),
    "ramp-log-cosine": Ramp(3.0, 1.0, 14.6, 0.03, "log", "cosine"),
    "ramp-linear": Ramp(1.0, 2.0, 0.0, 10.0, "linear", "linear"),
    "knots": Knots((0.1, 1.0, 5.0, 80.0), (1.0, 2.0, 2.5, 1.5)),
    "knots-sampling-order": Knots((80.0, 5.0, 1.0, 0.1), (1.5, 2.5, 2.0, 1.0)),
    "knots-single": Knots((1.0,), (2.0,)),
    "limit-knots": Interval(Knots((0.1, 80.0), (3.0, 1.0)), 0.28, 5.42),
}
SIGMA = [80.0, 14.6, 5.42, 2.0, 0.28, 0.03, 0.0]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", sorted(SCHEDULES))
@pytest.mark.parametrize("sigma_dtype", [torch.float32, torch.float16])
def test_schedule_weight_stays_on_sigma_device_without_float64(kind, device, sigma_dtype):
    sigma = torch.tensor(SIGMA, dtype=sigma_dtype, device=device)
    with Float64Audit(off_cpu_only=True) as audit:
        w = SCHEDULES[kind].weight(sigma)
    assert w.device.type == device and w.shape == sigma.shape and w.dtype == torch.float32
    assert audit.found == [] and audit.ops > 0
    if device != "meta":  # the values equal the CPU's
        torch.testing.assert_close(w.cpu(), SCHEDULES[kind].weight(sigma.cpu()), rtol=0, atol=0)


def test_knots_in_sampling_order_are_the_same_curve():
    sigma = torch.logspace(-3, 2, 50)
    a, b = SCHEDULES["knots"].weight(sigma), SCHEDULES["knots-sampling-order"].weight(sigma)
    assert torch.equal(a, b) and SCHEDULES["knots-sampling-order"].sigmas == (0.1, 1.0, 5.0, 80.0)


@pytest.mark.parametrize("device", DEVICES)
def test_edm2_forward_on_device_without_float64(device):
    with torch.device(device):
        net = EDM2(**harness.TINY_EDM2).eval()
        x, sigma, labels = torch.randn(2, 4, 8, 8), torch.tensor([0.5, 20.0]), torch.eye(10)[:2]
    with torch.no_grad(), Float64Audit(off_cpu_only=True) as audit:
        out = net(x, sigma, labels)
    assert out.device.type == device and out.shape == x.shape and out.dtype == torch.float32
    assert audit.found == []
