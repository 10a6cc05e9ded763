"""Autoguidance maths in pure PyTorch (never imports ComfyUI).

D_w(x; σ, c) = w·D1(x; σ, c) + (1 − w)·D0(x; σ, c): D1 is the main model, D0 the guide
(a weaker conditional model for autoguidance, the unconditional model for CFG).
"""

from .combine import combine, guidance_term
from .denoiser import guided_denoiser
from .samplers import heun_sample, karras_sigmas
from .schedule_json import as_schedule, schedule_from_dict
from .schedules import Constant, Interval, Knots, Ramp, Schedule

__all__ = [
    "Constant",
    "Interval",
    "Knots",
    "Ramp",
    "Schedule",
    "as_schedule",
    "combine",
    "guidance_term",
    "guided_denoiser",
    "heun_sample",
    "karras_sigmas",
    "schedule_from_dict",
]
