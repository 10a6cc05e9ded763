"""Tiny random-weight stand-ins for every model family the pack is tested on: the table.

Each :class:`Family` names ComfyUI's own config class (``comfy.supported_models``) and a tiny
``unet_config`` for it (1–2 blocks, widths of 32–256, so a forward on an 8×8 latent takes
milliseconds), the shape of its latents, hand-made conditioning with the family's extras
(SDXL/SD3/Flux pooled vectors, Flux's guidance, Lumina2's token mask, …) and the ComfyUI lines
whose model detection recognises it at that size (``detected``). :class:`Pair` puts a main and
a guide of one latent space together. Building and running them: ``family_runs.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch


def comfyui_version() -> str:
    """The imported ComfyUI's version ('0.3.64', '0.33.0', …)."""
    import comfyui_version as v  # ComfyUI's own module, at its root

    return v.__version__


def is_current(version: str | None = None) -> bool:
    """ComfyUI 0.4 or newer (0.33.0 here): Flux.2 and Z-Image exist, Flux sizes are detected."""
    major, minor = (int(p) for p in (version or comfyui_version()).split(".")[:2])
    return (major, minor) >= (0, 4)


# ----------------------------------------------------------------------------
# Conditioning makers: CONDITIONING lists as CLIPTextEncode would output them.


def _randn(g: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=g)


def cross(context: int, tokens: int = 8, **extra: Any) -> Callable[[int], list]:
    """[[cross_attn [1, tokens, context], extra]] (a T5/LLM-only family: pooled_output None, masks …)."""

    def make(seed: int) -> list:
        g = torch.Generator().manual_seed(seed)
        return [[_randn(g, 1, tokens, context), {k: v() if callable(v) else v for k, v in extra.items()}]]

    return make


def cross_pooled(context: int, pooled: int, tokens: int = 8, **extra: Any) -> Callable[[int], list]:
    """[[cross_attn, {"pooled_output": [1, pooled], **extra}]] (SDXL, SD3, Flux, HunyuanVideo)."""

    def make(seed: int) -> list:
        g = torch.Generator().manual_seed(seed)
        return [[_randn(g, 1, tokens, context), {"pooled_output": _randn(g, 1, pooled), **extra}]]

    return make


# ----------------------------------------------------------------------------
# The families.


@dataclass(frozen=True)
class Family:
    name: str  # test id
    config: str  # comfy.supported_models class
    unet_config: dict[str, Any]  # tiny sizes; they win over the class's own extras
    cond: Callable[[int], list]  # seed -> CONDITIONING
    latent: tuple[int, ...]  # empty latent shape [B, C, (T,) H, W]
    model_type: str | None = None  # force a ModelType (SD2 768-v)
    flux_guidance: float | None = None  # FluxGuidance node on the conditioning
    detected: tuple[str, ...] = ()  # ComfyUI lines whose detection loads it at this size
    current_only: bool = False  # Flux.2, Z-Image: ComfyUI 0.4+
    current_extra: dict[str, Any] = field(default_factory=dict)  # constructor keys ComfyUI 0.4+ requires
    real: str = ""  # what the real model is, for the table


# fmt: off
UNET_SD = {"use_checkpoint": False, "image_size": 32, "use_spatial_transformer": True, "legacy": False,
           "num_res_blocks": [1, 1], "channel_mult": [1, 2], "transformer_depth": [1, 1],
           "transformer_depth_output": [1, 1, 1, 1], "transformer_depth_middle": 1,
           "use_temporal_attention": False, "in_channels": 4, "out_channels": 4, "num_heads": 2,
           "num_head_channels": -1, "model_channels": 32, "context_dim": 32, "adm_in_channels": None}
SDXL = {**UNET_SD, "use_linear_in_transformer": True, "adm_in_channels": 32 + 6 * 256,  # pooled + 6 sizes
        "num_classes": "sequential", "transformer_depth": [0, 1], "transformer_depth_output": [0, 0, 1, 1]}
SDXL_SIZES = {"width": 64, "height": 64, "crop_w": 0, "crop_h": 0, "target_width": 64, "target_height": 64}
MASK = {"attention_mask": lambda: torch.ones(1, 8, dtype=torch.long)}  # Lumina2 / Z-Image token count


def sd3_config(depth: int, **kw: Any) -> dict[str, Any]:
    """MMDiT: hidden size 64·depth, heads = depth; detection reads all of it from the weights."""
    return {"in_channels": 16, "out_channels": 16, "patch_size": 2, "depth": depth, "input_size": None,
            "adm_in_channels": 32, "pos_embed_max_size": 8, "num_patches": 64,
            "pos_embed_scaling_factor": None,
            "context_embedder_config": {"target": "torch.nn.Linear",
                                        "params": {"in_features": 32, "out_features": 64 * depth}}, **kw}


FLUX = {"image_model": "flux", "in_channels": 16, "out_channels": 16, "patch_size": 2, "vec_in_dim": 32,
        "context_in_dim": 32, "hidden_size": 128, "mlp_ratio": 4.0, "num_heads": 1, "depth": 1,
        "depth_single_blocks": 1, "axes_dim": [16, 56, 56], "theta": 10000, "qkv_bias": True,
        "guidance_embed": True}
FLUX_CURRENT = {"txt_ids_dims": [], "yak_mlp": False, "txt_norm": False}
CHROMA = {"image_model": "chroma", "in_channels": 64, "out_channels": 64, "context_in_dim": 32,
          "hidden_size": 128, "mlp_ratio": 2.0, "num_heads": 1, "depth": 1, "depth_single_blocks": 1,
          "axes_dim": [16, 56, 56], "theta": 10000, "patch_size": 2, "qkv_bias": True, "in_dim": 64,
          "out_dim": 128, "hidden_dim": 64, "n_layers": 1}
LUMINA2 = {"image_model": "lumina2", "patch_size": 2, "in_channels": 16, "dim": 64, "cap_feat_dim": 32,
           "n_layers": 1, "n_refiner_layers": 1, "n_heads": 2, "n_kv_heads": 1, "qk_norm": True,
           "axes_dims": [8, 12, 12], "axes_lens": [300, 512, 512], "multiple_of": 16}
Z_IMAGE = {**LUMINA2, "dim": 256, "n_heads": 4, "n_kv_heads": 4, "axes_dims": [16, 24, 24],  # dim >= 256
           "axes_lens": [1536, 512, 512], "rope_theta": 256.0, "ffn_dim_multiplier": 8.0 / 3.0,
           "z_image_modulation": True, "time_scale": 1000.0}
QWEN = {"image_model": "qwen_image", "in_channels": 64, "out_channels": 16, "num_layers": 1,
        "attention_head_dim": 32, "num_attention_heads": 2, "joint_attention_dim": 32,
        "axes_dims_rope": [8, 12, 12]}
WAN21 = {"image_model": "wan2.1", "model_type": "t2v", "dim": 128, "out_dim": 16, "num_heads": 1,
         "ffn_dim": 256, "num_layers": 1, "patch_size": (1, 2, 2), "freq_dim": 256, "window_size": (-1, -1),
         "qk_norm": True, "cross_attn_norm": True, "eps": 1e-6, "in_dim": 16,
         "text_dim": 4096}  # detection pins umT5's width
HUNYUAN_VIDEO = {**FLUX, "image_model": "hunyuan_video", "patch_size": [1, 2, 2], "vec_in_dim": 768,
                 "theta": 256, "byt5": False, "meanflow": False}
HUNYUAN_CURRENT = {"use_cond_type_embedding": False, "vision_in_dim": None, "meanflow_sum": False}
AURAFLOW = {"in_channels": 4, "out_channels": 4, "patch_size": 2, "dim": 64, "n_layers": 2,
            "n_double_layers": 1, "n_heads": 2, "global_conddim": 64, "cond_seq_dim": 32, "max_seq": 16}
BOTH = ("0.3", "0.4+")

FAMILIES: tuple[Family, ...] = (
    Family("sd15", "SD15", {**UNET_SD, "use_linear_in_transformer": False}, cross(32), (1, 4, 8, 8),
           real="SD1.5 (ε-prediction, UNet)"),
    Family("sd2_768v", "SD20", {**UNET_SD, "use_linear_in_transformer": True, "num_heads": -1,
                                "num_head_channels": 16}, cross(32), (1, 4, 8, 8), model_type="V_PREDICTION",
           real="SD2.x 768-v (v-prediction)"),
    Family("sdxl", "SDXL", SDXL, cross_pooled(32, 32, **SDXL_SIZES), (1, 4, 8, 8),
           real="SDXL (pooled text + size embeddings as `adm`)"),
    Family("sd3", "SD3", sd3_config(1), cross_pooled(32, 32), (1, 16, 8, 8), detected=BOTH,
           real="SD3 Medium (MMDiT, flow)"),
    Family("flux_dev", "Flux", FLUX, cross_pooled(32, 32), (1, 16, 8, 8), flux_guidance=3.5,
           detected=("0.4+",), current_extra=FLUX_CURRENT,
           real="Flux.1-dev (guidance-distilled: guidance embedding)"),
    Family("chroma", "Chroma", CHROMA, cross(32, pooled_output=None), (1, 16, 8, 8),
           current_extra={"txt_ids_dims": [], "vec_in_dim": None},
           real="Chroma (Flux-schnell derived, no CLIP, modulation approximator)"),
    Family("lumina2", "Lumina2", LUMINA2, cross(32, **MASK), (1, 16, 8, 8),
           real="Lumina Image 2.0 (NextDiT, Gemma text)"),
    Family("qwen_image", "QwenImage", QWEN, cross(32), (1, 16, 1, 8, 8),
           real="Qwen-Image (MMDiT, Qwen2.5-VL text, Wan 2.1 latents)"),
    Family("wan21", "WAN21_T2V", WAN21, cross(4096), (1, 16, 2, 8, 8), detected=BOTH,
           real="Wan 2.1 T2V (5-D video latents)"),
    Family("hunyuan_video", "HunyuanVideo", HUNYUAN_VIDEO, cross_pooled(32, 768), (1, 16, 2, 8, 8),
           flux_guidance=6.0, detected=BOTH, current_extra=HUNYUAN_CURRENT,
           real="HunyuanVideo (5-D video latents, guidance embedding)"),
    Family("auraflow", "AuraFlow", AURAFLOW, cross(32), (1, 4, 8, 8),
           real="AuraFlow (MMDiT, flow, SDXL latents)"),
    Family("z_image", "ZImage", Z_IMAGE, cross(32, **MASK), (1, 16, 8, 8), current_only=True,
           real="Z-Image (Lumina2's NextDiT with Z-Image modulation, Qwen3 text)"),
)

# The cross-architecture pair: SD3.5 Large (38 blocks, plain) guided by SD3.5 Medium (24 blocks, extra
# self-attention in its first blocks, qk RMSNorm): one size smaller, same SD3 latent space.
SD35_LARGE = Family("sd35_large", "SD3", sd3_config(2, qk_norm="rms"), cross_pooled(32, 32), (1, 16, 8, 8),
                    detected=BOTH, real="SD3.5 Large (MMDiT, 38 blocks)")
SD35_MEDIUM = Family("sd35_medium", "SD3", sd3_config(1, qk_norm="rms", x_block_self_attn_layers=[0]),
                     cross_pooled(32, 32), (1, 16, 8, 8), detected=BOTH,
                     real="SD3.5 Medium (MMDiT-X, 24 blocks)")


def flux2_config(hidden: int, depth: int, depth_single: int, context: int) -> dict[str, Any]:
    """Flux.2: 128-channel latents (32 × 2 × 2 packed), patch 1, 4 rope axes of 32 (heads = hidden/128)."""
    return {"image_model": "flux2", "in_channels": 128, "out_channels": 128, "patch_size": 1,
            "vec_in_dim": None, "context_in_dim": context, "hidden_size": hidden, "mlp_ratio": 3.0,
            "num_heads": hidden // 128, "depth": depth, "depth_single_blocks": depth_single,
            "axes_dim": [32, 32, 32, 32], "theta": 2000,
            "qkv_bias": False, "guidance_embed": False, "txt_ids_dims": [3], "global_modulation": True,
            "mlp_silu_act": True, "ops_bias": False, "default_ref_method": "index", "ref_index_scale": 10.0,
            "yak_mlp": False, "txt_norm": False}


# Flux.2: a Klein-9B-shaped main (hidden 4096 → 256 here, Qwen3-8B text: 12288 → 64) guided by a
# Klein-4B-shaped one (3072 → 128, Qwen3-4B text: 7680 → 48): one size smaller, same latent space,
# different text encoders (so the guide gets its own conditioning).
FLUX2_KLEIN_9B = Family("flux2_klein_9b", "Flux2", flux2_config(256, 1, 2, 64), cross(64), (1, 128, 4, 4),
                        detected=("0.4+",), current_only=True, real="Flux.2 Klein 9B")
FLUX2_KLEIN_4B = Family("flux2_klein_4b", "Flux2", flux2_config(128, 1, 1, 48), cross(48), (1, 128, 4, 4),
                        detected=("0.4+",), current_only=True, real="Flux.2 Klein 4B")
# fmt: on


def line(version: str | None = None) -> str:
    return "0.4+" if is_current(version) else "0.3"


def is_detected(family: Family) -> bool:
    return line() in family.detected


# ----------------------------------------------------------------------------
# Pairs: (main, guide) of one latent space. A family paired with itself uses another seed.


@dataclass(frozen=True)
class Pair:
    main: Family
    guide: Family

    @property
    def name(self) -> str:
        return self.main.name if self.main is self.guide else f"{self.main.name}+{self.guide.name}"

    @property
    def own_guide_conditioning(self) -> bool:
        """The guide reads another text encoder's width (Klein 4B vs 9B): it gets ``guide_positive``."""
        return self.main.cond(0)[0][0].shape[-1] != self.guide.cond(0)[0][0].shape[-1]


ALL_PAIRS = (
    *(Pair(f, f) for f in FAMILIES),
    Pair(SD35_LARGE, SD35_MEDIUM),
    Pair(FLUX2_KLEIN_9B, FLUX2_KLEIN_4B),
)


def pairs() -> tuple[Pair, ...]:
    """The pairs this ComfyUI has (Flux.2 and Z-Image from 0.4 on)."""
    current = is_current()
    return tuple(p for p in ALL_PAIRS if current or not (p.main.current_only or p.guide.current_only))
