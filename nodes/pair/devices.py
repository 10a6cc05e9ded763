"""The guide on its own device, and its pass beside the main model's (issue #20).

A guide whose load device differs from the main's (pinned with core's *Select Model Device*, or
with *Autoguidance Model Device*) is evaluated there: x and σ go to the guide's device and D0 comes
back on the main's, each model under ComfyUI's memory management on its own device. Its pass then
runs on a worker thread: started before the main model's cond/uncond batch (a ``PREDICT_NOISE``
wrapper) and joined in the pre-CFG hook, so a guided step costs about max(main, guide) instead of
their sum. The worker is ComfyUI's ``MultiGPUThreadPool`` where it exists (0.23+), else one thread
of our own with the same three calls.

``concurrency`` chooses the path: ``auto`` (a worker thread when the devices differ), ``thread``
(always: one device too, so the CPU tests run the concurrent path) or ``serial`` (never).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

import torch

from .. import _api

log = logging.getLogger(__name__)

AUTO, THREAD, SERIAL = "auto", "thread", "serial"
CONCURRENCY = (AUTO, THREAD, SERIAL)


def same_device(a: torch.device, b: torch.device) -> bool:
    """True for one device however it is named (``cuda`` and ``cuda:0`` in a one-GPU process)."""
    a, b = torch.device(a), torch.device(b)
    if a.type != b.type:
        return False
    if a.type == "cpu" or a.index == b.index:
        return True
    current = torch.cuda.current_device() if a.type == "cuda" and torch.cuda.is_available() else 0
    return (current if a.index is None else a.index) == (current if b.index is None else b.index)


def check_concurrency(mode: str) -> str:
    if mode not in CONCURRENCY:
        raise ValueError(
            f"guide concurrency: unknown mode (got {mode!r}); expected one of {', '.join(CONCURRENCY)}"
        )
    return mode


# ----------------------------------------------------------------------------
# One guide pass: on the guide's device, D0 back on the main's.


def guide_pass(
    evaluate: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    sigma: torch.Tensor,
    guide_device: torch.device,
) -> torch.Tensor:
    """D0 = ``evaluate``(x, σ) run with x and σ on ``guide_device``, returned on x's device.

    Where the two devices differ an error names both (an interrupt or an out-of-memory error keeps
    its type, so ComfyUI still reports it as such).
    """
    main_device = x.device
    if same_device(main_device, guide_device):
        return evaluate(x, sigma)
    try:
        return evaluate(x.to(guide_device), sigma.to(guide_device)).to(main_device)
    except (torch.cuda.OutOfMemoryError, _api.InterruptProcessingException):
        log.error("Autoguidance: the guide pass on %s stopped (main model on %s)", guide_device, main_device)
        raise
    except Exception as error:
        raise RuntimeError(
            f"Autoguidance: the guide pass on {guide_device} failed (main model on {main_device}): "
            f"{type(error).__name__}: {error}. Check that the guide fits on {guide_device}, or put it "
            "on the main model's device (Select Model Device: default)."
        ) from error


# ----------------------------------------------------------------------------
# The worker thread.


class _OneThreadPool:
    """``MultiGPUThreadPool``'s three calls on one plain thread per device (ComfyUI without it)."""

    def __init__(self, devices: list[torch.device]):
        self._work: dict[torch.device, queue.Queue] = {d: queue.Queue() for d in devices}
        self._results: dict[torch.device, queue.Queue] = {d: queue.Queue() for d in devices}
        self._threads = [
            threading.Thread(target=self._loop, args=(d,), daemon=True, name=f"autoguidance-guide-{d}")
            for d in devices
        ]
        for thread in self._threads:
            thread.start()

    def _loop(self, device: torch.device) -> None:
        if device.type == "cuda":
            torch.cuda.set_device(device)
        while (item := self._work[device].get()) is not None:
            fn, args, kwargs = item
            try:
                self._results[device].put((fn(*args, **kwargs), None))
            except BaseException as error:  # handed to the caller, which raises it
                self._results[device].put((None, error))

    def submit(self, device: torch.device, fn: Callable, *args: Any, **kwargs: Any) -> None:
        self._work[device].put((fn, args, kwargs))

    def get_result(self, device: torch.device) -> tuple[Any, BaseException | None]:
        return self._results[device].get()

    def shutdown(self) -> None:
        for work in self._work.values():
            work.put(None)
        for thread in self._threads:
            thread.join(timeout=5.0)


def _in_callers_modes(fn: Callable[[], torch.Tensor]) -> Callable[[], torch.Tensor]:
    """``fn`` under the calling thread's grad and inference modes (both are per thread in torch)."""
    grad, inference = torch.is_grad_enabled(), torch.is_inference_mode_enabled()

    def run() -> torch.Tensor:
        with torch.inference_mode(inference), torch.set_grad_enabled(grad):
            return fn()

    return run


class GuideWorker:
    """The guide's passes of one sampling run on a thread of their own, one pass in flight at a time.

    :meth:`start` submits a pass for (x, σ); :meth:`take` returns its D0 when asked for the same
    tensors (the pre-CFG hook sees the very x and σ the step was called with), else None;
    :meth:`drain` waits for a pass nobody took (the main pass failed, or a wrapper changed x).
    """

    def __init__(self, device: torch.device):
        self.device = device
        self.pool = _api.device_thread_pool([device]) or _OneThreadPool([device])
        self._pending: tuple[torch.Tensor, torch.Tensor] | None = None

    def start(self, x: torch.Tensor, sigma: torch.Tensor, fn: Callable[[], torch.Tensor]) -> None:
        self.drain()
        self.pool.submit(self.device, _in_callers_modes(fn))
        self._pending = (x, sigma)

    def take(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor | None:
        if self._pending is None or self._pending[0] is not x or self._pending[1] is not sigma:
            return None
        self._pending = None
        result, error = self.pool.get_result(self.device)
        if error is not None:
            raise error
        return result

    def drain(self) -> None:
        if self._pending is not None:
            self._pending = None
            _, error = self.pool.get_result(self.device)
            if error is not None:
                log.debug("Autoguidance: an unused guide pass failed: %r", error)

    def close(self) -> None:
        self.drain()
        self.pool.shutdown()


def worker_for_run(
    mode: str, main_device: torch.device, guide_device: torch.device, shared_model: bool
) -> GuideWorker | None:
    """A worker for this run's guide passes, or None where they run serially in the pre-CFG hook.

    A guide that drives the main's own torch module (``shared_model``) always runs serially: two
    passes at once would patch one set of weights two ways.
    """
    apart = not same_device(main_device, guide_device)
    if shared_model:
        return None
    if mode == THREAD or (mode == AUTO and apart):
        return GuideWorker(torch.device(guide_device))
    return None
