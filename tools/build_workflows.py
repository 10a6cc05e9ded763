"""Writes the bundled example workflows (``workflows/*.json``) in ComfyUI's UI format.

``python tools/build_workflows.py`` regenerates every file; the tests in
``tests/server/test_workflows.py`` check each one against a real ComfyUI (node types, widget
values, and the digits workflow queued to an image). The graphs are written here rather than
hand-edited so that links, ids and slots stay consistent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows"

# Socket inputs and outputs of each node type used: [(name, type)], in declaration order.
SOCKETS: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {
    "AutoguidanceEDM2Loader": ([], [("MODEL", "MODEL")]),
    "AutoguidanceEDM2ClassConditioning": ([], [("CONDITIONING", "CONDITIONING")]),
    "AutoguidanceEDM2EmptyLatent": ([], [("LATENT", "LATENT")]),
    "AutoguidanceEDM2PixelsToImage": ([("samples", "LATENT")], [("IMAGE", "IMAGE")]),
    "AutoguidanceEDM2VAEDecode": ([("samples", "LATENT"), ("vae", "VAE")], [("IMAGE", "IMAGE")]),
    "AutoguidanceGuider": ([("model", "MODEL"), ("guide_model", "MODEL"), ("positive", "CONDITIONING"),
                            ("negative", "CONDITIONING"), ("guide_positive", "CONDITIONING"),
                            ("schedule", "GUIDANCE_SCHEDULE"), ("cfg_schedule", "GUIDANCE_SCHEDULE")],
                           [("GUIDER", "GUIDER")]),
    "AutoguidanceModelPatch": ([("model", "MODEL"), ("guide_model", "MODEL"), ("schedule", "GUIDANCE_SCHEDULE")],
                               [("MODEL", "MODEL")]),
    "AutoguidanceScheduleConstant": ([], [("schedule", "GUIDANCE_SCHEDULE")]),
    "AutoguidanceScheduleInterval": ([], [("schedule", "GUIDANCE_SCHEDULE")]),
    "AutoguidanceScheduleRamp": ([], [("schedule", "GUIDANCE_SCHEDULE")]),
    "AutoguidanceScheduleKnots": ([], [("schedule", "GUIDANCE_SCHEDULE")]),
    "AutoguidanceScheduleLimit": ([("schedule", "GUIDANCE_SCHEDULE")], [("schedule", "GUIDANCE_SCHEDULE")]),
    "KSamplerSelect": ([], [("SAMPLER", "SAMPLER")]),
    "KarrasScheduler": ([], [("SIGMAS", "SIGMAS")]),
    "BasicScheduler": ([("model", "MODEL")], [("SIGMAS", "SIGMAS")]),
    "RandomNoise": ([], [("NOISE", "NOISE")]),
    "SamplerCustomAdvanced": ([("noise", "NOISE"), ("guider", "GUIDER"), ("sampler", "SAMPLER"),
                               ("sigmas", "SIGMAS"), ("latent_image", "LATENT")],
                              [("output", "LATENT"), ("denoised_output", "LATENT")]),
    "SaveImage": ([("images", "IMAGE")], []),
    "CheckpointLoaderSimple": ([], [("MODEL", "MODEL"), ("CLIP", "CLIP"), ("VAE", "VAE")]),
    "CLIPTextEncode": ([("clip", "CLIP")], [("CONDITIONING", "CONDITIONING")]),
    "EmptyLatentImage": ([], [("LATENT", "LATENT")]),
    "KSampler": ([("model", "MODEL"), ("positive", "CONDITIONING"), ("negative", "CONDITIONING"),
                  ("latent_image", "LATENT")], [("LATENT", "LATENT")]),
    "VAEDecode": ([("samples", "LATENT"), ("vae", "VAE")], [("IMAGE", "IMAGE")]),
    "VAELoader": ([], [("VAE", "VAE")]),
    "Note": ([], []),
    "BasicGuider": ([("model", "MODEL"), ("conditioning", "CONDITIONING")], [("GUIDER", "GUIDER")]),
    "AutoguidancePairInspector": ([("model", "MODEL"), ("guide_model", "MODEL"), ("positive", "CONDITIONING"),
                                   ("negative", "CONDITIONING"), ("latent", "LATENT"), ("vae", "VAE"),
                                   ("schedule", "GUIDANCE_SCHEDULE")],
                                  [("grid", "IMAGE"), ("plot", "IMAGE"), ("numbers", "STRING")]),
}


@dataclass
class Node:
    id: int
    type: str
    pos: tuple[int, int]
    widgets: list[Any]
    title: str | None = None
    size: tuple[int, int] = (300, 110)
    inputs: dict[str, int | None] = field(default_factory=dict)   # input name -> link id
    outputs: dict[int, list[int]] = field(default_factory=dict)   # output slot -> link ids


class Graph:
    """A LiteGraph graph as ComfyUI's front end saves it (``version`` 0.4)."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.links: list[list[Any]] = []

    def add(self, type_: str, widgets: list[Any], pos: tuple[int, int], title: str | None = None,
            size: tuple[int, int] = (300, 110)) -> Node:
        node = Node(len(self.nodes) + 1, type_, pos, widgets, title, size)
        node.inputs = {name: None for name, _ in SOCKETS[type_][0]}
        self.nodes.append(node)
        return node

    def link(self, src: Node, slot: int, dst: Node, input_name: str) -> None:
        link_id = len(self.links) + 1
        kind = SOCKETS[src.type][1][slot][1]
        self.links.append([link_id, src.id, slot, dst.id, list(dst.inputs).index(input_name), kind])
        dst.inputs[input_name] = link_id
        src.outputs.setdefault(slot, []).append(link_id)

    def to_json(self) -> dict[str, Any]:
        nodes = []
        for order, n in enumerate(self.nodes):
            ins, outs = SOCKETS[n.type]
            entry: dict[str, Any] = {
                "id": n.id, "type": n.type, "pos": list(n.pos), "size": list(n.size), "flags": {},
                "order": order, "mode": 0,
                "inputs": [{"name": name, "type": kind, "link": n.inputs[name]} for name, kind in ins],
                "outputs": [{"name": name, "type": kind, "links": n.outputs.get(i, []), "slot_index": i}
                            for i, (name, kind) in enumerate(outs)],
                "properties": {"Node name for S&R": n.type},
                "widgets_values": n.widgets,
            }
            if n.title:
                entry["title"] = n.title
            if n.type == "Note":
                entry["color"], entry["bgcolor"] = "#432", "#653"
            nodes.append(entry)
        return {"last_node_id": len(self.nodes), "last_link_id": len(self.links), "nodes": nodes,
                "links": self.links, "groups": [], "config": {}, "extra": {"ds": {"scale": 0.8, "offset": [0, 0]}},
                "version": 0.4}


def edm2_sampling(g: Graph, guider: Node, latent: Node, steps: int, seed: int, x: int, y: int) -> Node:
    """RandomNoise + heun + the EDM schedule (σ 80 → 0.002, ρ = 7) into SamplerCustomAdvanced."""
    noise = g.add("RandomNoise", [seed, "fixed"], (x, y))
    sampler = g.add("KSamplerSelect", ["heun"], (x, y + 140))
    sigmas = g.add("KarrasScheduler", [steps, 80.0, 0.002, 7.0], (x, y + 260), size=(300, 160))
    run = g.add("SamplerCustomAdvanced", [], (x + 340, y), size=(300, 130))
    g.link(noise, 0, run, "noise")
    g.link(guider, 0, run, "guider")
    g.link(sampler, 0, run, "sampler")
    g.link(sigmas, 0, run, "sigmas")
    g.link(latent, 0, run, "latent_image")
    return run


def digits_models(g: Graph, class_index: int, batch: int) -> tuple[Node, Node, Node, Node]:
    """The bundled trio's main and guide loaders, a digit class and an empty 16×16 batch."""
    main = g.add("AutoguidanceEDM2Loader", ["digits-main.safetensors", "default"], (20, 0), "main model")
    guide = g.add("AutoguidanceEDM2Loader", ["digits-guide.safetensors", "default"], (20, 130), "guide model (weaker)")
    cond = g.add("AutoguidanceEDM2ClassConditioning", ["(use class_index)", class_index, 10, -1, 0.0, False], (20, 260),
                 size=(300, 200))
    latent = g.add("AutoguidanceEDM2EmptyLatent", [1, 16, batch], (20, 500), size=(300, 130))
    return main, guide, cond, latent


def guider_for(g: Graph, main: Node, guide: Node, cond: Node, w: float, pos: tuple[int, int],
               size: tuple[int, int]) -> Node:
    guider = g.add("AutoguidanceGuider", [w, 1.0], pos, size=size)
    g.link(main, 0, guider, "model")
    g.link(guide, 0, guider, "guide_model")
    g.link(cond, 0, guider, "positive")
    return guider


def save_pixels(g: Graph, run: Node, prefix: str, x: int, y: int, save_at: tuple[int, int],
                save_size: tuple[int, int]) -> None:
    image = g.add("AutoguidanceEDM2PixelsToImage", [], (x, y))
    g.link(run, 0, image, "samples")
    save = g.add("SaveImage", [prefix], save_at, size=save_size)
    g.link(image, 0, save, "images")


def digits(w: float = 2.0) -> Graph:
    g = Graph()
    g.add("Note", ["Autoguidance on the bundled digits models (16x16 grey, 10 classes): nothing to download.\n\n"
                   "main = digits-main (large, trained fully); guide = digits-guide (small, trained 1/16 as long).\n"
                   "w = 1 is off; about 2 is the paper's sweet spot. Change class_index (0-9) for another digit."],
          (20, -160), size=(660, 120))
    main, guide, cond, latent = digits_models(g, 3, 8)
    guider = guider_for(g, main, guide, cond, w, (360, 0), (300, 200))
    run = edm2_sampling(g, guider, latent, 32, 42, 360, 250)
    save_pixels(g, run, "autoguidance_digits", 1040, 250, (1040, 360), (320, 300))
    return g


def schedule_showcase() -> Graph:
    """The five schedule nodes, each driving its own guider on the digits trio (one row each)."""
    g = Graph()
    g.add("Note", ["Guidance schedules w(sigma), each on the bundled digits models. The curve inside each schedule "
                   "node shows w against log sigma (high noise on the left); shaded is where the guide runs, and the "
                   "title line counts the guide evaluations for the connected sampler.\n"
                   "Constant: the paper's choice for autoguidance. Interval: guide only for sigma in (lo, hi]; "
                   "elsewhere the guide is skipped. Ramp / Knots: any curve. Limit: cut any curve to an interval."],
          (20, -200), size=(1000, 150))
    main, guide, cond, latent = digits_models(g, 7, 4)
    row = 430
    ramp = g.add("AutoguidanceScheduleRamp", [3.0, 1.0, 80.0, 0.01, "log", "cosine"], (360, 2 * row), size=(300, 380))
    limit = g.add("AutoguidanceScheduleLimit", [0.1, 10.0], (360, 3 * row), size=(300, 300))
    g.link(ramp, 0, limit, "schedule")
    driven = [
        (g.add("AutoguidanceScheduleConstant", [2.0], (360, 0), size=(300, 260)), 0),
        (g.add("AutoguidanceScheduleInterval", [2.0, 0.28, 5.42], (360, row), size=(300, 320)), 1),
        (limit, 3),
        (g.add("AutoguidanceScheduleKnots", ["80, 5, 1, 0.1", "1.5, 2.5, 2.0, 1.0"], (360, 4 * row), size=(300, 340)), 4),
    ]
    for i, (sched, r) in enumerate(driven):
        y = r * row
        guider = guider_for(g, main, guide, cond, 2.0, (700, y), (300, 380))
        g.link(sched, 0, guider, "schedule")
        run = edm2_sampling(g, guider, latent, 32, 7, 1040, y)
        save_pixels(g, run, f"autoguidance_schedule_{i}", 1720, y, (1960, y), (260, 260))
    return g


def edm2_imagenet(main_file: str, guide_file: str, w: float, title: str) -> Graph:
    g = Graph()
    g.add("Note", [f"{title}: the paper's autoguidance preset (ImageNet-512, class-conditional, w = {w}).\n\n"
                   f"Put the official snapshots in ComfyUI/models/edm2/ (the .pkl files load safely as they are, "
                   f"or convert them with 'python -m comfyui_autoguidance.edm2.convert'):\n"
                   f"  main:  {main_file}\n  guide: {guide_file}\n"
                   "Both from https://nvlabs-fi-cdn.nvidia.com/edm2/posthoc-reconstructions/\n"
                   "and the VAE vae-ft-mse-840000-ema-pruned.safetensors (stabilityai/sd-vae-ft-mse) in "
                   "ComfyUI/models/vae/.\nUse EDM2 VAE Decode: EDM2 maps pixels to [0, 1] before the VAE."],
          (20, -230), size=(760, 200))
    main = g.add("AutoguidanceEDM2Loader", [main_file, "default"], (20, 0), "main model")
    guide = g.add("AutoguidanceEDM2Loader", [guide_file, "default"], (20, 130), "guide model (smaller, shorter-trained)")
    cond = g.add("AutoguidanceEDM2ClassConditioning", ["88: macaw", 0, 1000, -1, 0.0, False], (20, 260), size=(300, 200))
    latent = g.add("AutoguidanceEDM2EmptyLatent", [4, 64, 1], (20, 500), size=(300, 130))
    guider = guider_for(g, main, guide, cond, w, (360, 0), (300, 200))
    run = edm2_sampling(g, guider, latent, 32, 0, 360, 250)
    vae = g.add("VAELoader", ["vae-ft-mse-840000-ema-pruned.safetensors"], (700, 430))
    decode = g.add("AutoguidanceEDM2VAEDecode", [], (1040, 250))
    g.link(run, 0, decode, "samples")
    g.link(vae, 0, decode, "vae")
    save = g.add("SaveImage", ["autoguidance_edm2"], (1040, 360), size=(512, 560))
    g.link(decode, 0, save, "images")
    return g


def pair_inspector() -> Graph:
    """The pair inspector on the digits pair: a '3' drawn by the main model alone, noised to six σ."""
    g = Graph()
    g.add("Note", ["Pair inspector on the bundled digits models: nothing to download.\n\n"
                   "The main model first draws a 3 on its own (Basic Guider). The inspector noises that digit to six "
                   "noise levels sigma (80 ... 0.002, high noise first) and shows per row: the noisy input, what the "
                   "main model (D1) and the weak guide (D0) make of it, their difference D1 - D0 (red +, blue -: what "
                   "autoguidance amplifies by w - 1) and the guided D_w. The plot draws RMS(D1 - D0) / RMS(D1) over "
                   "sigma; shaded is where the Interval schedule guides. The 'numbers' output is the same as a table "
                   "(connect a Preview Any node to read and copy it).\n"
                   "Your own pair: swap the loaders, connect its VAE for latent models, and a negative for the CFG "
                   "column D1(c) - D1(uncond)."], (20, -250), size=(1000, 220))
    main, guide, cond, latent = digits_models(g, 3, 1)
    alone = g.add("BasicGuider", [], (360, 0), "main model alone", size=(300, 80))
    g.link(main, 0, alone, "model")
    g.link(cond, 0, alone, "conditioning")
    run = edm2_sampling(g, alone, latent, 32, 42, 360, 130)
    interval = g.add("AutoguidanceScheduleInterval", [2.0, 0.28, 5.42], (700, 300), size=(300, 320))
    inspector = g.add("AutoguidancePairInspector", [16, 16, 0, 2.0, "auto"], (1040, 0), size=(340, 330))
    for src, slot, name in ((main, 0, "model"), (guide, 0, "guide_model"), (cond, 0, "positive"),
                            (run, 0, "latent"), (interval, 0, "schedule")):
        g.link(src, slot, inspector, name)
    for slot, (prefix, y, size) in enumerate([("autoguidance_pair_grid", 0, (620, 620)),
                                              ("autoguidance_pair_plot", 660, (620, 420))]):
        save = g.add("SaveImage", [prefix], (1420, y), size=size)
        g.link(inspector, slot, save, "images")
    return g


PROMPT = "a lighthouse on a rocky coast at dusk, detailed oil painting"
NEGATIVE = "blurry, low quality, deformed"


def sdxl_hybrid() -> Graph:
    g = Graph()
    g.add("Note", ["SDXL autoguidance + CFG (the paper's hybrid) with a guidance interval on the CFG term.\n\n"
                   "main:  sd_xl_base_1.0.safetensors in ComfyUI/models/checkpoints/\n"
                   "guide: sdxl_guide.safetensors, a weaker SDXL checkpoint of the same family (an earlier, less "
                   "trained or smaller one): pick yours in the list.\n"
                   "Autoguidance w = 1.5 runs at every step (the paper: an interval does not help it); the CFG term "
                   "(cfg 4.5) runs only for sigma in (0.28, 5.42], where it helps most."],
          (20, -230), size=(760, 190))
    main = g.add("CheckpointLoaderSimple", ["sd_xl_base_1.0.safetensors"], (20, 0), "main checkpoint")
    guide = g.add("CheckpointLoaderSimple", ["sdxl_guide.safetensors"], (20, 140), "guide checkpoint (weaker)")
    pos = g.add("CLIPTextEncode", [PROMPT], (360, 0), size=(380, 160))
    neg = g.add("CLIPTextEncode", [NEGATIVE], (360, 200), size=(380, 160))
    g.link(main, 1, pos, "clip")
    g.link(main, 1, neg, "clip")
    interval = g.add("AutoguidanceScheduleInterval", [4.5, 0.28, 5.42], (360, 400), "CFG only inside the interval",
                     size=(380, 220))
    guider = g.add("AutoguidanceGuider", [1.5, 1.0], (780, 0), size=(320, 220))
    g.link(main, 0, guider, "model")
    g.link(guide, 0, guider, "guide_model")
    g.link(pos, 0, guider, "positive")
    g.link(neg, 0, guider, "negative")
    g.link(interval, 0, guider, "cfg_schedule")
    latent = g.add("EmptyLatentImage", [1024, 1024, 1], (780, 260))
    noise = g.add("RandomNoise", [0, "fixed"], (780, 420))
    sampler = g.add("KSamplerSelect", ["euler"], (780, 540))
    sigmas = g.add("BasicScheduler", ["karras", 30, 1.0], (780, 640), size=(320, 130))
    g.link(main, 0, sigmas, "model")
    run = g.add("SamplerCustomAdvanced", [], (1140, 0), size=(300, 130))
    g.link(noise, 0, run, "noise")
    g.link(guider, 0, run, "guider")
    g.link(sampler, 0, run, "sampler")
    g.link(sigmas, 0, run, "sigmas")
    g.link(latent, 0, run, "latent_image")
    decode = g.add("VAEDecode", [], (1140, 180))
    g.link(run, 0, decode, "samples")
    g.link(main, 2, decode, "vae")
    save = g.add("SaveImage", ["autoguidance_sdxl"], (1480, 0), size=(512, 560))
    g.link(decode, 0, save, "images")
    return g


def sd15_ksampler() -> Graph:
    g = Graph()
    g.add("Note", ["SD1.5 autoguidance on the plain KSampler through the model patch (also works for detailers).\n\n"
                   "main:  v1-5-pruned-emaonly.safetensors in ComfyUI/models/checkpoints/\n"
                   "guide: sd15_guide.safetensors, a weaker SD1.5 checkpoint (e.g. an earlier one, or the same base "
                   "without your fine-tune): pick yours in the list.\n"
                   "The KSampler's cfg and negative prompt still apply: together with w this is the paper's hybrid."],
          (20, -200), size=(760, 160))
    main = g.add("CheckpointLoaderSimple", ["v1-5-pruned-emaonly.safetensors"], (20, 0), "main checkpoint")
    guide = g.add("CheckpointLoaderSimple", ["sd15_guide.safetensors"], (20, 140), "guide checkpoint (weaker)")
    patch = g.add("AutoguidanceModelPatch", [2.0], (360, 0), size=(320, 130))
    g.link(main, 0, patch, "model")
    g.link(guide, 0, patch, "guide_model")
    pos = g.add("CLIPTextEncode", [PROMPT], (360, 170), size=(380, 160))
    neg = g.add("CLIPTextEncode", [NEGATIVE], (360, 370), size=(380, 160))
    g.link(main, 1, pos, "clip")
    g.link(main, 1, neg, "clip")
    latent = g.add("EmptyLatentImage", [512, 512, 1], (360, 570))
    sampler = g.add("KSampler", [0, "fixed", 25, 3.0, "dpmpp_2m", "karras", 1.0], (780, 0), size=(320, 270))
    g.link(patch, 0, sampler, "model")
    g.link(pos, 0, sampler, "positive")
    g.link(neg, 0, sampler, "negative")
    g.link(latent, 0, sampler, "latent_image")
    decode = g.add("VAEDecode", [], (1140, 0))
    g.link(sampler, 0, decode, "samples")
    g.link(main, 2, decode, "vae")
    save = g.add("SaveImage", ["autoguidance_sd15"], (1140, 120), size=(512, 560))
    g.link(decode, 0, save, "images")
    return g


# ----------------------------------------------------------------------------
# Flow-model pairs (SD3.5 Large + Medium, Flux.1): schedules read σ as the noise-to-signal ratio σ_edm
# = σ/(1 − σ) on these models, so the (0.28, 5.42] interval means what it means on SDXL.

SOCKETS.update({
    "UNETLoader": ([], [("MODEL", "MODEL")]),
    "DualCLIPLoader": ([], [("CLIP", "CLIP")]),
    "TripleCLIPLoader": ([], [("CLIP", "CLIP")]),
    "FluxGuidance": ([("conditioning", "CONDITIONING")], [("CONDITIONING", "CONDITIONING")]),
    "EmptySD3LatentImage": ([], [("LATENT", "LATENT")]),
})


def flow_sampling(g: Graph, main: Node, guider: Node, vae: tuple[Node, int], steps: int, prefix: str,
                  x: int) -> None:
    """EmptySD3LatentImage (16 channels) → SamplerCustomAdvanced (euler, simple) → VAEDecode → SaveImage."""
    latent = g.add("EmptySD3LatentImage", [1024, 1024, 1], (x, 260), size=(300, 130))
    noise = g.add("RandomNoise", [0, "fixed"], (x, 420))
    sampler = g.add("KSamplerSelect", ["euler"], (x, 540))
    sigmas = g.add("BasicScheduler", ["simple", steps, 1.0], (x, 640), size=(320, 130))
    g.link(main, 0, sigmas, "model")
    run = g.add("SamplerCustomAdvanced", [], (x + 360, 0), size=(300, 130))
    for src, name in ((noise, "noise"), (guider, "guider"), (sampler, "sampler"), (sigmas, "sigmas"),
                      (latent, "latent_image")):
        g.link(src, 0, run, name)
    decode = g.add("VAEDecode", [], (x + 360, 180))
    g.link(run, 0, decode, "samples")
    g.link(vae[0], vae[1], decode, "vae")
    save = g.add("SaveImage", [prefix], (x + 700, 0), size=(512, 560))
    g.link(decode, 0, save, "images")


def sd35_large_medium() -> Graph:
    """SD3.5 Large guided by SD3.5 Medium: one size smaller, same SD3 latent space and text encoders."""
    g = Graph()
    g.add("Note", ["SD3.5 Large guided by SD3.5 Medium (the paper's recipe: a smaller model of the same family) "
                   "plus CFG limited to the interval (0.28, 5.42].\n\n"
                   "main:  sd3.5_large.safetensors in ComfyUI/models/checkpoints/\n"
                   "guide: sd3.5_medium.safetensors in ComfyUI/models/checkpoints/\n"
                   "text encoders, in ComfyUI/models/text_encoders/: clip_l.safetensors, clip_g.safetensors, "
                   "t5xxl_fp16.safetensors (stabilityai/stable-diffusion-3.5-large, text_encoders/)\n"
                   "Both models read the same text encoders, so one prompt serves both. The interval is in the "
                   "noise-to-signal ratio sigma/(1 - sigma) of these flow models, the same scale as SDXL's sigma."],
          (20, -250), size=(800, 220))
    main = g.add("CheckpointLoaderSimple", ["sd3.5_large.safetensors"], (20, 0), "main: SD3.5 Large")
    guide = g.add("CheckpointLoaderSimple", ["sd3.5_medium.safetensors"], (20, 140), "guide: SD3.5 Medium")
    clip = g.add("TripleCLIPLoader", ["clip_l.safetensors", "clip_g.safetensors", "t5xxl_fp16.safetensors"],
                 (20, 280), size=(320, 130))
    pos = g.add("CLIPTextEncode", [PROMPT], (360, 0), size=(380, 160))
    neg = g.add("CLIPTextEncode", [NEGATIVE], (360, 200), size=(380, 160))
    g.link(clip, 0, pos, "clip")
    g.link(clip, 0, neg, "clip")
    interval = g.add("AutoguidanceScheduleInterval", [4.0, 0.28, 5.42], (360, 400), "CFG only inside the interval",
                     size=(380, 220))
    guider = g.add("AutoguidanceGuider", [2.0, 1.0], (780, 0), size=(320, 220))
    for src, name in ((main, "model"), (guide, "guide_model"), (pos, "positive"), (neg, "negative"),
                      (interval, "cfg_schedule")):
        g.link(src, 0, guider, name)
    flow_sampling(g, main, guider, (main, 2), 28, "autoguidance_sd35", 1140)
    return g


def flux_pair() -> Graph:
    """Flux.1-dev guided by a weaker Flux.1 model (same latent space and text encoders), guidance embedding 3.5."""
    g = Graph()
    g.add("Note", ["Flux.1-dev guided by a weaker Flux.1 model. Flux-dev is guidance-distilled: its guidance is "
                   "FluxGuidance (3.5), not CFG, so autoguidance is the only guidance term here.\n\n"
                   "main:  flux1-dev.safetensors in ComfyUI/models/diffusion_models/\n"
                   "guide: flux1-schnell.safetensors in ComfyUI/models/diffusion_models/ (same latent space and text "
                   "encoders), or any weaker Flux.1 model: an earlier fine-tune epoch, or the base under your fine-tune\n"
                   "text encoders, in ComfyUI/models/text_encoders/: clip_l.safetensors, t5xxl_fp16.safetensors\n"
                   "VAE: ae.safetensors in ComfyUI/models/vae/ (black-forest-labs/FLUX.1-dev)\n"
                   "Schedules read sigma as sigma/(1 - sigma) on Flux, the same scale as SDXL's sigma."],
          (20, -250), size=(800, 220))
    main = g.add("UNETLoader", ["flux1-dev.safetensors", "default"], (20, 0), "main: Flux.1-dev")
    guide = g.add("UNETLoader", ["flux1-schnell.safetensors", "default"], (20, 140), "guide: weaker Flux.1")
    clip = g.add("DualCLIPLoader", ["clip_l.safetensors", "t5xxl_fp16.safetensors", "flux", "default"], (20, 280),
                 size=(320, 130))
    vae = g.add("VAELoader", ["ae.safetensors"], (20, 440))
    pos = g.add("CLIPTextEncode", [PROMPT], (360, 0), size=(380, 160))
    g.link(clip, 0, pos, "clip")
    guidance = g.add("FluxGuidance", [3.5], (360, 200))
    g.link(pos, 0, guidance, "conditioning")
    guider = g.add("AutoguidanceGuider", [2.0, 1.0], (780, 0), size=(320, 220))
    for src, name in ((main, "model"), (guide, "guide_model"), (guidance, "positive")):
        g.link(src, 0, guider, name)
    flow_sampling(g, main, guider, (vae, 0), 20, "autoguidance_flux", 1140)
    return g


def all_workflows() -> dict[str, Graph]:
    return {
        "autoguidance-digits.json": digits(),
        "autoguidance-schedule-showcase.json": schedule_showcase(),
        "edm2-img512-s-xs-autoguidance.json": edm2_imagenet(
            "edm2-img512-s-2147483-0.070.pkl", "edm2-img512-xs-0134217-0.125.pkl", 2.1, "EDM2-S guided by EDM2-XS"),
        "edm2-img512-xxl-m-autoguidance.json": edm2_imagenet(
            "edm2-img512-xxl-0939524-0.075.pkl", "edm2-img512-m-0268435-0.155.pkl", 2.05, "EDM2-XXL guided by EDM2-M"),
        "sdxl-autoguidance-cfg-interval.json": sdxl_hybrid(),
        "sd15-ksampler-autoguidance-patch.json": sd15_ksampler(),
        "autoguidance-pair-inspector.json": pair_inspector(),
        "sd35-large-medium-autoguidance.json": sd35_large_medium(),
        "flux1-dev-autoguidance.json": flux_pair(),
    }


def main() -> None:
    WORKFLOWS.mkdir(exist_ok=True)
    for name, graph in all_workflows().items():
        (WORKFLOWS / name).write_text(json.dumps(graph.to_json(), indent=2) + "\n")
        print(f"wrote workflows/{name}")  # noqa: T201


if __name__ == "__main__":
    main()
