"""``AutoguidancePairInspector``: where, and how much, the guide steers the main model.

At each noise level σ both models denoise the same x_σ; the node shows D1 (main), D0 (guide),
their difference D1 − D0 (what autoguidance amplifies by w − 1) and the guided
D_w = D1 + (w − 1)(D1 − D0), plots r(σ) = RMS(D1 − D0)/RMS(D1) against log σ, and writes the
numbers out. The maths is in ``guidance/inspect.py``, the model passes in
``inspector_eval.py``, the pictures in ``inspector_display.py`` and ``inspector_render.py``.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ...guidance import Schedule
from ...guidance.inspect import guided_spans, log_spaced_sigmas, rms
from .. import _api, node_ids
from .._api import io, model_management
from ..noise_scale import schedule_sigma
from ..pair.checks import check_conditioning, check_pair, describe
from ..pair.shared_weights import separate_guide
from ..sockets import ScheduleType
from .display import Display, build_grid, labelled
from .evaluate import Start, inspect_pair, shown_input
from .render import ratio_plot, report

NAME = "Autoguidance Pair Inspector"
AUTO = "auto"
AUTO_COUNT = 6
SEED_MAX = 0xFFFFFFFFFFFFFFFF
SIGMAS_HELP = (
    f"Type noise levels separated by commas (e.g. 14.6, 5, 1, 0.2, 0.03) or '{AUTO}' for "
    f"{AUTO_COUNT} spread over the model's own range."
)


def to_model_sigma(sigma: float, model_sampling: Any) -> float:
    """A typed noise level as the model's own σ (the identity: the σ list is in the model's σ)."""
    return sigma


def parse_sigmas(text: str) -> list[float] | None:
    """The typed σ list (None for 'auto'); a ValueError naming the node and input otherwise."""
    if text.strip().lower() == AUTO:
        return None
    parts = [p.strip() for p in text.replace(";", ",").replace("\n", ",").split(",") if p.strip()]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ValueError(
            f"{NAME}: 'sigmas' must be numbers separated by commas (got {text!r}). {SIGMAS_HELP}"
        ) from None
    if not values:
        raise ValueError(f"{NAME}: 'sigmas' is empty (got {text!r}). {SIGMAS_HELP}")
    bad = [v for v in values if not (math.isfinite(v) and v > 0)]
    if bad:
        raise ValueError(f"{NAME}: 'sigmas' must be positive finite noise levels (got {bad}). {SIGMAS_HELP}")
    return values


def model_sigmas(text: str, model: Any) -> list[float]:
    """The σ to inspect, in the model's range [σ_min, σ_max] (a ValueError naming any outside it)."""
    sampling = _api.sampling_of(model)
    lo, hi = float(sampling.sigma_min), float(sampling.sigma_max)
    typed = parse_sigmas(text)
    if typed is None:
        return log_spaced_sigmas(max(lo, hi * 1e-5), hi, AUTO_COUNT)
    sigmas = [to_model_sigma(s, sampling) for s in typed]
    outside = [s for s in sigmas if not lo * (1 - 1e-4) <= s <= hi * (1 + 1e-4)]
    if outside:
        raise ValueError(
            f"{NAME}: 'sigmas' has {outside} outside the main model's noise range [{lo:.4g}, {hi:.4g}] "
            f"({describe(model)}). Use noise levels inside that range, or '{AUTO}'."
        )
    return sigmas


def _downscale(latent_format: Any) -> int:
    """Pixels per latent pixel: 1 for pixel-space formats (no RGB preview factors, 1 or 3 channels)."""
    if getattr(latent_format, "latent_rgb_factors", None) is None and latent_format.latent_channels in (1, 3):
        return 1
    return int(getattr(latent_format, "spacial_downscale_ratio", 8))


def start_from(model: Any, latent: dict | None, width: int, height: int, seed: int) -> Start:
    """x0 (model space; a batch's first latent, zeros for an empty one) and ε from ``seed``. [1, C, H, W]"""
    fmt = _api.latent_format_of(model.model)
    if latent is None:
        ratio = _downscale(fmt)
        x0 = torch.zeros(1, fmt.latent_channels, max(1, height // ratio), max(1, width // ratio))
    else:
        x0 = latent["samples"][:1].float()
        if x0.ndim != 4 or x0.shape[1] != fmt.latent_channels:
            raise ValueError(
                f"{NAME}: 'latent' has shape {tuple(x0.shape)} but {describe(model)} takes "
                f"[B, {fmt.latent_channels}, H, W]. Use a latent made for this model, or disconnect "
                "'latent' to start from width/height."
            )
        if torch.count_nonzero(x0) > 0:  # as ComfyUI's samplers: an empty latent stays 0 in model space
            x0 = _api.latent_in(model.model, x0)
    # = comfy.sample.prepare_noise
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(seed))
    return Start(x0, noise, seed)


def check_vae(model: Any, vae: Any) -> None:
    channels = _api.latent_format_of(model.model).latent_channels
    if vae is not None and getattr(vae, "latent_channels", channels) != channels:
        raise ValueError(
            f"{NAME}: the VAE decodes {vae.latent_channels}-channel latents but {describe(model)} makes "
            f"{channels}-channel ones. Connect the VAE of this model family, or none (pixel-space "
            "models and the latent preview need none)."
        )


def schedule_weights(schedule: Schedule, sampling: Any, sigmas: torch.Tensor) -> torch.Tensor:
    """w(σ) for the model's σ [N], read on the schedules' shared noise scale (as the guider does)."""
    return schedule.weight(schedule_sigma(sampling, sigmas.to(torch.float64)))


def weight_of(w: float, schedule: Schedule | None, sampling: Any):
    """w(σ): the schedule's where one is connected, else the constant ``w``."""
    if schedule is None:
        return lambda sigma: float(w)
    return lambda sigma: float(schedule_weights(schedule, sampling, torch.tensor([sigma]))[0])


def plot_spans(
    schedule: Schedule | None, sampling: Any, sigma_range: tuple[float, float]
) -> list[tuple[float, float]]:
    """Where the connected schedule guides (w ≠ 1), on a dense log-σ grid over the model's range."""
    if schedule is None:
        return []
    grid = torch.logspace(math.log10(sigma_range[0]), math.log10(sigma_range[1]), 1024, dtype=torch.float64)
    return guided_spans(grid, schedule_weights(schedule, sampling, grid))


def numbers(
    ins: Any,
    scales: list[float],
    main: Any,
    guide: Any,
    start: Start,
    sigma_range: tuple[float, float],
    schedule: Schedule | None,
) -> str:
    """The plot's numbers as a table for a Note."""
    columns = {
        "ratio": ins.ratios.tolist(),
        "RMS(D1)": rms(ins.d1).tolist(),
        "RMS(D1−D0)": rms(ins.difference).tolist(),
        "w": ins.w.tolist(),
        "scale": scales,
    }
    if ins.cfg_ratios is not None:
        columns["cfg_ratio"] = ins.cfg_ratios.tolist()
    weights = f"schedule {schedule.to_dict()}" if schedule is not None else f"w = {float(ins.w[0]):g}"
    header = [
        f"{NAME}: main {describe(main)}, guide {describe(guide)}",
        f"x_σ from seed {start.seed}; model σ range [{sigma_range[0]:.4g}, {sigma_range[1]:.4g}]; {weights}",
    ]
    footer = [
        "ratio = RMS(D1 − D0) / RMS(D1): how far the guide's prediction is from the main model's.",
        "scale = colour scale of the row's difference maps (white 0, red +scale, blue −scale).",
    ]
    if ins.cfg_ratios is not None:
        footer.append("cfg_ratio = RMS(D1(c) − D1(∅)) / RMS(D1(c)), with the negative as ∅.")
    return report(header, ins.sigmas.tolist(), columns, footer)


# ----------------------------------------------------------------------------
# The node: its inputs' tooltips, then the node.
TIPS = {
    "model": "The main model D1: the good one whose pictures you want.",
    "guide_model": (
        "The guide D0: a weaker model of the same family (same latent space), e.g. one size smaller "
        "and trained ~1/16 as long."
    ),
    "positive": "What you want (the prompt or class), given to both models.",
    "negative": (
        "Optional: adds the CFG column D1(c) − D1(∅) and its ratio, to compare with D1 − D0 "
        "(one more main-model pass per σ, batched with the positive)."
    ),
    "latent": (
        "Optional clean start x0 (e.g. a VAE-encoded picture; only the first of a batch). "
        "Disconnected: an empty latent of width × height."
    ),
    "vae": (
        "Optional: decode latents for display. Without it latents show as the fast RGB preview; "
        "pixel-space models (the bundled digits) need none."
    ),
    "width": "Picture width in pixels when no latent is connected (16 for the bundled digits).",
    "height": "Picture height in pixels when no latent is connected (16 for the bundled digits).",
    "seed": "Seed of the noise ε in x_σ = x0 + σ·ε; the same ε is used at every σ.",
    "w": (
        "Autoguidance weight for the guided column D_w = D1 + (w − 1)(D1 − D0); 1 = off, the "
        "paper's best is about 2. A connected schedule replaces it."
    ),
    "sigmas": (
        "Noise levels σ to inspect, in the main model's own σ (SD1.5/SDXL 0.03-14.6, EDM2 "
        f"0.002-80, flow models 0-1). {SIGMAS_HELP}"
    ),
    "schedule": (
        "Optional w(σ), as given to the guider: the plot shades where it guides (w ≠ 1) and D_w "
        "uses its weight at each σ."
    ),
}


class AutoguidancePairInspector(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_ids.PAIR_INSPECTOR,
            display_name=NAME,
            category="sampling/autoguidance",
            description=(
                "Is this guide a good 'bad version' of the main model, and where does it act? At a few "
                "noise levels both models denoise the same noisy input: the grid shows D1 (main), D0 "
                "(guide), their difference D1 − D0 (what autoguidance amplifies) and the guided result; the "
                "plot shows RMS(D1 − D0)/RMS(D1) over σ. Costs one main and one guide pass per σ."
            ),
            inputs=[
                io.Model.Input("model", tooltip=TIPS["model"]),
                io.Model.Input("guide_model", tooltip=TIPS["guide_model"]),
                io.Conditioning.Input("positive", tooltip=TIPS["positive"]),
                io.Conditioning.Input("negative", optional=True, tooltip=TIPS["negative"]),
                io.Latent.Input("latent", optional=True, tooltip=TIPS["latent"]),
                io.Vae.Input("vae", optional=True, tooltip=TIPS["vae"]),
                io.Int.Input("width", default=512, min=8, max=8192, step=8, tooltip=TIPS["width"]),
                io.Int.Input("height", default=512, min=8, max=8192, step=8, tooltip=TIPS["height"]),
                io.Int.Input(
                    "seed", default=0, min=0, max=SEED_MAX, control_after_generate=False, tooltip=TIPS["seed"]
                ),
                io.Float.Input(
                    "w", default=2.0, min=0.0, max=30.0, step=0.05, round=0.001, tooltip=TIPS["w"]
                ),
                io.String.Input("sigmas", default=AUTO, tooltip=TIPS["sigmas"]),
                ScheduleType.Input("schedule", optional=True, tooltip=TIPS["schedule"]),
            ],
            outputs=[
                io.Image.Output(display_name="grid"),
                io.Image.Output(display_name="plot"),
                io.String.Output(display_name="numbers"),
            ],
        )

    @classmethod
    def validate_inputs(cls, sigmas: str, **_: Any) -> bool | str:
        try:
            parse_sigmas(sigmas)
        except ValueError as err:
            return str(err)
        return True

    @classmethod
    def execute(
        cls,
        model,
        guide_model,
        positive,
        width,
        height,
        seed,
        w,
        sigmas,
        negative=None,
        latent=None,
        vae=None,
        schedule=None,
    ) -> io.NodeOutput:
        check_pair(NAME, model, guide_model)
        for socket, cond in (("positive", positive), ("negative", negative)):
            check_conditioning(NAME, socket, model, cond)
        check_vae(model, vae)
        levels = model_sigmas(sigmas, model)
        start = start_from(model, latent, width, height, seed)
        guide = separate_guide(NAME, model, guide_model)
        weight = weight_of(w, schedule, _api.sampling_of(model))
        ins = inspect_pair(model, guide, positive, negative, start, levels, weight)
        grid, plot, text = render(ins, model, guide_model, vae, start, schedule)
        return io.NodeOutput(grid, plot, text, ui={"text": [text]})  # the numbers also reach the history


def render(
    ins: Any, model: Any, guide: Any, vae: Any, start: Start, schedule: Schedule | None
) -> tuple[torch.Tensor, torch.Tensor, str]:
    """The node's three outputs from one inspection: grid IMAGE, plot IMAGE, numbers STRING."""
    sampling = _api.sampling_of(model)
    sigma_max = float(sampling.sigma_max)
    sigma_range = (max(float(sampling.sigma_min), sigma_max * 1e-5), sigma_max)
    grid = build_grid(ins, Display(model.model, vae), shown_input(sampling, ins.sigmas, ins.x))
    cfg = None if ins.cfg_ratios is None else ins.cfg_ratios.tolist()
    spans = plot_spans(schedule, sampling, sigma_range)
    plot = ratio_plot(ins.sigmas.tolist(), ins.ratios.tolist(), sigma_range, spans, cfg)
    device = model_management.intermediate_device()
    grid_image, plot_image = labelled(grid, ins).to(device), plot[None].to(device)
    return grid_image, plot_image, numbers(ins, grid.scales, model, guide, start, sigma_range, schedule)
