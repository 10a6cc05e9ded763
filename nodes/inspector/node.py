"""``AutoguidancePairInspector``: where, and how much, the guide steers the main model.

At a few noise levels σ both models denoise the same x_σ, the main model's own
``noise_scaling(σ, ε, x0)`` with one ε for every σ; both load as for sampling (the guide as an
additional model of the main patcher's clone), each with its own conds. The node draws D1, D0,
D1 − D0 and the guided D_w, plots r(σ) = RMS(D1 − D0)/RMS(D1) (``pictures``) and writes the numbers.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import torch
from torch import Tensor

from ...guidance import Constant
from ...guidance.inspect import PairInspection, rms
from .. import _api, node_ids
from .._api import io
from ..guide_term import evaluate_guide, process_guide_conds
from ..noise_scale import schedule_sigma
from ..pair.checks import check_conditioning, check_pair, describe
from ..pair.shared_weights import separate_guide
from ..schedule_widgets import parse_numbers
from ..sockets import model_inputs, schedule_input, weight_input
from . import pictures

NAME = "Autoguidance Pair Inspector"
AUTO, AUTO_COUNT, SEED_MAX = "auto", 6, 2**64 - 1
HELP = (
    f"Type noise levels separated by commas (e.g. 14.6, 5, 1, 0.2, 0.03) or '{AUTO}' for {AUTO_COUNT} "
    "spread over the model's own range."
)


class Start(NamedTuple):
    """The clean start x0 (model space) and the noise ε, each [1, C, H, W], and the seed behind ε."""

    x0: torch.Tensor
    noise: torch.Tensor
    seed: int


def parse_sigmas(text: str) -> list[float] | None:
    """The typed σ list (None for 'auto'), read as a Knots schedule reads its σ; a ValueError otherwise."""
    if text.strip().lower() == AUTO:
        return None
    try:
        sigmas = parse_numbers(NAME, "sigmas", text)
    except ValueError as err:
        raise ValueError(f"{err}. {HELP}") from None
    if not sigmas:
        raise ValueError(f"{NAME}: 'sigmas' is empty (got {text!r}). {HELP}")
    if bad := [s for s in sigmas if not (math.isfinite(s) and s > 0)]:
        raise ValueError(f"{NAME}: 'sigmas' must be positive finite noise levels (got {bad}). {HELP}")
    return sigmas


def model_sigmas(text: str, model: Any, lo: float, hi: float) -> list[float]:
    """The σ to inspect, inside the main model's range [lo, hi] ('auto': log-spaced down to 10⁻⁵·hi)."""
    sigmas = parse_sigmas(text)
    if sigmas is None:
        return torch.logspace(
            math.log10(hi), math.log10(max(lo, hi * 1e-5)), AUTO_COUNT, dtype=torch.float64
        ).tolist()
    if outside := [s for s in sigmas if not lo * (1 - 1e-4) <= s <= hi * (1 + 1e-4)]:
        raise ValueError(
            f"{NAME}: 'sigmas' has {outside} outside the main model's noise range [{lo:.4g}, {hi:.4g}] "
            f"({describe(model)}). Use noise levels inside that range, or '{AUTO}'."
        )
    return sigmas


def start_from(model: Any, latent: dict | None, vae: Any, size: tuple[int, int], seed: int) -> Start:
    """x0 (model space; a batch's first latent, else zeros of ``size`` = (width, height)) and ε from
    ``seed``, [1, C, H, W]; a ValueError when the latent or the VAE is not of the model's family."""
    fmt = model.model.latent_format
    if vae is not None and getattr(vae, "latent_channels", fmt.latent_channels) != fmt.latent_channels:
        raise ValueError(
            f"{NAME}: the VAE decodes {vae.latent_channels}-channel latents but {describe(model)} makes "
            f"{fmt.latent_channels}-channel ones. Connect the VAE of this model family, or none "
            "(pixel-space models and the latent preview need none)."
        )
    if latent is None:  # pixel-space formats (no RGB preview factors, 1 or 3 channels) keep the size
        pixels = getattr(fmt, "latent_rgb_factors", None) is None and fmt.latent_channels in (1, 3)
        ratio = 1 if pixels else int(getattr(fmt, "spacial_downscale_ratio", 8))
        x0 = torch.zeros(1, fmt.latent_channels, max(1, size[1] // ratio), max(1, size[0] // ratio))
    else:
        x0 = latent["samples"][:1].float()
        if x0.ndim != 4 or x0.shape[1] != fmt.latent_channels:
            raise ValueError(
                f"{NAME}: 'latent' has shape {tuple(x0.shape)} but {describe(model)} takes "
                f"[B, {fmt.latent_channels}, H, W]. Use a latent made for this model, or disconnect "
                "'latent' to start from width/height."
            )
        if torch.count_nonzero(x0) > 0:  # as ComfyUI's samplers: an empty latent stays 0 in model space
            x0 = model.model.process_latent_in(x0)
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(seed))  # = comfy's prepare_noise
    return Start(x0, noise, seed)


def shown_input(model_sampling: Any, sigmas: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """x_σ in the data's range for display: σ_data·c_in·x = x·σ_data/√(σ² + σ_data²) (x itself for
    flow models, whose input (1 − σ)·x0 + σ·ε is already in range)."""
    return model_sampling.calculate_input(sigmas.to(x), x) * float(getattr(model_sampling, "sigma_data", 1.0))


def inspect_pair(
    main: Any, guide: Any, positive: list, negative: list | None, start: Start, sigmas: list[float], w: Tensor
) -> PairInspection:
    """D1, D0 (and D1(∅)) at each σ of ``sigmas`` from ``start``; ``w`` [N] is each σ's w for D_w. Per σ:
    one main pass (the negative's batched with the positive's, as ComfyUI batches CFG), one guide pass."""
    patched = _api.with_additional_model(main, guide)
    device = patched.load_device
    run_sigmas = torch.tensor(sigmas, dtype=torch.float32, device=device)
    options = _api.guide_model_options(patched, run_sigmas)  # any patcher's options, merged the same way
    conds = {"positive": _api.convert_cond(positive)}
    if negative is not None:
        conds["negative"] = _api.convert_cond(negative)
    x0, noise, seed = start.x0.to(device), start.noise.to(device), start.seed
    with _api.loaded_for_sampling(patched, noise.shape, conds, options) as (real_model, conds):
        conds = _api.process_conds(real_model, noise, conds, device, x0, None, seed)
        cond_lists = [conds[k] for k in ("positive", "negative") if k in conds]
        guide_conds = process_guide_conds(guide, _api.convert_cond(positive), noise, device, x0, None, seed)
        guide_options = _api.guide_model_options(guide, run_sigmas)
        model_sampling = patched.get_model_object("model_sampling")  # object patches applied
        progress, rows = _api.ProgressBar(len(sigmas)), []
        for sigma in run_sigmas.reshape(-1, 1):  # [B] with B = 1
            _api.check_interrupted()
            x = model_sampling.noise_scaling(sigma, noise.clone(), x0)  # clone: ComfyUI adds x0 in place
            with torch.no_grad():  # ComfyUI runs nodes without autograd; direct calls (tests) too
                main_out = _api.calc_cond_batch(patched.model, cond_lists, x, sigma, options)
                d0 = evaluate_guide(guide, guide_conds, x, sigma, guide_options)
            rows.append((x, main_out[0], d0, *main_out[1:]))  # x_σ, D1(c), D0(c)[, D1(∅)]
            progress.update(1)
    cpu = _api.intermediate_device()
    x, d1, d0, *unc = (torch.cat(column).to(cpu).float() for column in zip(*rows, strict=True))
    return PairInspection(run_sigmas.to(cpu), x, d1, d0, w, unc[0] if unc else None)


def numbers(ins: PairInspection, scales: list[float], header: list[str]) -> str:
    """The plot's numbers as a fixed-width table, one row per σ, to paste into a Note."""
    columns = {"σ": ins.sigmas, "ratio": ins.ratios, "RMS(D1)": rms(ins.d1)}
    columns |= {"RMS(D1−D0)": rms(ins.difference), "w": ins.w, "scale": torch.tensor(scales)}
    notes = ["ratio = RMS(D1 − D0) / RMS(D1): how far the guide's prediction is from the main model's."]
    notes += ["scale = colour scale of the row's difference maps (white 0, red +scale, blue −scale)."]
    if ins.cfg_ratios is not None:
        columns["cfg_ratio"] = ins.cfg_ratios
        notes += ["cfg_ratio = RMS(D1(c) − D1(∅)) / RMS(D1(c)), with the negative as ∅."]
    rows = [list(columns), *zip(*([f"{v:.4g}" for v in c.tolist()] for c in columns.values()), strict=True)]
    return "\n".join([*header, *("".join(f"{v:<12}" for v in row).rstrip() for row in rows), *notes])


TIPS = {
    "positive": "What you want (the prompt or class), given to both models.",
    "negative": "Optional: adds the CFG column D1(c) − D1(∅) and its ratio, to compare with D1 − D0 "
    "(one more main-model pass per σ, batched with the positive).",
    "latent": "Optional clean start x0 (e.g. a VAE-encoded picture; only the first of a batch). "
    "Disconnected: an empty latent of width × height.",
    "vae": "Optional: decode latents for display. Without it latents show as the fast RGB preview; "
    "pixel-space models (the bundled digits) need none.",
    "size": "Picture {} in pixels when no latent is connected (16 for the bundled digits).",
    "seed": "Seed of the noise ε in x_σ = x0 + σ·ε; the same ε is used at every σ.",
    "w": "Autoguidance weight for the guided column D_w = D1 + (w − 1)(D1 − D0); 1 = off, the "
    "paper's best is about 2. A connected schedule replaces it.",
    "sigmas": "Noise levels σ to inspect, in the main model's own σ (SD1.5/SDXL 0.03-14.6, EDM2 "
    f"0.002-80, flow models 0-1). {HELP}",
    "schedule": "Optional w(σ), as given to the guider: the plot shades where it guides (w ≠ 1) and D_w "
    "uses its weight at each σ.",
}


class AutoguidancePairInspector(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        size = {"default": 512, "min": 8, "max": 8192, "step": 8}
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
                *model_inputs(),
                io.Conditioning.Input("positive", tooltip=TIPS["positive"]),
                io.Conditioning.Input("negative", optional=True, tooltip=TIPS["negative"]),
                io.Latent.Input("latent", optional=True, tooltip=TIPS["latent"]),
                io.Vae.Input("vae", optional=True, tooltip=TIPS["vae"]),
                io.Int.Input("width", **size, tooltip=TIPS["size"].format("width")),
                io.Int.Input("height", **size, tooltip=TIPS["size"].format("height")),
                io.Int.Input(
                    "seed", default=0, min=0, max=SEED_MAX, control_after_generate=False, tooltip=TIPS["seed"]
                ),
                weight_input("w", 2.0, TIPS["w"]),
                io.String.Input("sigmas", default=AUTO, tooltip=TIPS["sigmas"]),
                schedule_input("schedule", TIPS["schedule"]),
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
    def execute(cls, model, guide_model, positive, width, height, seed, w, sigmas, **rest) -> io.NodeOutput:
        """``rest``: those of negative, latent, vae and schedule that are connected."""
        negative, vae, schedule = (rest.get(name) for name in ("negative", "vae", "schedule"))
        check_pair(NAME, model, guide_model)
        for socket, cond in (("positive", positive), ("negative", negative)):
            check_conditioning(NAME, socket, model, cond)
        sampling = model.get_model_object("model_sampling")
        lo, hi = float(sampling.sigma_min), float(sampling.sigma_max)
        levels = model_sigmas(sigmas, model, lo, hi)
        start = start_from(model, rest.get("latent"), vae, (width, height), seed)
        guide = separate_guide(NAME, model, guide_model)
        weights = Constant(w) if schedule is None else schedule

        def weight(sigma: Tensor) -> Tensor:  # w(σ [N]) on the schedules' noise scale, as the guider reads it
            return weights.weight(schedule_sigma(sampling, sigma))

        w_levels = weight(torch.tensor(levels, dtype=torch.float64))
        ins = inspect_pair(model, guide, positive, negative, start, levels, w_levels)
        decode = None if vae is None else lambda x: vae.decode(model.model.process_latent_out(x))
        display = pictures.Display(model.model.latent_format, decode)
        grid = pictures.grid(ins, display, shown_input(sampling, ins.sigmas, ins.x))
        plot = pictures.ratio_plot(ins, (max(lo, hi * 1e-5), hi), None if schedule is None else weight)
        about = [f"{NAME}: main {describe(model)}, guide {describe(guide_model)}"]
        text = numbers(ins, grid.scales, [*about, f"x_σ from seed {seed}; w(σ) = {weights.to_dict()}"])
        device = _api.intermediate_device()
        return io.NodeOutput(grid.image[None].to(device), plot[None].to(device), text)
