// Draws the guidance weight w(σ) inside every schedule node, the Autoguidance Guider and the
// model patch: a log σ_edm axis (the one noise scale of every family; flow models' native σ as
// secondary labels) over the connected model's range, the guided region shaded, w = 1 (guidance
// off) marked, and how many guide evaluations the connected sampler will make: guessed from the
// graph before a run, then the σ the last run really used (the server's "autoguidance.run").
// Uses only what ComfyUI's front end provides: app.registerExtension, beforeRegisterNodeDef,
// nodeCreated, a canvas widget (addCustomWidget with draw/computeSize) and the node's
// getInputNode / getOutputNodes (front ends 1.27 to 1.58; input.link / output.links are
// deprecated). In Nodes 2.0 (Vue) mode a canvas widget is redrawn only by its triggerDraw(),
// so every edit or link change that can move a plot redraws the plots itself.

import { api } from "../../scripts/api.js";
import { app } from "../../scripts/app.js";
import {
  DEFAULT_STEPS, GUIDED_NODE_IDS, NODE_IDS, NO_GUIDANCE, PLOT_HEIGHT, RUN_EVENT, SCHEDULE_NODE_IDS, defaultSigmasEdm,
  exponentialSigmas, familyFromName, familyInfo, flowSimpleSigmas, flowToEdm, guideEvaluations, karrasSigmas,
  runSummary, scheduleFromWidgets, specProblem, toEdm, weightAt,
} from "./schedule_math.js";
import { evaluationSigmas } from "./sampler_evaluations.js";

const SCHEDULE_NODES = new Set(SCHEDULE_NODE_IDS);
const GUIDED_NODES = new Set(GUIDED_NODE_IDS);
const LIMIT = NODE_IDS.scheduleLimit;
const PLOT_TYPE = "autoguidance_schedule_plot";
const MAX_DEPTH = 16;
const TEXT_PX = 12;  // plot text on screen (CSS px) at any zoom, between 10 and 24 graph units
const COLOURS = { curve: "#f0a040", cfg: "#59a6e8", shade: "rgba(240,160,64,0.16)", off: "#8a8a8a",
                  axis: "#666", text: "#cfcfcf", bad: "#e46060", tickOn: "#f0a040", tickOff: "#555" };

const FLOW_LABELS = [0.1, 0.5, 0.9];    // σ_flow values labelled under a flow model's axis
/** The last run of each guider / patch, by prompt node id (runSummary of the server's message). */
const LAST_RUNS = new Map();

const typeOf = (node) => node?.comfyClass ?? node?.type;

function widgetValues(node) {
  const v = {};
  for (const w of node.widgets ?? []) v[w.name] = w.value;
  return v;
}

/** The node feeding input `name`, or null. */
function inputNode(node, name) {
  const slot = node.inputs?.findIndex((i) => i.name === name) ?? -1;
  return slot >= 0 && node.graph ? node.getInputNode(slot) : null;
}

/** Every node fed by any output of `node`. */
function outputNodes(node) {
  if (!node.graph) return [];
  return (node.outputs ?? []).flatMap((_, i) => node.getOutputNodes(i) ?? []);
}

/** {spec, problem} of the schedule a node stands for (a Limit follows its own input). */
function scheduleOf(node, depth = 0) {
  if (!node || depth > MAX_DEPTH || !SCHEDULE_NODES.has(typeOf(node))) return null;
  let inner = null;
  if (typeOf(node) === LIMIT) {
    const upstream = scheduleOf(inputNode(node, "schedule"), depth + 1);
    if (upstream?.problem) return upstream;
    inner = upstream?.spec ?? NO_GUIDANCE;
  }
  return scheduleFromWidgets(typeOf(node), widgetValues(node), inner);
}

function constant(w) {
  const spec = { kind: "constant", w };
  return { spec, problem: specProblem(spec) };
}

/** The autoguidance (and CFG) schedules drawn in a guider / model-patch node. */
function guidedSchedules(node) {
  const v = widgetValues(node);
  const ag = scheduleOf(inputNode(node, "schedule")) ?? constant(v.w);
  const curves = [{ label: "autoguidance", ...ag, colour: COLOURS.curve }];
  if (typeOf(node) === NODE_IDS.guider) {
    const cfg = scheduleOf(inputNode(node, "cfg_schedule")) ?? constant(v.cfg);
    if (inputNode(node, "negative") || cfg.spec?.kind !== "constant" || cfg.spec.w !== 1)
      curves.push({ label: "CFG", ...cfg, colour: COLOURS.cfg });
  }
  return curves;
}

/** The guider / patch a schedule node feeds, through any Limit nodes. */
function guidedConsumer(node, depth = 0) {
  if (depth > MAX_DEPTH) return null;
  for (const target of outputNodes(node)) {
    if (GUIDED_NODES.has(typeOf(target))) return target;
    const found = typeOf(target) === LIMIT ? guidedConsumer(target, depth + 1) : null;
    if (found) return found;
  }
  return null;
}

/** The model family feeding a guider/patch (directly or through the node's 'model' input). */
function modelFamily(node, depth = 0) {
  const model = inputNode(node, "model");
  if (!model || depth > MAX_DEPTH) return null;
  const type = typeOf(model);
  if (type === NODE_IDS.edm2Loader) return "edm2";
  const name = (model.widgets ?? []).find((w) => /ckpt|unet|checkpoint/.test(w.name))?.value;
  const flow = familyFromName(name);
  if (flow) return flow;
  if (type.startsWith("Checkpoint") || type === "UNETLoader") return "sd";
  return modelFamily(model, depth + 1);
}

/** The σ list (native σ of the family) a scheduler name gives on the family's range; known or a guess. */
function schedulerSigmas(family, info, scheduler, steps) {
  if (info.kind === "flow") return { sigmas: flowSimpleSigmas(family, steps), known: scheduler === "simple" };
  const [sigmaMin, sigmaMax] = info.native;
  const make = scheduler === "exponential" ? exponentialSigmas : karrasSigmas;
  return { sigmas: make(steps, sigmaMin, sigmaMax), known: scheduler === "karras" || scheduler === "exponential" };
}

/** Steps, sampler and native σ list of the sampler a guider / patch feeds, when the graph says so. */
function samplerSetup(guided, family) {
  const info = familyInfo(family);
  for (const node of outputNodes(guided)) {
    const type = typeOf(node);
    if (type === "SamplerCustomAdvanced") {
      const samplerNode = inputNode(node, "sampler");
      const sampler = samplerNode ? widgetValues(samplerNode).sampler_name ?? "euler" : "euler";
      const sigmasNode = inputNode(node, "sigmas");
      const sv = sigmasNode ? widgetValues(sigmasNode) : {};
      const st = typeOf(sigmasNode);
      if (st === "KarrasScheduler")
        return { sampler, steps: sv.steps, sigmas: karrasSigmas(sv.steps, sv.sigma_min, sv.sigma_max, sv.rho), known: true };
      if (st === "ExponentialScheduler")
        return { sampler, steps: sv.steps, sigmas: exponentialSigmas(sv.steps, sv.sigma_min, sv.sigma_max), known: true };
      if (st === "BasicScheduler") {
        const { sigmas, known } = schedulerSigmas(family, info, sv.scheduler, sv.steps);
        if (known) return { sampler, steps: sv.steps, sigmas, known };
      }
    }
    if (type === "KSampler" || type === "KSamplerAdvanced") {
      const v = widgetValues(node);
      return { sampler: v.sampler_name, steps: v.steps, ...schedulerSigmas(family, info, v.scheduler, v.steps) };
    }
  }
  return null;
}

/** Everything one plot needs, from the node and what it is wired to. */
export function plotModel(node) {
  let curves, guided;
  if (SCHEDULE_NODES.has(typeOf(node))) {
    curves = [{ label: "w", ...scheduleOf(node), colour: COLOURS.curve }];
    guided = guidedConsumer(node);
  } else {
    curves = guidedSchedules(node);
    guided = node;
  }
  const family = guided ? modelFamily(guided) : null;
  const info = familyInfo(family);
  const setup = guided ? samplerSetup(guided, family) : null;
  const known = Boolean(setup?.known);
  const run = guided ? LAST_RUNS.get(String(guided.id)) ?? null : null;
  return { curves, family: family ?? "edm2 (default)", ...axisOf(info, run), run,
           sigmas: known ? setup.sigmas.map((s) => toEdm(info.kind, s, info.k)) : defaultSigmasEdm(family, DEFAULT_STEPS),
           sampler: known ? setup.sampler : "heun", steps: known ? setup.steps : DEFAULT_STEPS, known };
}

/** The σ_edm span drawn: the family's, widened to every finite σ_edm the last run evaluated;
 *  `infiniteTop` when σ_edm = ∞ (a flow model's σ = 1) is drawn at the left edge. */
function axisOf(info, run) {
  let [lo, hi] = info.range;
  let infiniteTop = info.infiniteTop;
  for (const t of run?.ticks ?? []) {
    if (!Number.isFinite(t.sigmaEdm)) { infiniteTop = true; continue; }
    if (t.sigmaEdm > 0) { lo = Math.min(lo, t.sigmaEdm); hi = Math.max(hi, t.sigmaEdm); }
  }
  return { range: [lo, hi], infiniteTop, flow: info.kind === "flow" };
}

function drawCurves(ctx, m, box) {
  const { x0, x1, y0, y1, lx, samples, fs } = box;
  const ws = m.curves.flatMap((c) => samples.map((s) => weightAt(c.spec, s)));
  const wMin = Math.min(0, ...ws), wMax = Math.max(2, ...ws) + 0.25;
  const wy = (w) => y1 - ((w - wMin) / (wMax - wMin)) * (y1 - y0);
  for (const c of m.curves) {  // guided region (w ≠ 1): shaded columns
    ctx.fillStyle = c === m.curves[0] ? COLOURS.shade : "rgba(89,166,232,0.12)";
    for (let i = 0; i < samples.length - 1; i++)
      if (weightAt(c.spec, samples[i]) !== 1) ctx.fillRect(lx(samples[i]), y0, lx(samples[i + 1]) - lx(samples[i]) + 0.5, y1 - y0);
  }
  ctx.strokeStyle = COLOURS.off;  // w = 1: guidance off
  ctx.setLineDash([4, 3]);
  ctx.beginPath(); ctx.moveTo(x0, wy(1)); ctx.lineTo(x1, wy(1)); ctx.stroke();
  ctx.setLineDash([]);
  ctx.fillStyle = COLOURS.off;
  ctx.fillText("1", x0 - fs, wy(1) + fs / 3);
  ctx.fillText(wMax.toFixed(1), 12, y0 + fs / 2);
  for (const c of m.curves) {
    ctx.strokeStyle = c.colour;
    ctx.lineWidth = 2;
    ctx.beginPath();
    samples.forEach((s, i) => (i ? ctx.lineTo(lx(s), wy(weightAt(c.spec, s))) : ctx.moveTo(lx(s), wy(weightAt(c.spec, s)))));
    ctx.stroke();
  }
}

function drawPlot(ctx, node, width, y, height) {
  const m = plotModel(node);
  // Text keeps TEXT_PX on screen at any zoom: both canvases show graph units at the canvas's zoom.
  const fs = Math.min(24, Math.max(10, TEXT_PX / (app.canvas?.ds?.scale || 1)));
  const pad = { l: 2 * fs + 6, r: 10, t: fs + 6, b: (m.flow ? 2 : 1) * (fs + 2) + 8 };
  const x0 = pad.l, x1 = width - pad.r, y0 = y + pad.t, y1 = y + height - pad.b;
  ctx.save();
  ctx.fillStyle = "#1e1e1e";
  ctx.fillRect(8, y, width - 16, height - 4);
  ctx.font = `${fs}px sans-serif`;
  const problem = m.curves.map((c) => c.problem).find(Boolean);
  if (problem) {
    ctx.fillStyle = COLOURS.bad;
    ctx.fillText(`✗ ${problem.split(" (")[0]}`, x0, y0 + 20);
    ctx.restore();
    node.__agLastPlot = { problem };
    return;
  }
  const [lo, hi] = m.range;
  const lx = (s) => x0 + ((Math.log(hi) - Math.log(Math.min(Math.max(s, lo), hi))) / (Math.log(hi) - Math.log(lo))) * (x1 - x0);
  const samples = [];
  for (let i = 0; i <= 120; i++) samples.push(Math.exp(Math.log(hi) + (i / 120) * (Math.log(lo) - Math.log(hi))));
  drawCurves(ctx, m, { x0, x1, y0, y1, lx, samples, fs });
  // The sampler's evaluations: a tick per model call's σ_edm, lit where the guide runs (the last
  // run's own σ and guide flags once the server has reported one, else the graph's guess).
  const spec = m.curves[0].spec;
  const ticks = m.run ? m.run.ticks.map((t) => [t.sigmaEdm, t.guided])
    : (evaluationSigmas(m.sigmas, m.sampler) ?? m.sigmas.slice(0, -1)).map((s) => [s, weightAt(spec, s) !== 1]);
  for (const [s, on] of ticks) {
    ctx.fillStyle = on ? COLOURS.tickOn : COLOURS.tickOff;
    ctx.fillRect(lx(s) - 0.5, y1 + 1, 1.5, 5);
  }
  ctx.strokeStyle = COLOURS.axis;
  ctx.lineWidth = 1;
  ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
  drawAxisLabels(ctx, m, { x0, x1, y1, lx, fs });
  const count = m.run ? { guided: m.run.guided, total: m.run.total } : guideEvaluations(spec, m.sigmas, m.sampler);
  // Until a run reports its σ steps (none arrives for a re-run served from ComfyUI's cache) it is a guess.
  const runs = m.run ? m.run.text
    : `estimate: guide runs ${count.total === null ? "? (adaptive)" : `${count.guided}/${count.total}`}`
      + ` · ${m.steps} ${m.sampler}${m.known ? "" : " (default)"}`;
  ctx.fillStyle = COLOURS.text;
  ctx.fillText(runs, x0 - fs - 4, y0 - 5, x1 - x0 + fs);
  const glyph = ctx.measureText("0");
  ctx.restore();
  node.__agLastPlot = { guided: count.guided, total: count.total, family: m.family, steps: m.steps, sampler: m.sampler,
                        lastRun: Boolean(m.run), range: m.range, text: runs, fontPx: fs,
                        glyphPx: glyph.actualBoundingBoxAscent + glyph.actualBoundingBoxDescent };
}

const short = (v) => Number(v.toPrecision(3));

/** σ_edm at both ends (∞ at the left for a flow model's pure noise); σ_flow under a flow axis. */
function drawAxisLabels(ctx, m, { x0, x1, y1, lx, fs }) {
  const [lo, hi] = m.range;
  ctx.fillStyle = COLOURS.text;
  ctx.fillText(m.infiniteTop ? "σ_edm ∞" : `σ_edm ${short(hi)}`, x0, y1 + fs + 6);
  const loText = `${short(lo)} (log)`;
  ctx.fillText(loText, x1 - ctx.measureText(loText).width, y1 + fs + 6);
  if (!m.flow) return;
  ctx.fillStyle = COLOURS.off;
  for (const v of FLOW_LABELS) {
    const s = flowToEdm(v);
    if (s <= lo || s >= hi) continue;
    const text = `σ_flow ${v}`;
    ctx.fillRect(lx(s), y1 + 1, 1, 3);
    ctx.fillText(text, lx(s) - ctx.measureText(text).width / 2, y1 + 2 * fs + 8);
  }
}

/** Redraw every plot of the graph: canvas mode redraws on setDirtyCanvas, Vue mode on triggerDraw. */
function refreshPlots(graph) {
  if (!graph) return;
  for (const node of graph.nodes ?? graph._nodes ?? []) {
    for (const w of node.widgets ?? []) if (w.type === PLOT_TYPE) w.triggerDraw?.();
  }
  graph.setDirtyCanvas?.(true, true);
}

/** After every widget edit and link change of `node`, redraw the plots. */
function watch(node) {
  for (const w of node.widgets ?? []) {
    if (w.type === PLOT_TYPE || w.__agWatched) continue;
    const original = w.callback;
    w.callback = function (...args) {
      const r = original?.apply(this, args);
      refreshPlots(node.graph);
      return r;
    };
    w.__agWatched = true;
  }
  const changed = node.onConnectionsChange;
  node.onConnectionsChange = function (...args) {
    const r = changed?.apply(this, args);
    refreshPlots(this.graph);
    return r;
  };
}

function addPlotWidget(node) {
  const widget = {
    name: "w(σ) plot",
    type: PLOT_TYPE,
    value: null,
    options: { serialize: false },
    serialize: false,
    serializeValue: () => undefined,
    draw(ctx, n, width, y) { drawPlot(ctx, n, width, y, PLOT_HEIGHT); },
    computeSize(width) { return [width, PLOT_HEIGHT]; },
  };
  node.addCustomWidget(widget);
  const [w, h] = node.computeSize();
  node.setSize([Math.max(node.size?.[0] ?? 0, w, 300), Math.max(node.size?.[1] ?? 0, h)]);
  return widget;
}

/** Keep the last run of each guider / patch and redraw: its plot (and its schedules') show it. */
function onRun(event) {
  const run = runSummary(event.detail);
  if (!run) return;
  LAST_RUNS.set(run.node, run);
  refreshPlots(app.graph);
}

api.addEventListener(RUN_EVENT, onRun);

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
  },
  nodeCreated(node) {
    watch(node);  // a plot reads the widgets of any node upstream or downstream
    // σ widgets shown to 3 decimals (KarrasScheduler's σ_min 0.002 would read 0.00 at its step's 2).
    for (const w of node.widgets ?? [])
      if (/^sigma/.test(w.name) && w.type === "number" && w.options && (w.options.precision ?? 0) < 3) w.options.precision = 3;
  },
  setup() {  // Vue mode redraws a canvas widget only on triggerDraw: redraw when the zoom moves the text size
    const canvas = app.canvas;
    let scale = canvas?.ds?.scale;
    const drawn = canvas?.onDrawForeground;
    if (canvas) canvas.onDrawForeground = function (...args) {
      if (canvas.ds.scale !== scale) { scale = canvas.ds.scale; refreshPlots(app.graph); }
      return drawn?.apply(this, args);
    };
  },
  afterConfigureGraph() {
    refreshPlots(app.graph);
  },
});
