"""Main D1 and guide D0 at chosen noise levels, through ComfyUI's own loading and cond handling.

x_σ is built with the main model's ``model_sampling.noise_scaling(σ, ε, x0)``: x0 + σ·ε for
EPS/V/EDM models, (1 − σ)·x0 + σ·ε for flow models, from one ε per run so every row sees the
same noise. Both models are loaded together as for sampling (the guide rides as an additional
model of a clone of the main patcher, and ``prepare_sampling`` hands both to
``load_models_gpu``); conds are processed against each model's own ``BaseModel``.

Cost per σ: one main evaluation of the positive (batched with the negative's, when one is
connected, as ComfyUI batches CFG) and one guide evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from ...guidance.inspect import PairInspection
from .. import _api
from ..guide_term import evaluate_guide, process_guide_conds


@dataclass(frozen=True)
class Start:
    """The clean start x0 (model space) and the noise ε, each [1, C, H, W], and the seed behind ε."""

    x0: torch.Tensor
    noise: torch.Tensor
    seed: int


def noisy_input(model_sampling: Any, sigma: torch.Tensor, start: Start) -> torch.Tensor:
    """x_σ from the model's own noise scaling (x0 + σ·ε for the EDM/EPS family). [1, C, H, W]"""
    noise = start.noise.to(sigma.device).clone()  # ComfyUI adds x0 to the noise tensor in place
    return model_sampling.noise_scaling(sigma, noise, start.x0.to(sigma.device))


def shown_input(model_sampling: Any, sigmas: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """x_σ brought back to the data's range for display: σ_data·c_in·x = x·σ_data/√(σ² + σ_data²).

    For flow models (whose input is already (1 − σ)·x0 + σ·ε) ``calculate_input`` is x itself.
    """
    sigma_data = float(getattr(model_sampling, "sigma_data", 1.0))
    return model_sampling.calculate_input(sigmas.to(x), x) * sigma_data


@dataclass
class _Run:
    """Per-run state: the loaded main model, processed conds and model options of both models."""

    main: Any
    guide: Any
    conds: dict
    guide_conds: list
    main_options: dict
    guide_options: dict

    def at(
        self, sigma: torch.Tensor, x: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """D1(c), D0(c) and D1(∅) (None without a negative) at one σ: one main and one guide evaluation."""
        lists = [self.conds["positive"]] + ([self.conds["negative"]] if "negative" in self.conds else [])
        main_out = _api.calc_cond_batch(self.main.model, lists, x, sigma, self.main_options)
        d0 = evaluate_guide(self.guide, self.guide_conds, x, sigma, self.guide_options)
        return main_out[0], d0, (main_out[1] if len(main_out) > 1 else None)


def _conds(positive: list, negative: list | None) -> dict:
    conds = {"positive": _api.convert_cond(positive)}
    if negative is not None:
        conds["negative"] = _api.convert_cond(negative)
    return conds


def inspect_pair(
    main: Any,
    guide: Any,
    positive: list,
    negative: list | None,
    start: Start,
    sigmas: list[float],
    weight: Callable[[float], float],
) -> PairInspection:
    """D1, D0 (and D1(∅)) at each σ of ``sigmas`` from ``start``; ``weight(σ)`` is the w shown for D_w."""
    patched = _api.with_additional_model(main, guide)
    device = patched.load_device
    run_sigmas = torch.tensor(sigmas, dtype=torch.float32, device=device)
    main_options = _api.guide_model_options(patched, run_sigmas)  # any patcher's options, merged the same way
    with _api.loaded_for_sampling(patched, start.noise.shape, _conds(positive, negative), main_options) as (
        real_model,
        conds,
    ):
        x0, noise = start.x0.to(device), start.noise.to(device)
        conds = _api.process_conds(real_model, noise, conds, device, x0, None, start.seed)
        guide_conds = process_guide_conds(
            guide, _api.convert_cond(positive), noise, device, x0, None, start.seed
        )
        run = _Run(
            patched, guide, conds, guide_conds, main_options, _api.guide_model_options(guide, run_sigmas)
        )
        rows = _evaluate(run, _api.sampling_of(patched), Start(x0, noise, start.seed), run_sigmas)
    cpu = _api.model_management.intermediate_device()
    x, d1, d0, unc = ([r[k].to(cpu).float() for r in rows] for k in range(4))
    return PairInspection(
        run_sigmas.to(cpu),
        torch.cat(x),
        torch.cat(d1),
        torch.cat(d0),
        torch.tensor([weight(s) for s in sigmas], dtype=torch.float64),
        None if negative is None else torch.cat(unc),
    )


def _evaluate(run: _Run, model_sampling: Any, start: Start, sigmas: torch.Tensor) -> list[tuple]:
    """(x_σ, D1, D0, D1(∅)) per σ, with ComfyUI's progress bar and interrupt check per σ."""
    progress = _api.progress_bar(len(sigmas))
    rows = []
    for sigma in sigmas:
        _api.check_interrupted()
        s = sigma.reshape(1)  # [B] with B = 1
        x = noisy_input(model_sampling, s, start)
        with torch.no_grad():  # ComfyUI runs nodes without autograd; direct calls (tests) too
            d1, d0, unc = run.at(s, x)
        rows.append((x, d1, d0, unc if unc is not None else d1))
        progress.update(1)
    return rows
