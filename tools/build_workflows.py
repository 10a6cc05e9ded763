"""Writes the bundled example workflows (``workflows/*.json``) in ComfyUI's UI format.

    COMFYUI_PATH=/path/to/ComfyUI python tools/build_workflows.py [--out DIR]

Widgets are given by name; the order of ``widgets_values`` and the socket slots come from the
node schemas of the ComfyUI it runs against (``workflow_graph.object_info``), never from a
copy kept here. ``tests/nodes/test_workflow_sources.py`` regenerates every file and fails when
one differs from the committed JSON; ``tests/server/test_workflows.py`` loads each into a live
server and queues the digits workflow.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

import harness
from workflow_graph import Graph, Node, object_info

from comfyui_autoguidance.edm2.presets import PRESETS
from comfyui_autoguidance.nodes.node_ids import GUIDED_NODE_IDS, SCHEDULE_NODE_IDS

WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows"
# The ComfyUI whose schemas wrote the committed files; the drift test runs against this one.
SCHEMAS_FROM = "0.3.64"


def sampler_parts(g: Graph, steps: int, seed: int, x: int, y: int) -> tuple[Node, Node, Node]:
    """RandomNoise, heun and the EDM schedule (σ 80 → 0.002, ρ = 7), stacked at (x, y)."""
    noise = g.add("RandomNoise", (x, y), noise_seed=seed)
    sampler = g.add("KSamplerSelect", (x, y + 180), sampler_name="heun")
    sigmas = g.add("KarrasScheduler", (x, y + 340), steps=steps, sigma_max=80.0, sigma_min=0.002, rho=7.0)
    return noise, sampler, sigmas


def run_sampler(
    g: Graph, parts: tuple[Node, Node, Node], guider: Node, latent: Node, pos: tuple[int, int]
) -> Node:
    """SamplerCustomAdvanced on ``parts`` (noise, sampler, σ) with ``guider`` from ``latent``."""
    run = g.add("SamplerCustomAdvanced", pos)
    noise, sampler, sigmas = parts
    for src, name in (
        (noise, "noise"),
        (guider, "guider"),
        (sampler, "sampler"),
        (sigmas, "sigmas"),
        (latent, "latent_image"),
    ):
        g.link(src, 0, run, name)
    return run


def edm2_sampling(g: Graph, guider: Node, latent: Node, steps: int, seed: int, x: int, y: int) -> Node:
    """Sampler parts at (x, y) into a SamplerCustomAdvanced one column to the right."""
    return run_sampler(g, sampler_parts(g, steps, seed, x, y), guider, latent, (x + 340, y))


def digits_models(g: Graph, class_index: int, batch: int) -> tuple[Node, Node, Node, Node]:
    """The bundled trio's main and guide loaders, a digit class and an empty 16×16 batch."""
    main = g.add(
        "AutoguidanceEDM2Loader",
        (20, 0),
        "main model",
        checkpoint="digits-main.safetensors",
        weight_dtype="default",
    )
    guide = g.add(
        "AutoguidanceEDM2Loader",
        (20, 180),
        "guide model (weaker)",
        checkpoint="digits-guide.safetensors",
        weight_dtype="default",
    )
    return (main, guide, *digit_batch(g, class_index, batch))


def digit_batch(g: Graph, class_index: int, batch: int) -> tuple[Node, Node]:
    """A digit class and an empty 16×16 batch, under the loaders of the left column."""
    cond = g.add(
        "AutoguidanceEDM2ClassConditioning",
        (20, 360),
        class_name="(use class_index)",
        class_index=class_index,
        label_dim=10,
        second_class_index=-1,
        mix=0.0,
        unconditional=False,
    )
    latent = g.add("AutoguidanceEDM2EmptyLatent", (20, 660), channels=1, size=16, batch_size=batch)
    return cond, latent


def guider_for(g: Graph, main: Node, guide: Node, cond: Node, w: float, pos: tuple[int, int]) -> Node:
    guider = g.add("AutoguidanceGuider", pos, w=w, cfg=1.0)
    g.link(main, 0, guider, "model")
    g.link(guide, 0, guider, "guide_model")
    g.link(cond, 0, guider, "positive")
    return guider


def pixels(g: Graph, run: Node, pos: tuple[int, int]) -> Node:
    image = g.add("AutoguidanceEDM2PixelsToImage", pos)
    g.link(run, 0, image, "samples")
    return image


def enlarged(g: Graph, image: Node, pos: tuple[int, int]) -> Node:
    """The 16×16 digits ×8, nearest neighbour: large enough to read in either canvas's preview."""
    big = g.add("ImageScaleBy", pos, upscale_method="nearest-exact", scale_by=8.0)
    g.link(image, 0, big, "image")
    return big


def save(g: Graph, image: Node, prefix: str, pos: tuple[int, int], box: tuple[int, int]) -> Node:
    node = g.add("SaveImage", pos, box=box, filename_prefix=prefix)
    g.link(image, 0, node, "images")
    return node


def digits(g: Graph, w: float = 2.0) -> Graph:
    g.add(
        "Note",
        (1040, 420),
        box=(540, 200),
        text=(
            "Autoguidance on the bundled digits models (16x16 grey, 10 classes): nothing to download.\n\n"
            "main = digits-main (large, trained fully); guide = digits-guide (small, trained 1/16 as long).\n"
            "w = 1 is off; about 2 is the paper's sweet spot. Change class_index (0-9) for another digit.\n"
            "Save Image keeps the 16x16 samples; the preview above shows them 8x larger."
        ),
    )
    main, guide, cond, latent = digits_models(g, 3, 8)
    guider = guider_for(g, main, guide, cond, w, (360, 0))
    run = run_sampler(g, sampler_parts(g, 32, 42, 700, 0), guider, latent, (360, 480))
    image = pixels(g, run, (360, 720))
    save(g, image, "autoguidance_digits", (700, 640), (300, 200))
    preview = g.add("PreviewImage", (1040, 0), box=(540, 340))
    g.link(enlarged(g, image, (360, 880)), 0, preview, "images")
    return g


def schedule_showcase(g: Graph) -> Graph:
    """The five schedule nodes, each driving its own guider on the digits trio (one row each)."""
    g.add(
        "Note",
        (360, -230),
        box=(1000, 190),
        text=(
            "Guidance schedules w(sigma), each on the bundled digits models. The curve inside each schedule "
            "node shows w against log sigma (high noise on the left); shaded is where the guide runs, and "
            "the title line counts the guide evaluations for the connected sampler.\n"
            "Constant: the paper's choice for autoguidance. Interval: guide only for sigma in (lo, hi]; "
            "elsewhere the guide is skipped. Ramp / Knots: any curve. Limit: cut any curve to an interval.\n"
            "One noise, sampler and sigma schedule serve the four rows; each row saves its four digits 8x "
            "larger (nearest neighbour)."
        ),
    )
    main, guide, cond, latent = digits_models(g, 7, 4)
    parts = sampler_parts(g, 32, 7, 20, 900)
    row = 500
    ramp = g.add(
        "AutoguidanceScheduleRamp",
        (360, 2 * row),
        w_start=3.0,
        w_end=1.0,
        sigma_start=80.0,
        sigma_end=0.01,
        space="log",
        shape="cosine",
    )
    limit = g.add("AutoguidanceScheduleLimit", (700, 2 * row), sigma_lo=0.1, sigma_hi=10.0)
    g.link(ramp, 0, limit, "schedule")
    driven = [
        (g.add("AutoguidanceScheduleConstant", (360, 0), w=2.0), 0),
        (g.add("AutoguidanceScheduleInterval", (360, row), w=2.0, sigma_lo=0.28, sigma_hi=5.42), 1),
        (limit, 2),
        (
            g.add(
                "AutoguidanceScheduleKnots",
                (360, 3 * row),
                sigmas="80, 5, 1, 0.1",
                weights="1.5, 2.5, 2.0, 1.0",
            ),
            3,
        ),
    ]
    for i, (sched, r) in enumerate(driven):
        y = r * row
        guider = guider_for(g, main, guide, cond, 2.0, (1040, y))
        g.link(sched, 0, guider, "schedule")
        run = run_sampler(g, parts, guider, latent, (1380, y))
        image = pixels(g, run, (1380, y + 240))
        save(g, enlarged(g, image, (1720, y)), f"autoguidance_schedule_{i}", (1720, y + 180), (300, 250))
    return g


def edm2_imagenet(g: Graph, preset_name: str, title: str) -> Graph:
    """The paper's autoguidance preset ``preset_name`` (edm2/presets.py: files and w)."""
    preset = PRESETS[preset_name]
    main_file, guide_file, w = preset.main, preset.guide, preset.guidance
    assert guide_file is not None and preset.kind == "autoguidance", preset_name
    g.add(
        "Note",
        (20, -230),
        box=(760, 200),
        text=(
            f"{title}: the paper's autoguidance preset (ImageNet-512, class-conditional, w = {w}).\n\n"
            f"Put the official snapshots in ComfyUI/models/edm2/ (the .pkl files load safely as they are, "
            f"or convert them with 'python -m comfyui_autoguidance.edm2.convert'):\n"
            f"  main:  {main_file}\n  guide: {guide_file}\n"
            "Both from https://nvlabs-fi-cdn.nvidia.com/edm2/posthoc-reconstructions/\n"
            "and the VAE vae-ft-mse-840000-ema-pruned.safetensors (stabilityai/sd-vae-ft-mse) in "
            "ComfyUI/models/vae/.\nUse EDM2 VAE Decode: EDM2 maps pixels to [0, 1] before the VAE."
        ),
    )
    main = g.add(
        "AutoguidanceEDM2Loader", (20, 0), "main model", checkpoint=main_file, weight_dtype="default"
    )
    guide = g.add(
        "AutoguidanceEDM2Loader",
        (20, 180),
        "guide model (smaller, shorter-trained)",
        checkpoint=guide_file,
        weight_dtype="default",
    )
    cond = g.add(
        "AutoguidanceEDM2ClassConditioning",
        (20, 360),
        class_name="88: macaw",
        class_index=0,
        label_dim=1000,
        second_class_index=-1,
        mix=0.0,
        unconditional=False,
    )
    latent = g.add("AutoguidanceEDM2EmptyLatent", (20, 660), channels=4, size=64, batch_size=1)
    guider = guider_for(g, main, guide, cond, w, (360, 0))
    run = edm2_sampling(g, guider, latent, 32, 0, 700, 0)
    vae = g.add("VAELoader", (20, 880), vae_name="vae-ft-mse-840000-ema-pruned.safetensors")
    decode = g.add("AutoguidanceEDM2VAEDecode", (1040, 240))
    g.link(run, 0, decode, "samples")
    g.link(vae, 0, decode, "vae")
    save(g, decode, "autoguidance_edm2", (1040, 400), (480, 480))
    return g


def pair_inspector(g: Graph) -> Graph:
    """The pair inspector on the digits pair: a '3' drawn by the main model alone, noised to six σ."""
    g.add(
        "Note",
        (20, -250),
        box=(1000, 220),
        text=(
            "Pair inspector on the bundled digits models: nothing to download.\n\n"
            "The main model first draws a 3 on its own (Basic Guider). The inspector noises that digit to "
            "six "
            "noise levels sigma (80 ... 0.002, high noise first) and shows per row: the noisy input, what "
            "the "
            "main model (D1) and the weak guide (D0) make of it, their difference D1 - D0 (red +, blue -: "
            "what "
            "autoguidance amplifies by w - 1) and the guided D_w. The plot draws RMS(D1 - D0) / RMS(D1) over "
            "sigma; shaded is where the Interval schedule guides. The 'numbers' output is the same as a "
            "table "
            "(connect a Preview Any node to read and copy it).\n"
            "Your own pair: swap the loaders, connect its VAE for latent models, and a negative for the CFG "
            "column D1(c) - D1(uncond)."
        ),
    )
    main, guide, cond, latent = digits_models(g, 3, 1)
    alone = g.add("BasicGuider", (360, 0), "main model alone")
    g.link(main, 0, alone, "model")
    g.link(cond, 0, alone, "conditioning")
    run = edm2_sampling(g, alone, latent, 32, 42, 360, 180)
    interval = g.add("AutoguidanceScheduleInterval", (700, 440), w=2.0, sigma_lo=0.28, sigma_hi=5.42)
    inspector = g.add(
        "AutoguidancePairInspector",
        (1040, 0),
        box=(340, 330),
        width=16,
        height=16,
        seed=0,
        w=2.0,
        sigmas="auto",
    )
    for src, slot, name in (
        (main, 0, "model"),
        (guide, 0, "guide_model"),
        (cond, 0, "positive"),
        (run, 0, "latent"),
        (interval, 0, "schedule"),
    ):
        g.link(src, slot, inspector, name)
    for slot, (prefix, y, size) in enumerate(
        [("autoguidance_pair_grid", 0, (480, 480)), ("autoguidance_pair_plot", 540, (480, 340))]
    ):
        node = g.add("SaveImage", (1420, y), box=size, filename_prefix=prefix)
        g.link(inspector, slot, node, "images")
    return g


def digits_lora(g: Graph) -> Graph:
    """A LoRA guided by its own base (issue #19): digits-main + the bundled bold-stroke LoRA, guided by
    the bare digits-main from the same loader (one copy of the weights), beside the LoRA alone."""
    g.add(
        "Note",
        (1040, 420),
        box=(540, 260),
        text=(
            "A LoRA guided by its own base, on the bundled digits models: nothing to download.\n\n"
            "main = digits-main + digits-bold (a bold-stroke LoRA, bundled, trained by "
            "research/train_digits_lora.py); guide = the bare digits-main from the same loader. The pair "
            "runs over one copy of the base weights: the LoRA is applied on the main pass only. "
            "Autoguidance then pushes the samples further along what the LoRA changed: bolder strokes. "
            "It guides only at high noise (sigma > 1), where the strokes are decided; below, the LoRA and "
            "its base differ in texture, and amplifying that adds speckle. Bottom row: the same LoRA "
            "without guidance.\n"
            "Your own: any checkpoint -> LoRA loader -> 'model', and the checkpoint loader -> 'guide_model'."
        ),
    )
    base = g.add(
        "AutoguidanceEDM2Loader",
        (20, 0),
        "base model",
        checkpoint="digits-main.safetensors",
        weight_dtype="default",
    )
    lora = g.add(
        "LoraLoaderModelOnly",
        (20, 180),
        "bold-stroke LoRA",
        lora_name="digits-bold.safetensors",
        strength_model=1.0,
    )
    g.link(base, 0, lora, "model")
    cond, latent = digit_batch(g, 3, 8)
    guider = guider_for(g, lora, base, cond, 2.0, (360, 0))
    high_noise = g.add("AutoguidanceScheduleInterval", (20, 860), w=2.0, sigma_lo=1.0, sigma_hi=80.0)
    g.link(high_noise, 0, guider, "schedule")
    parts = sampler_parts(g, 32, 42, 700, 0)
    image = pixels(g, run_sampler(g, parts, guider, latent, (360, 480)), (360, 720))
    save(g, image, "autoguidance_digits_lora", (700, 640), (300, 200))
    preview = g.add("PreviewImage", (1040, 0), box=(540, 340))
    g.link(enlarged(g, image, (360, 880)), 0, preview, "images")
    alone = g.add("BasicGuider", (360, 1040), "the LoRA alone (no guidance)")
    g.link(lora, 0, alone, "model")
    g.link(cond, 0, alone, "conditioning")
    unguided = pixels(g, run_sampler(g, parts, alone, latent, (360, 1200)), (360, 1440))
    save(g, unguided, "digits_lora_unguided", (700, 1360), (300, 200))
    preview = g.add("PreviewImage", (1040, 1040), box=(540, 340))
    g.link(enlarged(g, unguided, (360, 1600)), 0, preview, "images")
    return g


PROMPT = "a lighthouse on a rocky coast at dusk, detailed oil painting"
NEGATIVE = "blurry, low quality, deformed"


def sdxl_hybrid(g: Graph) -> Graph:
    g.add(
        "Note",
        (20, -230),
        box=(760, 190),
        text=(
            "SDXL autoguidance + CFG (the paper's hybrid) with a guidance interval on the CFG term.\n\n"
            "main:  sd_xl_base_1.0.safetensors in ComfyUI/models/checkpoints/\n"
            "guide: sdxl_guide.safetensors, a weaker SDXL checkpoint of the same family (an earlier, less "
            "trained or smaller one): pick yours in the list.\n"
            "Autoguidance w = 1.5 runs at every step (the paper: an interval does not help it); the CFG term "
            "(cfg 4.5) runs only for sigma in (0.28, 5.42], where it helps most."
        ),
    )
    main = g.add("CheckpointLoaderSimple", (20, 0), "main checkpoint", ckpt_name="sd_xl_base_1.0.safetensors")
    guide = g.add(
        "CheckpointLoaderSimple", (20, 140), "guide checkpoint (weaker)", ckpt_name="sdxl_guide.safetensors"
    )
    pos = g.add("CLIPTextEncode", (360, 0), box=(380, 160), text=PROMPT)
    neg = g.add("CLIPTextEncode", (360, 200), box=(380, 160), text=NEGATIVE)
    g.link(main, "CLIP", pos, "clip")
    g.link(main, "CLIP", neg, "clip")
    interval = g.add(
        "AutoguidanceScheduleInterval",
        (360, 400),
        "CFG only inside the interval",
        box=(380, 220),
        w=4.5,
        sigma_lo=0.28,
        sigma_hi=5.42,
    )
    guider = g.add("AutoguidanceGuider", (780, 0), w=1.5, cfg=1.0)
    g.link(main, 0, guider, "model")
    g.link(guide, 0, guider, "guide_model")
    g.link(pos, 0, guider, "positive")
    g.link(neg, 0, guider, "negative")
    g.link(interval, 0, guider, "cfg_schedule")
    latent = g.add("EmptyLatentImage", (780, 480), width=1024, height=1024, batch_size=1)
    noise = g.add("RandomNoise", (1140, 380), noise_seed=0)
    sampler = g.add("KSamplerSelect", (1140, 560), sampler_name="euler")
    sigmas = g.add("BasicScheduler", (1140, 720), scheduler="karras", steps=30, denoise=1.0)
    g.link(main, 0, sigmas, "model")
    run = g.add("SamplerCustomAdvanced", (1140, 0))
    g.link(noise, 0, run, "noise")
    g.link(guider, 0, run, "guider")
    g.link(sampler, 0, run, "sampler")
    g.link(sigmas, 0, run, "sigmas")
    g.link(latent, 0, run, "latent_image")
    decode = g.add("VAEDecode", (1140, 240))
    g.link(run, 0, decode, "samples")
    g.link(main, "VAE", decode, "vae")
    save(g, decode, "autoguidance_sdxl", (1480, 0), (440, 440))
    return g


def sd15_ksampler(g: Graph) -> Graph:
    g.add(
        "Note",
        (20, -200),
        box=(760, 160),
        text=(
            "SD1.5 autoguidance on the plain KSampler through the model patch (also works for detailers).\n\n"
            "main:  v1-5-pruned-emaonly.safetensors in ComfyUI/models/checkpoints/\n"
            "guide: sd15_guide.safetensors, a weaker SD1.5 checkpoint (e.g. an earlier one, or the same base "
            "without your fine-tune): pick yours in the list.\n"
            "The KSampler's cfg and negative prompt still apply: together with w this is the paper's hybrid."
        ),
    )
    main = g.add(
        "CheckpointLoaderSimple", (20, 0), "main checkpoint", ckpt_name="v1-5-pruned-emaonly.safetensors"
    )
    guide = g.add(
        "CheckpointLoaderSimple", (20, 140), "guide checkpoint (weaker)", ckpt_name="sd15_guide.safetensors"
    )
    patch = g.add("AutoguidanceModelPatch", (360, 0), box=(320, 130), w=2.0)
    g.link(main, 0, patch, "model")
    g.link(guide, 0, patch, "guide_model")
    pos = g.add("CLIPTextEncode", (360, 170), box=(380, 160), text=PROMPT)
    neg = g.add("CLIPTextEncode", (360, 370), box=(380, 160), text=NEGATIVE)
    g.link(main, "CLIP", pos, "clip")
    g.link(main, "CLIP", neg, "clip")
    latent = g.add("EmptyLatentImage", (360, 570), width=512, height=512, batch_size=1)
    sampler = g.add(
        "KSampler",
        (780, 0),
        box=(320, 270),
        seed=0,
        steps=25,
        cfg=3.0,
        sampler_name="dpmpp_2m",
        scheduler="karras",
        denoise=1.0,
    )
    g.link(patch, 0, sampler, "model")
    g.link(pos, 0, sampler, "positive")
    g.link(neg, 0, sampler, "negative")
    g.link(latent, 0, sampler, "latent_image")
    decode = g.add("VAEDecode", (1140, 0))
    g.link(sampler, 0, decode, "samples")
    g.link(main, "VAE", decode, "vae")
    save(g, decode, "autoguidance_sd15", (1140, 160), (480, 480))
    return g


# ----------------------------------------------------------------------------
# Flow-model pairs (SD3.5 Large + Medium, Flux.1): schedules read σ as the noise-to-signal ratio σ_edm
# = σ/(1 − σ) on these models, so the (0.28, 5.42] interval means what it means on SDXL.


def flow_sampling(
    g: Graph, main: Node, guider: Node, vae: tuple[Node, str | int], steps: int, prefix: str, x: int
) -> None:
    """EmptySD3LatentImage (16 channels) under the guider → SamplerCustomAdvanced (euler, simple) at
    column ``x`` → VAEDecode → SaveImage."""
    latent = g.add("EmptySD3LatentImage", (780, 480), width=1024, height=1024, batch_size=1)
    noise = g.add("RandomNoise", (x, 380), noise_seed=0)
    sampler = g.add("KSamplerSelect", (x, 560), sampler_name="euler")
    sigmas = g.add("BasicScheduler", (x, 720), scheduler="simple", steps=steps, denoise=1.0)
    g.link(main, 0, sigmas, "model")
    run = g.add("SamplerCustomAdvanced", (x, 0))
    for src, name in (
        (noise, "noise"),
        (guider, "guider"),
        (sampler, "sampler"),
        (sigmas, "sigmas"),
        (latent, "latent_image"),
    ):
        g.link(src, 0, run, name)
    decode = g.add("VAEDecode", (x, 240))
    g.link(run, 0, decode, "samples")
    g.link(vae[0], vae[1], decode, "vae")
    save(g, decode, prefix, (x + 340, 0), (440, 440))


def sd35_large_medium(g: Graph) -> Graph:
    """SD3.5 Large guided by SD3.5 Medium: one size smaller, same SD3 latent space and text encoders."""
    g.add(
        "Note",
        (20, -250),
        box=(800, 220),
        text=(
            "SD3.5 Large guided by SD3.5 Medium (the paper's recipe: a smaller model of the same family) "
            "plus CFG limited to the interval (0.28, 5.42].\n\n"
            "main:  sd3.5_large.safetensors in ComfyUI/models/checkpoints/\n"
            "guide: sd3.5_medium.safetensors in ComfyUI/models/checkpoints/\n"
            "text encoders, in ComfyUI/models/text_encoders/: clip_l.safetensors, clip_g.safetensors, "
            "t5xxl_fp16.safetensors (stabilityai/stable-diffusion-3.5-large, text_encoders/)\n"
            "Both models read the same text encoders, so one prompt serves both. The interval is in the "
            "noise-to-signal ratio sigma/(1 - sigma) of these flow models, the same scale as SDXL's sigma."
        ),
    )
    main = g.add("CheckpointLoaderSimple", (20, 0), "main: SD3.5 Large", ckpt_name="sd3.5_large.safetensors")
    guide = g.add(
        "CheckpointLoaderSimple", (20, 140), "guide: SD3.5 Medium", ckpt_name="sd3.5_medium.safetensors"
    )
    clip = g.add(
        "TripleCLIPLoader",
        (20, 280),
        box=(320, 130),
        clip_name1="clip_l.safetensors",
        clip_name2="clip_g.safetensors",
        clip_name3="t5xxl_fp16.safetensors",
    )
    pos = g.add("CLIPTextEncode", (360, 0), box=(380, 160), text=PROMPT)
    neg = g.add("CLIPTextEncode", (360, 200), box=(380, 160), text=NEGATIVE)
    g.link(clip, 0, pos, "clip")
    g.link(clip, 0, neg, "clip")
    interval = g.add(
        "AutoguidanceScheduleInterval",
        (360, 400),
        "CFG only inside the interval",
        box=(380, 220),
        w=4.0,
        sigma_lo=0.28,
        sigma_hi=5.42,
    )
    guider = g.add("AutoguidanceGuider", (780, 0), w=2.0, cfg=1.0)
    for src, name in (
        (main, "model"),
        (guide, "guide_model"),
        (pos, "positive"),
        (neg, "negative"),
        (interval, "cfg_schedule"),
    ):
        g.link(src, 0, guider, name)
    flow_sampling(g, main, guider, (main, "VAE"), 28, "autoguidance_sd35", 1140)
    return g


def flux_pair(g: Graph) -> Graph:
    """Flux.1-dev guided by a weaker Flux.1 model (same latent space and text encoders), guidance embedding "
    "3.5."""
    g.add(
        "Note",
        (20, -250),
        box=(800, 220),
        text=(
            "Flux.1-dev guided by a weaker Flux.1 model. Flux-dev is guidance-distilled: its guidance is "
            "FluxGuidance (3.5), not CFG, so autoguidance is the only guidance term here.\n\n"
            "main:  flux1-dev.safetensors in ComfyUI/models/diffusion_models/\n"
            "guide: flux1-schnell.safetensors in ComfyUI/models/diffusion_models/ (same latent space and "
            "text "
            "encoders), or any weaker Flux.1 model: an earlier fine-tune epoch, or the base under your "
            "fine-tune\n"
            "text encoders, in ComfyUI/models/text_encoders/: clip_l.safetensors, t5xxl_fp16.safetensors\n"
            "VAE: ae.safetensors in ComfyUI/models/vae/ (black-forest-labs/FLUX.1-dev)\n"
            "Schedules read sigma as sigma/(1 - sigma) on Flux, the same scale as SDXL's sigma."
        ),
    )
    main = g.add(
        "UNETLoader", (20, 0), "main: Flux.1-dev", unet_name="flux1-dev.safetensors", weight_dtype="default"
    )
    guide = g.add(
        "UNETLoader",
        (20, 140),
        "guide: weaker Flux.1",
        unet_name="flux1-schnell.safetensors",
        weight_dtype="default",
    )
    clip = g.add(
        "DualCLIPLoader",
        (20, 280),
        box=(320, 130),
        clip_name1="clip_l.safetensors",
        clip_name2="t5xxl_fp16.safetensors",
        type="flux",
        device="default",
    )
    vae = g.add("VAELoader", (20, 440), vae_name="ae.safetensors")
    pos = g.add("CLIPTextEncode", (360, 0), box=(380, 160), text=PROMPT)
    g.link(clip, 0, pos, "clip")
    guidance = g.add("FluxGuidance", (360, 200), guidance=3.5)
    g.link(pos, 0, guidance, "conditioning")
    guider = g.add("AutoguidanceGuider", (780, 0), w=2.0, cfg=1.0)
    for src, name in ((main, "model"), (guide, "guide_model"), (guidance, "positive")):
        g.link(src, 0, guider, name)
    flow_sampling(g, main, guider, (vae, 0), 20, "autoguidance_flux", 1140)
    return g


# ----------------------------------------------------------------------------
# Beside core's Dual Model CFG Guider, and across machines with ComfyUI-Distributed (issue #20).
# Their node schemas are written here: the committed files are built against ComfyUI 0.3.64, which
# has neither (tests/nodes/test_workflow_schemas.py and tests/server/test_distributed_sweep.py
# compare them with the real ones).

NEWER_NODES: dict[str, dict[str, Any]] = {
    "DualModelGuider": {  # ComfyUI 0.24+ (comfy_extras/nodes_custom_sampler.py), read on 0.33.0
        "input": {
            "required": {
                "model": ["MODEL", {}],
                "positive": ["CONDITIONING", {}],
                "cfg": ["FLOAT", {"default": 4.0, "min": 0.0, "max": 100.0, "step": 0.1, "round": 0.01}],
            },
            "optional": {"model_negative": ["MODEL", {}], "negative": ["CONDITIONING", {}]},
        },
        "input_order": {"required": ["model", "positive", "cfg"], "optional": ["model_negative", "negative"]},
        "output": ["GUIDER"],
        "output_name": ["GUIDER"],
    },
    "DistributedValue": {  # ComfyUI-Distributed 1.4.4 (nodes/utilities.py)
        "input": {
            "required": {"default_value": ["STRING", {"default": ""}], "worker_values": ["STRING", {}]}
        },
        "input_order": {"required": ["default_value", "worker_values"]},
        "output": ["FLOAT"],  # "*" in its schema; its front end takes the type of the input it feeds
        "output_name": ["value"],
    },
    "DistributedCollector": {  # ComfyUI-Distributed 1.4.4 (nodes/collector.py)
        "input": {
            "required": {"images": ["IMAGE", {}], "load_balance": ["BOOLEAN", {"default": False}]},
            "optional": {"audio": ["AUDIO", {}]},
        },
        "input_order": {"required": ["images", "load_balance"], "optional": ["audio"]},
        "output": ["IMAGE", "AUDIO"],
        "output_name": ["images", "audio"],
    },
}


class WidgetSocketGraph(Graph):
    """A graph whose nodes may take a widget's value from a link (:func:`widget_socket`), saved as
    the front end saves a widget turned into an input (``"widget": {"name": ...}``)."""

    def to_json(self) -> dict[str, Any]:
        data = super().to_json()
        for entry, node in zip(data["nodes"], self.nodes, strict=True):
            widgets = {name for name, _ in node.schema.widgets}
            for socket in entry["inputs"]:
                if socket["name"] in widgets:
                    socket["widget"] = {"name": socket["name"]}
        return data


def widget_socket(node: Node, name: str, kind: str) -> None:
    """Give ``node`` an input socket for its widget ``name`` (the widget keeps its value)."""
    node.schema = dataclasses.replace(node.schema, sockets=[*node.schema.sockets, (name, kind)])


def dual_model_side_by_side(g: Graph) -> Graph:
    """Our guider and core's Dual Model CFG Guider on the digits pair: the same pictures."""
    g = Graph({**NEWER_NODES, **g.info})
    g.add(
        "Note",
        (1040, 0),
        box=(540, 420),
        text=(
            "Needs ComfyUI 0.24 or newer (Dual Model CFG Guider). Nothing to download.\n\n"
            "With the guide as its negative model and the prompt as its negative, core's Dual Model CFG "
            "Guider at cfg = w is pure autoguidance, D0 + w (D1 - D0): both rows show the same digits "
            "(equal to float rounding; a test checks it).\n\n"
            "What Autoguidance Guider adds: CFG and autoguidance together (a negative prompt plus cfg, "
            "the paper's mix w_cfg = (1 - a)(w - 1) + 1, w_ag = a(w - 1) + 1); w(sigma) curves for each "
            "term (Guidance Schedule nodes: intervals, ramps); pair checks before anything loads (latent "
            "channels, noise parameterisation); the guide on a device of its own, run beside the main "
            "model; the same term for the plain KSampler (KSampler patch); the Pair Inspector."
        ),
    )
    main, guide, cond, latent = digits_models(g, 3, 8)
    parts = sampler_parts(g, 32, 42, 700, 0)
    ours = guider_for(g, main, guide, cond, 2.0, (360, 0))
    dual = g.add("DualModelGuider", (360, 900), "Dual Model CFG Guider (core)", cfg=2.0)
    for src, name in ((main, "model"), (guide, "model_negative"), (cond, "positive"), (cond, "negative")):
        g.link(src, 0, dual, name)
    for i, (guider, prefix) in enumerate(((ours, "autoguidance_guider"), (dual, "dual_model_guider"))):
        y = 900 * i
        run = run_sampler(g, parts, guider, latent, (360, y + (480 if i == 0 else 240)))
        image = pixels(g, run, (700, y + 480))
        save(g, image, prefix, (700, y + 640), (300, 200))
        preview = g.add("PreviewImage", (1040, y + 480), box=(540, 340))
        g.link(enlarged(g, image, (1040, y + 860)), 0, preview, "images")
    return g


SWEEP_W = (1.5, 2.0, 3.0)  # the columns: total guidance weight w
SWEEP_ALPHA = {"master": 1.0, "1": 0.5}  # the rows: each participant's share α of autoguidance


def mix(w: float, alpha: float) -> tuple[float, float]:
    """(w_ag, w_cfg) for a total weight w and autoguidance share α (the paper's text-to-image mix)."""
    return alpha * (w - 1) + 1, (1 - alpha) * (w - 1) + 1


def per_worker(g: Graph, pos: tuple[int, int], title: str, values: dict[str, float]) -> Node:
    """A Distributed Value: ``values["master"]`` on the master, ``values[k]`` on worker k."""
    workers = {"_type": "FLOAT", **{k: f"{v:g}" for k, v in values.items() if k != "master"}}
    node = g.add(
        "DistributedValue",
        pos,
        title,
        default_value=f"{values['master']:g}",
        worker_values=json.dumps(workers),
    )
    node.size = (node.size[0], DISTRIBUTED_VALUE_HEIGHT)
    return node


# Nodes 2.0 draws a Distributed Value 162 px tall below its title where ComfyUI-Distributed is not
# installed (front end 1.58.1: both values as text boxes), taller than its two widgets would be.
DISTRIBUTED_VALUE_HEIGHT = 170


def distributed_sweep(g: Graph) -> Graph:
    """A w × α sweep on the digits pair: the master renders one α row, each worker another."""
    g = WidgetSocketGraph({**NEWER_NODES, **g.info})
    g.add(
        "Note",
        (20, -560),
        box=(1100, 300),
        text=(
            "Needs ComfyUI-Distributed (github.com/robertvoy/ComfyUI-Distributed) on this ComfyUI and on "
            "one worker, added and enabled in its side bar. The digits models are bundled: nothing to "
            "download.\n\n"
            "A w x alpha sweep: each column is a total weight w (1.5, 2, 3), each participant one share "
            "alpha of autoguidance: w_ag = alpha (w - 1) + 1 and cfg = (1 - alpha)(w - 1) + 1. This "
            "machine (the master) draws alpha = 1, pure autoguidance; worker 1 draws alpha = 0.5, half "
            "CFG and half autoguidance, at the same time. The Distributed Value nodes hold both rows "
            "(default = master, '1' = worker 1): add a worker and its values for another row.\n\n"
            "Every participant uses the same seeds, so each picture is the one a single ComfyUI draws "
            "with those values (a test checks it pixel for pixel). Saved: master row, then worker rows."
        ),
    )
    main, guide, cond, latent = digits_models(g, 3, 4)
    uncond = g.add(
        "AutoguidanceEDM2ClassConditioning",
        (20, 900),
        "unconditional (for the CFG term)",
        class_name="(use class_index)",
        class_index=0,
        label_dim=10,
        second_class_index=-1,
        mix=0.0,
        unconditional=True,
    )
    parts = sampler_parts(g, 16, 42, 1040, 0)
    images: list[Node] = []
    for i, w in enumerate(SWEEP_W):
        y = 700 * i
        cells = {who: mix(w, alpha) for who, alpha in SWEEP_ALPHA.items()}
        w_ag = per_worker(g, (360, y), f"w_ag for w = {w:g}", {k: v[0] for k, v in cells.items()})
        w_cfg = per_worker(g, (360, y + 180), f"cfg for w = {w:g}", {k: v[1] for k, v in cells.items()})
        guider = guider_for(g, main, guide, cond, w, (700, y))
        for node, name in ((w_ag, "w"), (w_cfg, "cfg")):
            widget_socket(guider, name, "FLOAT")
            g.link(node, 0, guider, name)
        g.link(uncond, 0, guider, "negative")
        run = run_sampler(g, parts, guider, latent, (1380, y))
        images.append(pixels(g, run, (1380, y + 240)))
    batch = images[0]
    for i, image in enumerate(images[1:], start=1):
        joined = g.add("ImageBatch", (1720, 700 * i - 300))
        g.link(batch, 0, joined, "image1")
        g.link(image, 0, joined, "image2")
        batch = joined
    collect = g.add("DistributedCollector", (2060, 0), load_balance=False)
    g.link(batch, 0, collect, "images")
    save(g, collect, "autoguidance_sweep", (2060, 240), (300, 200))
    preview = g.add("PreviewImage", (2400, 0), box=(540, 540))
    g.link(enlarged(g, collect, (2400, 620)), 0, preview, "images")
    return g


# ----------------------------------------------------------------------------
# Layout for both canvases, applied to every workflow in the registry. A stored size wins over a
# node's own computeSize when a workflow loads, so each box is given room for what the taller of the
# two canvases draws: the classic canvas (LiteGraph: 20 px per socket row, 24 per widget) and Nodes
# 2.0 (Vue: a 30-px header and ~28 px per socket row or widget, measured on front end 1.58.1); the
# w(σ) plot (PLOT_HEIGHT) under the widgets of every plotted node; widths that hold each widget's
# label and value side by side. Then every node that overlaps one above it moves down, and the
# saved view opens at a zoom where node titles are drawn.

PLOTTED = {*GUIDED_NODE_IDS, *SCHEDULE_NODE_IDS}
PLOT_HEIGHT = 132  # web/schedule_widget.js PLOT_HEIGHT (tests/web/test_front_end_facts.py)
TITLE = 30  # the title bar, drawn above pos in both canvases
GAP = 40  # between two boxes
ROW = 28  # one socket row or widget in Nodes 2.0 (the taller canvas)
TEXT_ROWS = 3  # a multi-line text widget's rows
CHAR = 8.0  # px per character of a label or value (Nodes 2.0 combos need ~8 with their arrows)
VIEW = (1600, 1000)  # the screen a saved view is made for
CHROME = (60, 80)  # left and top of it that the front end's side bar and floating tool bars cover (1.58)
READABLE = 0.65  # the least zoom of a saved view: LiteGraph hides 14-px titles below 8 px (0.57)


def body_height(node: Node) -> int:
    """Height below the title bar that shows every socket, widget and the plot in both canvases."""
    rows = max(len(node.schema.sockets), len(node.schema.outputs))
    widgets = sum(TEXT_ROWS if multiline else 1 for multiline in node.schema.multiline)
    plot = PLOT_HEIGHT + 16 if node.type in PLOTTED else 0
    return 30 + ROW * (rows + widgets) + plot


def body_width(node: Node) -> int:
    """Width that shows each one-line widget's label and value side by side."""
    texts = [
        len(name) + len(str(value))
        for (name, _), value, multiline in zip(
            node.schema.widgets, node.widgets, node.schema.multiline, strict=True
        )
        if not multiline
    ]
    return round(100 + CHAR * max(texts, default=0))


def _overlap(a: Node, b: Node) -> bool:
    """Whether two boxes (title bars included) overlap side by side and come closer than GAP above
    or below."""
    ax, ay, bx, by = a.pos[0], a.pos[1] - TITLE, b.pos[0], b.pos[1] - TITLE
    across = ax < bx + b.size[0] and bx < ax + a.size[0]
    return across and ay < by + b.size[1] + TITLE + GAP and by < ay + a.size[1] + TITLE + GAP


def _beside(a: Node, b: Node) -> bool:
    """Whether ``b`` starts right of ``a``'s start, beside it, closer than GAP / 2 to its right edge."""
    above = b.pos[1] + b.size[1] <= a.pos[1] - TITLE or a.pos[1] + a.size[1] <= b.pos[1] - TITLE
    return a.pos[0] < b.pos[0] < a.pos[0] + a.size[0] + GAP // 2 and not above


def lay_out(g: Graph) -> Graph:
    """Grow every box to fit both canvases; move the columns right of a box that grew into them right,
    then each node that overlaps one above it down."""
    for node in g.nodes:
        node.size = (max(node.size[0], body_width(node)), max(node.size[1], body_height(node)))
    for a in sorted(g.nodes, key=lambda n: n.pos[0]):
        if shift := max(
            (a.pos[0] + a.size[0] + GAP // 2 - b.pos[0] for b in g.nodes if _beside(a, b)), default=0
        ):
            edge = a.pos[0] + 1
            for n in g.nodes:
                if n.pos[0] >= edge:
                    n.pos = (n.pos[0] + shift, n.pos[1])
    moved = True
    while moved:
        moved = False
        ordered = sorted(g.nodes, key=lambda n: (n.pos[1], n.pos[0]))
        for i, low in enumerate(ordered):
            for high in ordered[:i]:
                if _overlap(high, low):
                    low.pos = (low.pos[0], high.pos[1] + high.size[1] + TITLE + GAP)
                    moved = True
    return g


def bounds(g: Graph) -> tuple[int, int, int, int]:
    """x, y, width, height of all boxes, title bars included."""
    x0 = min(n.pos[0] for n in g.nodes)
    y0 = min(n.pos[1] - TITLE for n in g.nodes)
    x1 = max(n.pos[0] + n.size[0] for n in g.nodes)
    y1 = max(n.pos[1] + n.size[1] for n in g.nodes)
    return x0, y0, x1 - x0, y1 - y0


def opening_view(g: Graph) -> dict[str, Any]:
    """The saved view (``extra.ds``): the whole graph in the part of a VIEW screen the front end's bars
    leave free, where titles stay readable, else its top left at READABLE zoom. LiteGraph draws a
    point p at (p + offset) · scale."""
    x, y, w, h = bounds(g)
    margin = 40
    free = (VIEW[0] - CHROME[0], VIEW[1] - CHROME[1])
    scale = min(1.0, (free[0] - 2 * margin) / w, (free[1] - 2 * margin) / h)
    if scale >= READABLE:  # centred
        cx, cy = x + w / 2, y + h / 2
        offset = [(CHROME[0] + free[0] / 2) / scale - cx, (CHROME[1] + free[1] / 2) / scale - cy]
    else:  # the top left, readable
        scale = READABLE
        offset = [(CHROME[0] + margin) / scale - x, (CHROME[1] + margin) / scale - y]
    return {"scale": round(scale, 3), "offset": [round(v, 1) for v in offset]}


def all_workflows(info: dict[str, dict[str, Any]]) -> dict[str, Graph]:
    """Every bundled workflow by file name, built against the node schemas ``info``."""
    # In the order a new user should try them: the Templates browser shows them so (web/template_order.js).
    builders = {
        "autoguidance-digits.json": digits,
        "autoguidance-schedule-showcase.json": schedule_showcase,
        "autoguidance-pair-inspector.json": pair_inspector,
        "autoguidance-digits-lora.json": digits_lora,
        "sd15-ksampler-autoguidance-patch.json": sd15_ksampler,
        "sdxl-autoguidance-cfg-interval.json": sdxl_hybrid,
        "sd35-large-medium-autoguidance.json": sd35_large_medium,
        "flux1-dev-autoguidance.json": flux_pair,
        "edm2-img512-s-xs-autoguidance.json": lambda g: edm2_imagenet(
            g, "edm2-img512-s-autog-fid", "EDM2-S guided by EDM2-XS"
        ),
        "edm2-img512-xxl-m-autoguidance.json": lambda g: edm2_imagenet(
            g, "edm2-img512-xxl-autog-fid", "EDM2-XXL guided by EDM2-M"
        ),
        "autoguidance-vs-dual-model-guider.json": dual_model_side_by_side,
        "autoguidance-distributed-sweep.json": distributed_sweep,
    }
    graphs = {name: lay_out(build(Graph(info))) for name, build in builders.items()}
    for graph in graphs.values():
        graph.view = opening_view(graph)
    return graphs


def write(graphs: dict[str, Graph], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, graph in graphs.items():
        (out / name).write_text(json.dumps(graph.to_json(), indent=2) + "\n")
        print(f"wrote {out / name}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=WORKFLOWS, help="folder to write (default: workflows/)")
    args = parser.parse_args()
    harness.import_comfy()
    import comfyui_version  # ComfyUI's own, on sys.path now

    if comfyui_version.__version__ != SCHEMAS_FROM:
        print(
            f"note: ComfyUI {comfyui_version.__version__} here; the committed files come from {SCHEMAS_FROM}"
        )
    write(all_workflows(object_info()), args.out)


if __name__ == "__main__":
    main()
