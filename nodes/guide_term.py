"""The guide model D0 inside a ComfyUI sampling step, and the autoguidance term it feeds.

Both nodes apply autoguidance through one seam, a ComfyUI pre-CFG hook (:class:`GuideTerm`):

    Δ = (w(σ) − 1)·(D1(x; σ, c) − D0(x; σ, c))

is added to the main model's conditional *and* unconditional predictions, and ComfyUI's own
``cfg_function`` (with any ``sampler_cfg_function`` such as RescaleCFG, then every post-CFG
hook) does the rest: D1(∅) + w_cfg·(D1(c) − D1(∅)) + Δ, the paper's hybrid. Without a CFG
term (w_cfg = 1) this is D1(c) + Δ = w·D1 + (1 − w)·D0, eq. 2.

The guide is a ComfyUI ``ModelPatcher`` of its own: its weight patches (LoRAs) and its
``model_options`` apply to it, and ComfyUI's model management loads it beside the main model, on
its own load device. Where that differs from the main's (or when asked to), the guide pass runs on
a worker thread started before the main model's batch (nodes/pair/devices.py) and the hook joins it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from ..guidance import Schedule, guidance_term
from . import _api
from .noise_scale import schedule_sigma
from .pair.devices import AUTO, GuideWorker, check_concurrency, guide_pass, worker_for_run
from .pair.shared_weights import rides_on


def process_guide_conds(
    guide: Any,
    cond_list: list[dict],
    noise: torch.Tensor,
    device: Any,
    latent_image: torch.Tensor | None,
    denoise_mask: Any,
    seed: Any,
    **kwargs: Any,
) -> list[dict]:
    """Process ``cond_list`` against the guide's own model (areas, extra conds such as SDXL's adm)."""
    fresh = {"positive": [c.copy() for c in cond_list]}
    return _api.process_conds(guide.model, noise, fresh, device, latent_image, denoise_mask, seed, **kwargs)[
        "positive"
    ]


def evaluate_guide(
    guide: Any, cond_list: list[dict], x: torch.Tensor, sigma: torch.Tensor, options: dict
) -> torch.Tensor:
    """D0(x; σ) for the whole batch, with the guide as its model's current patcher."""
    with _api.current_patcher(guide):
        return _api.calc_cond_batch(guide.model, [cond_list], x, sigma, options)[0]


def step_weight(schedule: Schedule, model: Any, sigma: torch.Tensor) -> torch.Tensor:
    """w(σ) [B] for ComfyUI's σ of ``model`` (a ``BaseModel``), read on the schedules' σ_edm scale."""
    return schedule.weight(schedule_sigma(model.model_sampling, sigma))


RUN_EVENT = "autoguidance.run"  # the message the schedule widget listens for (web/schedule_math.js)


class GuideTerm:
    """The autoguidance term Δ as a ComfyUI ``sampler_pre_cfg_function``, complete at construction.

    ``guide_positive`` is the guide's own CONDITIONING (converted), or None for the sampler's
    positive prompt. At the start of every run (:meth:`around_run`, ComfyUI's outer-sample
    wrapper, the one path for both nodes) the guide's conds are made from it and processed against
    the guide's own model (its extra conds, e.g. SDXL's adm). Each run records every model
    evaluation (σ, σ_edm, guide evaluated?) and, when ``node_id`` is set, sends it to the front end
    at the end of the run, so the widget draws the σ steps that were really used.

    ``concurrency`` (nodes/pair/devices.py): ``auto`` runs the guide pass on a worker thread,
    beside the main model's batch, when the guide's device differs from the main's; ``thread``
    always does (tests and benchmarks on one device); ``serial`` never does.
    """

    def __init__(
        self,
        guide: Any,
        schedule: Schedule,
        guide_positive: list | None = None,
        node_id: str | None = None,
        concurrency: str = AUTO,
    ):
        self.guide = guide
        self.schedule = schedule
        self.guide_positive = None if guide_positive is None else _api.convert_cond(guide_positive)
        self.node_id = node_id
        self.concurrency = check_concurrency(concurrency)
        self.cond_list: list[dict] | None = None  # this run's processed guide conds
        self.worker: GuideWorker | None = None  # this run's worker thread, where the guide runs apart
        self.evaluations: list[tuple[float, float, bool]] = []

    def __deepcopy__(self, memo: dict) -> GuideTerm:
        return self  # like a closure: a clone of the patched model keeps this term (and its guide)

    @property
    def calls(self) -> int:
        """Guide evaluations in the last run."""
        return sum(guided for _, _, guided in self.evaluations)

    def __call__(self, args: dict) -> list:
        out, sigma, x = args["conds_out"], args["sigma"], args["input"]
        sigma_edm = schedule_sigma(args["model"].model_sampling, sigma)
        w = self.schedule.weight(sigma_edm).to(x.device)  # [B]
        guided = bool((w != 1).any())
        self.evaluations.append((float(sigma.reshape(-1)[0]), float(sigma_edm.reshape(-1)[0]), guided))
        if not guided:
            return out  # outside the interval: the guide is not evaluated
        guide_pred = self.worker.take(x, sigma) if self.worker is not None else None  # started early?
        if guide_pred is None:
            guide_pred = self.pass_for(x, sigma, args["model_options"], args["conds"][0])()
        delta = guidance_term(out[0].float(), guide_pred.float(), w)  # float32 whatever the two dtypes
        return [o if o is None else (o.float() + delta).to(o.dtype) for o in out]

    def pass_for(
        self, x: torch.Tensor, sigma: torch.Tensor, model_options: dict, conds: list[dict] | None = None
    ) -> Callable[[], torch.Tensor]:
        """D0(x; σ) as a call: on the guide's device, with its own options, the run's guide conds
        (``conds``, the step's positive, outside a run)."""
        cond_list = self.cond_list if self.cond_list is not None else conds
        device = self.guide.load_device
        sigmas = _api.sample_sigmas(model_options)
        options = _api.guide_model_options(self.guide, None if sigmas is None else sigmas.to(device))

        def evaluate(x_guide: torch.Tensor, sigma_guide: torch.Tensor) -> torch.Tensor:
            return evaluate_guide(self.guide, cond_list or [], x_guide, sigma_guide, options)

        return lambda: guide_pass(evaluate, x, sigma, device)

    def around_step(self, executor: Any, *args: Any, **kwargs: Any) -> Any:
        """ComfyUI's predict-noise wrapper: where the guide runs apart, start its pass before the
        main model's batch; the pre-CFG hook (:meth:`__call__`) joins it."""
        if self.worker is not None and self.cond_list is not None and len(args) >= 3:
            x, sigma, model_options = args[:3]
            model = executor.class_obj.inner_model  # the guider's running BaseModel
            if bool((step_weight(self.schedule, model, sigma) != 1).any()):
                self.worker.start(x, sigma, self.pass_for(x, sigma, model_options))
        try:
            return executor(*args, **kwargs)
        finally:
            if self.worker is not None:
                self.worker.drain()  # a pass the hook did not take (the main pass failed)

    def around_run(self, executor: Any, *args: Any, **kwargs: Any) -> Any:
        """ComfyUI's outer-sample wrapper: a fresh record per run, sent to the front end after it."""
        self.evaluations = []
        guider = executor.class_obj
        self.cond_list = self.conds_for_run(guider, *args, **kwargs)
        main = guider.model_patcher
        self.worker = worker_for_run(
            self.concurrency,
            main.load_device,
            self.guide.load_device,
            main.model is self.guide.model,
        )
        try:
            result = executor(*args, **kwargs)
        finally:
            if self.worker is not None:
                self.worker.close()
                self.worker = None
        if self.node_id is not None:
            _api.send_to_front_end(RUN_EVENT, self.report())
        return result

    def conds_for_run(
        self,
        guider: Any,
        noise: torch.Tensor,
        latent_image: torch.Tensor,
        sampler: Any,
        sigmas: torch.Tensor,
        denoise_mask: Any = None,
        callback: Any = None,
        disable_pbar: bool = False,
        seed: Any = None,
        **kwargs: Any,
    ) -> list[dict]:
        """The guide's conds for one run (``CFGGuider.outer_sample``'s arguments, ``guider`` its guider),
        made for the guide's own device."""
        source = self.guide_positive if self.guide_positive is not None else guider.conds.get("positive", [])
        device = self.guide.load_device
        return process_guide_conds(
            self.guide, source, noise, device, latent_image, denoise_mask, seed, **kwargs
        )

    def report(self) -> dict:
        """The last run for the widget: every evaluation's σ and σ_edm (None for a flow model's pure
        noise, σ_edm = ∞, which JSON cannot carry), and which evaluations ran the guide."""
        return {
            "node": self.node_id,
            "sigmas": [s for s, _, _ in self.evaluations],
            "sigmas_edm": [s if math.isfinite(s) else None for _, s, _ in self.evaluations],  # JSON: ∞ → null
            "guided": [g for _, _, g in self.evaluations],
            "guide_evaluations": self.calls,
            "evaluations": len(self.evaluations),
        }


def attach_guide(main: Any, term: GuideTerm) -> Any:
    """A clone of ``main`` that loads the term's guide with it and adds ``term`` to every step (a guide
    over the main's own weights, nodes/pair/shared_weights.py, is loaded with them already)."""
    patched = main.clone() if rides_on(main, term.guide) else _api.with_additional_model(main, term.guide)
    patched.set_model_sampler_pre_cfg_function(term)
    _api.add_run_wrapper(patched, RUN_EVENT, term.around_run)
    _api.add_step_wrapper(patched, RUN_EVENT, term.around_step)
    return patched
