// Draws the guidance weight w(σ) inside every schedule node, the Autoguidance Guider and the
// model patch: log-σ axis over the connected model's σ range, the guided region shaded, w = 1
// (guidance off) marked, and how many guide evaluations the connected sampler will make.
// Uses only what ComfyUI's front end provides: app.registerExtension, beforeRegisterNodeDef,
// and a canvas widget (addCustomWidget with draw/computeSize).

import { app } from "../../scripts/app.js";
import {
  DEFAULT_STEPS, SIGMA_RANGES, exponentialSigmas, guideEvaluations, karrasSigmas, specFromWidgets,
  specProblem, weightAt,
} from "./schedule_math.js";

const SCHEDULE_NODES = new Set([
  "AutoguidanceScheduleConstant", "AutoguidanceScheduleInterval", "AutoguidanceScheduleRamp", "AutoguidanceScheduleKnots",
  "AutoguidanceScheduleLimit",
]);
const GUIDED_NODES = new Set(["AutoguidanceGuider", "AutoguidanceModelPatch"]);
const PLOT_HEIGHT = 132;
const COLOURS = { curve: "#f0a040", cfg: "#59a6e8", shade: "rgba(240,160,64,0.16)", off: "#8a8a8a",
                  axis: "#666", text: "#cfcfcf", bad: "#e46060", tickOn: "#f0a040", tickOff: "#555" };

function widgetValues(node) {
  const v = {};
  for (const w of node.widgets ?? []) v[w.name] = w.value;
  return v;
}

function inputNode(node, name) {
  const slot = node.inputs?.find((i) => i.name === name);
  if (!slot || slot.link == null) return null;
  const link = node.graph?.links?.[slot.link] ?? node.graph?.links?.get?.(slot.link);
  return link ? node.graph.getNodeById(link.origin_id) : null;
}

function outputNodes(node) {
  const found = [];
  for (const out of node.outputs ?? []) {
    for (const id of out.links ?? []) {
      const link = node.graph?.links?.[id] ?? node.graph?.links?.get?.(id);
      const target = link && node.graph.getNodeById(link.target_id);
      if (target) found.push({ node: target, input: target.inputs?.[link.target_slot]?.name });
    }
  }
  return found;
}

/** The schedule spec a node stands for (schedule nodes follow their own input for Limit). */
function scheduleOf(node, depth = 0) {
  if (!node || depth > 16) return null;
  if (SCHEDULE_NODES.has(node.comfyClass ?? node.type)) {
    const inner = node.type === "AutoguidanceScheduleLimit" ? scheduleOf(inputNode(node, "schedule"), depth + 1) : null;
    return specFromWidgets(node.comfyClass ?? node.type, widgetValues(node), inner);
  }
  return null;
}

/** The autoguidance (and CFG) schedules drawn in a guider / model-patch node. */
function guidedSchedules(node) {
  const v = widgetValues(node);
  const ag = scheduleOf(inputNode(node, "schedule")) ?? { kind: "constant", w: v.w };
  const curves = [{ label: "autoguidance", spec: ag, colour: COLOURS.curve }];
  if (node.type === "AutoguidanceGuider") {
    const cfg = scheduleOf(inputNode(node, "cfg_schedule")) ?? { kind: "constant", w: v.cfg };
    if (inputNode(node, "negative") || cfg.kind !== "constant" || cfg.w !== 1)
      curves.push({ label: "CFG", spec: cfg, colour: COLOURS.cfg });
  }
  return curves;
}

/** The model feeding a guider/patch (directly or through the node's 'model' input). */
function modelFamily(node, depth = 0) {
  const model = inputNode(node, "model");
  if (!model || depth > 16) return null;
  const type = model.comfyClass ?? model.type;
  if (type === "AutoguidanceEDM2Loader") return "edm2";
  const name = String((model.widgets ?? []).find((w) => /ckpt|unet|checkpoint/.test(w.name))?.value ?? "").toLowerCase();
  if (/flux|sd3|sd_3|auraflow|lumina|chroma|hidream/.test(name)) return "flow";
  if (type === "UNETLoader" && /flux|sd3/.test(name)) return "flow";
  if (type.startsWith("Checkpoint") || type === "UNETLoader") return "sd";
  return modelFamily(model, depth + 1);
}

/** Steps, sampler and σ list of the sampler a guider / patch feeds, when the graph says so. */
function samplerSetup(guided, family) {
  const [sigmaMin, sigmaMax] = SIGMA_RANGES[family ?? "edm2"];
  for (const { node } of outputNodes(guided)) {
    const type = node.comfyClass ?? node.type;
    if (type === "SamplerCustomAdvanced") {
      const samplerNode = inputNode(node, "sampler");
      const sampler = samplerNode ? widgetValues(samplerNode).sampler_name ?? "euler" : "euler";
      const sigmasNode = inputNode(node, "sigmas");
      const sv = sigmasNode ? widgetValues(sigmasNode) : {};
      const st = sigmasNode?.comfyClass ?? sigmasNode?.type;
      if (st === "KarrasScheduler")
        return { sampler, steps: sv.steps, sigmas: karrasSigmas(sv.steps, sv.sigma_min, sv.sigma_max, sv.rho), known: true };
      if (st === "ExponentialScheduler")
        return { sampler, steps: sv.steps, sigmas: exponentialSigmas(sv.steps, sv.sigma_min, sv.sigma_max), known: true };
      if (st === "BasicScheduler" && (sv.scheduler === "karras" || sv.scheduler === "exponential")) {
        const make = sv.scheduler === "karras" ? karrasSigmas : exponentialSigmas;
        return { sampler, steps: sv.steps, sigmas: make(sv.steps, sigmaMin, sigmaMax), known: true };
      }
    }
    if (type === "KSampler" || type === "KSamplerAdvanced") {
      const v = widgetValues(node);
      const make = v.scheduler === "exponential" ? exponentialSigmas : karrasSigmas;
      return { sampler: v.sampler_name, steps: v.steps, sigmas: make(v.steps, sigmaMin, sigmaMax),
               known: v.scheduler === "karras" || v.scheduler === "exponential" };
    }
  }
  return null;
}

/** Everything one plot needs, from the node and what it is wired to. */
export function plotModel(node) {
  let curves, guided = null;
  if (SCHEDULE_NODES.has(node.comfyClass ?? node.type)) {
    curves = [{ label: "w", spec: scheduleOf(node), colour: COLOURS.curve }];
    const consumer = outputNodes(node).find((o) => GUIDED_NODES.has(o.node.comfyClass ?? o.node.type) ||
                                                   o.node.type === "AutoguidanceScheduleLimit");
    guided = consumer && GUIDED_NODES.has(consumer.node.comfyClass ?? consumer.node.type) ? consumer.node : null;
  } else {
    curves = guidedSchedules(node);
    guided = node;
  }
  const family = guided ? modelFamily(guided) : null;
  const setup = (guided && samplerSetup(guided, family)) ?? null;
  const [lo, hi] = SIGMA_RANGES[family ?? "edm2"];
  const sigmas = setup?.known ? setup.sigmas : karrasSigmas(DEFAULT_STEPS, lo, hi);
  return { curves, range: [lo, hi], family: family ?? "edm2 (default)", sigmas,
           sampler: setup?.known ? setup.sampler : "heun", steps: setup?.known ? setup.steps : DEFAULT_STEPS,
           known: Boolean(setup?.known) };
}

function drawPlot(ctx, node, width, y, height) {
  const m = plotModel(node);
  const pad = { l: 30, r: 10, t: 16, b: 28 };
  const x0 = pad.l, x1 = width - pad.r, y0 = y + pad.t, y1 = y + height - pad.b;
  ctx.save();
  ctx.fillStyle = "#1e1e1e";
  ctx.fillRect(8, y, width - 16, height - 4);
  const problems = m.curves.map((c) => specProblem(c.spec)).filter(Boolean);
  ctx.font = "10px sans-serif";
  if (problems.length) {
    ctx.fillStyle = COLOURS.bad;
    ctx.fillText(`✗ ${problems[0]}`, x0, y0 + 20);
    ctx.restore();
    return;
  }
  const [lo, hi] = m.range;
  const lx = (s) => x0 + ((Math.log(hi) - Math.log(Math.max(s, lo))) / (Math.log(hi) - Math.log(lo))) * (x1 - x0);
  const samples = [];
  for (let i = 0; i <= 120; i++) samples.push(Math.exp(Math.log(hi) + (i / 120) * (Math.log(lo) - Math.log(hi))));
  const ws = m.curves.flatMap((c) => samples.map((s) => weightAt(c.spec, s)));
  const wMin = Math.min(0, ...ws), wMax = Math.max(2, ...ws) + 0.25;
  const wy = (w) => y1 - ((w - wMin) / (wMax - wMin)) * (y1 - y0);
  // Guided region (w ≠ 1): shaded columns.
  for (const c of m.curves) {
    ctx.fillStyle = c === m.curves[0] ? COLOURS.shade : "rgba(89,166,232,0.12)";
    for (let i = 0; i < samples.length - 1; i++)
      if (weightAt(c.spec, samples[i]) !== 1) ctx.fillRect(lx(samples[i]), y0, lx(samples[i + 1]) - lx(samples[i]) + 0.5, y1 - y0);
  }
  // w = 1: guidance off.
  ctx.strokeStyle = COLOURS.off;
  ctx.setLineDash([4, 3]);
  ctx.beginPath(); ctx.moveTo(x0, wy(1)); ctx.lineTo(x1, wy(1)); ctx.stroke();
  ctx.setLineDash([]);
  ctx.fillStyle = COLOURS.off;
  ctx.fillText("1", 14, wy(1) + 3);
  ctx.fillText(wMax.toFixed(1), 12, y0 + 4);
  // Curves.
  for (const c of m.curves) {
    ctx.strokeStyle = c.colour;
    ctx.lineWidth = 2;
    ctx.beginPath();
    samples.forEach((s, i) => (i ? ctx.lineTo(lx(s), wy(weightAt(c.spec, s))) : ctx.moveTo(lx(s), wy(weightAt(c.spec, s)))));
    ctx.stroke();
  }
  // The sampler's evaluations: a tick per σ, lit where the guide runs.
  const spec = m.curves[0].spec;
  const count = guideEvaluations(spec, m.sigmas, m.sampler);
  for (const s of m.sigmas.slice(0, -1)) {
    ctx.fillStyle = weightAt(spec, s) !== 1 ? COLOURS.tickOn : COLOURS.tickOff;
    ctx.fillRect(lx(s) - 0.5, y1 + 1, 1.5, 5);
  }
  ctx.strokeStyle = COLOURS.axis;
  ctx.lineWidth = 1;
  ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
  ctx.fillStyle = COLOURS.text;
  ctx.fillText(`σ ${hi}`, x0, y1 + 16);
  const loText = `${lo} (log σ)`;
  ctx.fillText(loText, x1 - ctx.measureText(loText).width, y1 + 16);
  const label = `guide runs ${count.guided}/${count.total} evals · ${m.steps} steps ${m.sampler}${m.known ? "" : " (default)"}`;
  ctx.fillText(label, x0, y0 - 4);
  ctx.restore();
  node.__agLastPlot = { guided: count.guided, total: count.total, family: m.family, steps: m.steps, sampler: m.sampler };
}

function addPlotWidget(node) {
  const widget = {
    name: "w(σ) plot",
    type: "autoguidance_schedule_plot",
    value: null,
    options: { serialize: false },
    serializeValue: () => undefined,
    draw(ctx, n, width, y) { drawPlot(ctx, n, width, y, PLOT_HEIGHT); },
    computeSize(width) { return [width, PLOT_HEIGHT]; },
  };
  node.addCustomWidget(widget);
  const [w, h] = node.computeSize();
  node.setSize([Math.max(node.size?.[0] ?? 0, w, 300), Math.max(node.size?.[1] ?? 0, h)]);
  for (const wd of node.widgets ?? []) {
    const original = wd.callback;
    wd.callback = function (...args) {
      const r = original?.apply(this, args);
      node.setDirtyCanvas?.(true, true);
      return r;
    };
  }
  return widget;
}

app.registerExtension({
  name: "autoguidance.ScheduleWidget",
  async beforeRegisterNodeDef(nodeType, nodeData) {
    if (!SCHEDULE_NODES.has(nodeData.name) && !GUIDED_NODES.has(nodeData.name)) return;
    const created = nodeType.prototype.onNodeCreated;
    nodeType.prototype.onNodeCreated = function () {
      const r = created?.apply(this, arguments);
      addPlotWidget(this);
      return r;
    };
    const changed = nodeType.prototype.onConnectionsChange;
    nodeType.prototype.onConnectionsChange = function () {
      const r = changed?.apply(this, arguments);
      this.setDirtyCanvas?.(true, true);
      return r;
    };
  },
});
