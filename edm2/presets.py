"""Named EDM2 configurations, official checkpoint names and guidance presets.

Network sizes differ only in ``model_channels`` (Table 2 of the EDM2 paper). The guidance
presets are the official ones: ``guid`` = CFG with the XS *unconditional* model as guide,
``autog`` = autoguidance with a smaller, shorter-trained conditional guide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

SIZES: dict[str, int] = {"xxs": 64, "xs": 128, "s": 192, "m": 256, "l": 320, "xl": 384, "xxl": 448}
DATASETS: dict[str, dict[str, int]] = {
    "img512": {"img_resolution": 64, "img_channels": 4, "label_dim": 1000},  # SD-VAE latents of 512×512
    "img64": {"img_resolution": 64, "img_channels": 3, "label_dim": 1000},  # pixels
}
NAMED_CONFIGS: tuple[str, ...] = tuple(
    [f"img512-{s}" for s in ("xs", "s", "m", "l", "xl", "xxl")]
    + [f"img64-{s}" for s in ("xs", "s", "m", "l", "xl")]
)
CHECKPOINT_RE = re.compile(
    r"^edm2-(img512|img64)-(xxs|xs|s|m|l|xl|xxl)(-uncond)?-(\d{7})-(\d\.\d{3})\.(pkl|safetensors)$"
)


def config(name: str, unconditional: bool = False) -> dict[str, Any]:
    """Constructor kwargs for a named config such as ``'img512-s'``."""
    dataset, _, size = name.partition("-")
    if dataset not in DATASETS or size not in SIZES:
        raise ValueError(f"EDM2 config: unknown name {name!r}; valid names: {list(NAMED_CONFIGS)}")
    cfg = dict(DATASETS[dataset], model_channels=SIZES[size])
    if unconditional:
        cfg["label_dim"] = 0
    return cfg


def config_for_checkpoint(filename: str) -> dict[str, Any] | None:
    """The config an official checkpoint file name implies (None when the name is not official)."""
    m = CHECKPOINT_RE.match(filename)
    return None if m is None else config(f"{m[1]}-{m[2]}", unconditional=bool(m[3]))


@dataclass(frozen=True)
class Preset:
    """An official generation preset: main network D1, optional guide D0 and guidance weight w."""

    name: str
    main: str
    guide: str | None = None
    guidance: float = 1.0
    kind: str = "none"  # 'none', 'cfg' (guide = unconditional model) or 'autoguidance'


def _p(name: str, main: str, guide: str | None = None, w: float = 1.0) -> Preset:
    kind = (
        "none" if guide is None else ("cfg" if "uncond" in guide and "uncond" not in main else "autoguidance")
    )
    return Preset(name, f"edm2-{main}.pkl", None if guide is None else f"edm2-{guide}.pkl", w, kind)


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in [
        _p("edm2-img512-xs-fid", "img512-xs-2147483-0.135"),
        _p("edm2-img512-xs-dino", "img512-xs-2147483-0.200"),
        _p("edm2-img512-s-fid", "img512-s-2147483-0.130"),
        _p("edm2-img512-s-dino", "img512-s-2147483-0.190"),
        _p("edm2-img512-m-fid", "img512-m-2147483-0.100"),
        _p("edm2-img512-m-dino", "img512-m-2147483-0.155"),
        _p("edm2-img512-l-fid", "img512-l-1879048-0.085"),
        _p("edm2-img512-l-dino", "img512-l-1879048-0.155"),
        _p("edm2-img512-xl-fid", "img512-xl-1342177-0.085"),
        _p("edm2-img512-xl-dino", "img512-xl-1342177-0.155"),
        _p("edm2-img512-xxl-fid", "img512-xxl-0939524-0.070"),
        _p("edm2-img512-xxl-dino", "img512-xxl-0939524-0.150"),
        _p("edm2-img64-s-fid", "img64-s-1073741-0.075"),
        _p("edm2-img64-m-fid", "img64-m-2147483-0.060"),
        _p("edm2-img64-l-fid", "img64-l-1073741-0.040"),
        _p("edm2-img64-xl-fid", "img64-xl-0671088-0.040"),
        _p("edm2-img512-xs-guid-fid", "img512-xs-2147483-0.045", "img512-xs-uncond-2147483-0.045", 1.40),
        _p("edm2-img512-xs-guid-dino", "img512-xs-2147483-0.150", "img512-xs-uncond-2147483-0.150", 1.70),
        _p("edm2-img512-s-guid-fid", "img512-s-2147483-0.025", "img512-xs-uncond-2147483-0.025", 1.40),
        _p("edm2-img512-s-guid-dino", "img512-s-2147483-0.085", "img512-xs-uncond-2147483-0.085", 1.90),
        _p("edm2-img512-m-guid-fid", "img512-m-2147483-0.030", "img512-xs-uncond-2147483-0.030", 1.20),
        _p("edm2-img512-m-guid-dino", "img512-m-2147483-0.015", "img512-xs-uncond-2147483-0.015", 2.00),
        _p("edm2-img512-l-guid-fid", "img512-l-1879048-0.015", "img512-xs-uncond-2147483-0.015", 1.20),
        _p("edm2-img512-l-guid-dino", "img512-l-1879048-0.035", "img512-xs-uncond-2147483-0.035", 1.70),
        _p("edm2-img512-xl-guid-fid", "img512-xl-1342177-0.020", "img512-xs-uncond-2147483-0.020", 1.20),
        _p("edm2-img512-xl-guid-dino", "img512-xl-1342177-0.030", "img512-xs-uncond-2147483-0.030", 1.70),
        _p("edm2-img512-xxl-guid-fid", "img512-xxl-0939524-0.015", "img512-xs-uncond-2147483-0.015", 1.20),
        _p("edm2-img512-xxl-guid-dino", "img512-xxl-0939524-0.015", "img512-xs-uncond-2147483-0.015", 1.70),
        _p("edm2-img512-s-autog-fid", "img512-s-2147483-0.070", "img512-xs-0134217-0.125", 2.10),
        _p("edm2-img512-s-autog-dino", "img512-s-2147483-0.120", "img512-xs-0134217-0.165", 2.45),
        _p("edm2-img512-xxl-autog-fid", "img512-xxl-0939524-0.075", "img512-m-0268435-0.155", 2.05),
        _p("edm2-img512-xxl-autog-dino", "img512-xxl-0939524-0.130", "img512-m-0268435-0.205", 2.30),
        _p(
            "edm2-img512-s-uncond-autog-fid",
            "img512-s-uncond-2147483-0.070",
            "img512-xs-uncond-0134217-0.110",
            2.85,
        ),
        _p(
            "edm2-img512-s-uncond-autog-dino",
            "img512-s-uncond-2147483-0.090",
            "img512-xs-uncond-0134217-0.125",
            2.90,
        ),
        _p("edm2-img64-s-autog-fid", "img64-s-1073741-0.045", "img64-xs-0134217-0.110", 1.70),
        _p("edm2-img64-s-autog-dino", "img64-s-1073741-0.105", "img64-xs-0134217-0.175", 2.20),
    ]
}
