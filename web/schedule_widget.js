// Draws w(σ) in every node that makes a schedule or applies one to a sampler (plotRole, from the served
// schemas): a log σ_edm axis over the model's range, the guided region shaded, w = 1 (off) dashed, a tick per
// model call of the connected sampler (estimated from the graph, then the last run's: RUN_EVENT). Front ends
// 1.27-1.58; Nodes 2.0 (Vue) redraws a canvas widget only on its triggerDraw(), so edits redraw the plots.

import { api } from "../../scripts/api.js";
import { app } from "../../scripts/app.js";
import {
  DEFAULT_SAMPLER, MODEL_FILE_WIDGETS, PLOT_HEIGHT, RUN_EVENT, exponentialSigmas, familyInfo, familyOf, flowToEdm,
  guideEvaluations, karrasSigmas, plotRole, runSummary, scheduleFromWidgets, schedulerSigmas, toEdm, weightAt,
} from "./schedule_math.js";
import { evaluationSigmas } from "./sampler_evaluations.js";

const PLOT_TYPE = "autoguidance_schedule_plot";
const MAX_DEPTH = 16;
const TEXT_PX = 12;  // plot text on screen (CSS px) at any zoom, between 10 and 24 graph units
const COLOURS = { curve: "#f0a040", cfg: "#59a6e8", shade: "rgba(240,160,64,0.16)", cfgShade: "rgba(89,166,232,0.12)",
                  off: "#8a8a8a", axis: "#666", text: "#cfcfcf", bad: "#e46060", tickOff: "#555" };
const FLOW_LABELS = [0.9, 0.5, 0.1];  // σ_flow labelled under a flow model's axis, left (high σ) to right
const LAST_RUNS = new Map();  // runSummary of each guider / patch's last run, by prompt node id

const roleOf = (node) => node?.constructor?.agRole ?? null;
const typeOf = (node) => node?.comfyClass ?? node?.type;
const widgetValues = (node) => Object.fromEntries((node?.widgets ?? []).map((w) => [w.name, w.value]));

/** The node feeding input `name`, or null. */
function inputNode(node, name) {
  const slot = node.inputs?.findIndex((i) => i.name === name) ?? -1;
  return slot >= 0 && node.graph ? node.getInputNode(slot) : null;
}

/** Every node fed by any output of `node`. */
const outputNodes = (node) => (node.graph ? (node.outputs ?? []).flatMap((_, i) => node.getOutputNodes(i) ?? []) : []);

/** {spec, problem} of the schedule a node stands for (a Limit follows its own input). */
function scheduleOf(node, depth = 0) {
  const role = roleOf(node);
  if (!role?.widgets || depth > MAX_DEPTH) return null;
  const upstream = role.limit ? scheduleOf(inputNode(node, "schedule"), depth + 1) : null;
  return upstream?.problem ? upstream : scheduleFromWidgets(role.widgets, widgetValues(node), upstream?.spec);
}

const constant = (w) => scheduleFromWidgets(["w"], { w });  // a guider's own w (or cfg) widget

/** The autoguidance (and CFG) schedules drawn in a guider / model-patch node. */
function guidedSchedules(node) {
  const v = widgetValues(node);
  const curves = [{ ...(scheduleOf(inputNode(node, "schedule")) ?? constant(v.w)), colour: COLOURS.curve }];
  if (roleOf(node).cfg) {
    const cfg = scheduleOf(inputNode(node, "cfg_schedule")) ?? constant(v.cfg);
    if (inputNode(node, "negative") || cfg.spec?.kind !== "constant" || cfg.spec.w !== 1)
      curves.push({ ...cfg, colour: COLOURS.cfg });
  }
  return curves;
}

/** The guider / patch a schedule node feeds, through any Limit nodes. */
function guidedConsumer(node, depth = 0) {
  for (const target of depth > MAX_DEPTH ? [] : outputNodes(node)) {
    const found = roleOf(target)?.guided ? target : roleOf(target)?.limit ? guidedConsumer(target, depth + 1) : null;
    if (found) return found;
  }
  return null;
}

/** The family of the model feeding a node, from the first loader up its 'model' inputs (familyOf). */
function modelFamily(node, depth = 0) {
  const model = inputNode(node, "model");
  if (!model || depth > MAX_DEPTH) return familyOf();
  const file = model.widgets?.find((w) => MODEL_FILE_WIDGETS.includes(w.name));
  return file ? familyOf(file.value, file.name) : modelFamily(model, depth + 1);
}

/** ComfyUI's σ nodes (and a KSampler's own scheduler): their widgets → native σ list. */
const SIGMA_NODES = {
  KarrasScheduler: (v) => ({ sigmas: karrasSigmas(v.steps, v.sigma_min, v.sigma_max, v.rho), known: true }),
  ExponentialScheduler: (v) => ({ sigmas: exponentialSigmas(v.steps, v.sigma_min, v.sigma_max), known: true }),
  BasicScheduler: (v, family) => schedulerSigmas(family, v.scheduler, v.steps),
};

/** Sampler, steps and native σ list of the first sampler a guider / patch feeds whose σ the graph sets. */
function samplerSetup(guided, family) {
  for (const node of outputNodes(guided)) {
    const custom = typeOf(node) === "SamplerCustomAdvanced";
    if (!custom && !/^KSampler(Advanced)?$/.test(typeOf(node))) continue;
    const sigmasNode = custom ? inputNode(node, "sigmas") : node;
    const v = widgetValues(sigmasNode);
    const setup = SIGMA_NODES[custom ? typeOf(sigmasNode) : "BasicScheduler"]?.(v, family);
    const sampler = custom ? widgetValues(inputNode(node, "sampler")).sampler_name ?? "euler" : v.sampler_name;
    if (setup?.known) return { ...setup, sampler, steps: v.steps };
  }
  return null;
}

/** Everything one plot needs, from the node and what it is wired to. */
export function plotModel(node) {
  const schedule = Boolean(roleOf(node).widgets);
  const curves = schedule ? [{ ...scheduleOf(node), colour: COLOURS.curve }] : guidedSchedules(node);
  const guided = schedule ? guidedConsumer(node) : node;
  const family = guided ? modelFamily(guided) : familyOf();
  const info = familyInfo(family);
  const setup = (guided && samplerSetup(guided, family))
    || { ...DEFAULT_SAMPLER, ...schedulerSigmas(family, "", DEFAULT_SAMPLER.steps) };
  const run = guided ? LAST_RUNS.get(String(guided.id)) : undefined;
  // The σ_edm span: the family's, widened to the last run's; a flow model's σ = 1 (σ_edm = ∞) at the left edge.
  const finite = (run?.ticks ?? []).map((t) => t.sigmaEdm).filter((s) => Number.isFinite(s) && s > 0);
  return { curves, family, run, ...setup, sigmas: setup.sigmas.map((s) => toEdm(info.kind, s)),
           range: [Math.min(info.range[0], ...finite), Math.max(info.range[1], ...finite)], flow: info.kind === "flow",
           infiniteTop: info.infiniteTop || Boolean(run?.ticks.some((t) => !Number.isFinite(t.sigmaEdm))) };
}

/** Each curve with its guided region (w ≠ 1) shaded, over w = 1 (guidance off) dashed. */
function drawCurves(ctx, m, { x0, x1, y0, y1, lx, samples, fs }) {
  const ws = m.curves.flatMap((c) => samples.map((s) => weightAt(c.spec, s)));
  const wMin = Math.min(0, ...ws), wMax = Math.max(2, ...ws) + 0.25;
  const wy = (w) => y1 - ((w - wMin) / (wMax - wMin)) * (y1 - y0);
  m.curves.forEach((c, k) => {
    ctx.fillStyle = k ? COLOURS.cfgShade : COLOURS.shade;
    samples.slice(0, -1).forEach((s, i) => weightAt(c.spec, s) !== 1
      && ctx.fillRect(lx(s), y0, lx(samples[i + 1]) - lx(s) + 0.5, y1 - y0));
  });
  ctx.strokeStyle = ctx.fillStyle = COLOURS.off;
  ctx.setLineDash([4, 3]);
  ctx.beginPath(); ctx.moveTo(x0, wy(1)); ctx.lineTo(x1, wy(1)); ctx.stroke();
  ctx.setLineDash([]);
  ctx.fillText("1", x0 - fs, wy(1) + fs / 3);
  ctx.fillText(wMax.toFixed(1), 12, y0 + fs / 2);
  ctx.lineWidth = 2;
  for (const c of m.curves) {
    ctx.strokeStyle = c.colour;
    ctx.beginPath();
    samples.forEach((s, i) => ctx[i ? "lineTo" : "moveTo"](lx(s), wy(weightAt(c.spec, s))));
    ctx.stroke();
  }
}

function drawPlot(ctx, node, width, y, height) {
  const m = plotModel(node);
  // Text keeps TEXT_PX on screen at any zoom: both canvases show graph units at the canvas's zoom.
  const fs = Math.min(24, Math.max(10, TEXT_PX / (app.canvas?.ds?.scale || 1)));
  const x0 = 2 * fs + 6, x1 = width - 10, y0 = y + fs + 6, y1 = y + height - (m.flow ? 2 : 1) * (fs + 2) - 8;
  ctx.save();
  ctx.fillStyle = "#1e1e1e";
  ctx.fillRect(8, y, width - 16, height - 4);
  ctx.font = `${fs}px sans-serif`;
  const problem = m.curves.map((c) => c.problem).find(Boolean);
  node.__agLastPlot = problem ? { problem } : drawWeights(ctx, m, { x0, x1, y0, y1, fs });
  if (problem) {
    ctx.fillStyle = COLOURS.bad;
    ctx.fillText(`✗ ${problem}`, x0, y0 + 20);
  }
  ctx.restore();
}

/** The curves, a tick per model call's σ_edm (lit where the guide runs: the last run's, else the estimate),
 *  the axis and the count; returns what was drawn, for tests. */
function drawWeights(ctx, m, { x0, x1, y0, y1, fs }) {
  const [lo, hi] = m.range.map(Math.log);
  const lx = (s) => x0 + ((hi - Math.min(Math.max(Math.log(s), lo), hi)) / (hi - lo)) * (x1 - x0);
  const samples = [...Array(121).keys()].map((i) => Math.exp(hi + (i / 120) * (lo - hi)));
  drawCurves(ctx, m, { x0, x1, y0, y1, lx, samples, fs });
  const spec = m.curves[0].spec;
  const ticks = m.run ? m.run.ticks.map((t) => [t.sigmaEdm, t.guided])
    : (evaluationSigmas(m.sigmas, m.sampler) ?? m.sigmas.slice(0, -1)).map((s) => [s, weightAt(spec, s) !== 1]);
  for (const [s, on] of ticks) {
    ctx.fillStyle = on ? COLOURS.curve : COLOURS.tickOff;
    ctx.fillRect(lx(s) - 0.5, y1 + 1, 1.5, 5);
  }
  ctx.strokeStyle = COLOURS.axis;
  ctx.lineWidth = 1;
  ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
  drawAxisLabels(ctx, m, { x0, x1, y1, lx, fs });
  const count = m.run ?? guideEvaluations(spec, m.sigmas, m.sampler);
  // Until a run reports its σ steps (none arrives for a re-run served from ComfyUI's cache) it is an estimate.
  const runs = count.total === null ? "? (adaptive)" : `${count.guided}/${count.total}`;
  const text = m.run?.text ?? `estimate: guide runs ${runs} · ${m.steps} ${m.sampler}${m.known ? "" : " (default)"}`;
  ctx.fillStyle = COLOURS.text;
  ctx.fillText(text, x0 - fs - 4, y0 - 5, x1 - x0 + fs);
  const glyph = ctx.measureText("0");
  return { guided: count.guided, total: count.total, family: m.family, lastRun: Boolean(m.run), text,
           glyphPx: glyph.actualBoundingBoxAscent + glyph.actualBoundingBoxDescent };
}

const short = (v) => Number(v.toPrecision(3));

/** σ_edm at both ends (∞ at the left for a flow model's pure noise); σ_flow under a flow axis, named by
 *  the first label only, a label that would overlap the one before left out. */
function drawAxisLabels(ctx, m, { x0, x1, y1, lx, fs }) {
  const [lo, hi] = m.range;
  const label = (text, x, row = 1) => ctx.fillText(text, x, y1 + row * (fs + 2) + 4);
  ctx.fillStyle = COLOURS.text;
  label(m.infiniteTop ? "σ_edm ∞" : `σ_edm ${short(hi)}`, x0);
  label(`${short(lo)} (log)`, x1 - ctx.measureText(`${short(lo)} (log)`).width);
  ctx.fillStyle = COLOURS.off;
  let right = -Infinity;
  for (const v of FLOW_LABELS.filter((v) => m.flow && flowToEdm(v) > lo && flowToEdm(v) < hi)) {
    const x = lx(flowToEdm(v)), text = right === -Infinity ? `σ_flow ${v}` : String(v);
    const w = ctx.measureText(text).width;
    ctx.fillRect(x, y1 + 1, 1, 3);
    if (x - w / 2 <= right) continue;
    label(text, x - w / 2, 2);
    right = x + w / 2 + fs / 2;
  }
}

/** Redraw every plot of the graph: canvas mode redraws on setDirtyCanvas, Vue mode on triggerDraw. */
function refreshPlots(graph) {
  for (const node of graph?.nodes ?? graph?._nodes ?? [])
    for (const w of node.widgets ?? []) if (w.type === PLOT_TYPE) w.triggerDraw?.();
  graph?.setDirtyCanvas?.(true, true);
}

/** Call `after` once `object[name]` (a handler the front end calls) has run. */
function chain(object, name, after) {
  const original = object[name];
  object[name] = function (...args) { const r = original?.apply(this, args); after.call(this); return r; };
}

function addPlotWidget(node) {
  node.addCustomWidget({
    name: "w(σ) plot", type: PLOT_TYPE, value: null, options: { serialize: false }, serialize: false,
    serializeValue: () => undefined,
    draw(ctx, n, width, y) { drawPlot(ctx, n, width, y, PLOT_HEIGHT); },
    computeSize(width) { return [width, PLOT_HEIGHT]; },
  });
  const [w, h] = node.computeSize();
  node.setSize([Math.max(node.size?.[0] ?? 0, w, 300), Math.max(node.size?.[1] ?? 0, h)]);
}

api.addEventListener(RUN_EVENT, (event) => {  // keep each guider / patch's last run and redraw
  const run = runSummary(event.detail);
  if (!run) return;
  LAST_RUNS.set(run.node, run);
  refreshPlots(app.graph);
});

app.registerExtension({
  name: "autoguidance.ScheduleWidget",
  async beforeRegisterNodeDef(nodeType, nodeData) {
    nodeType.agRole = plotRole(nodeData);
    if (nodeType.agRole) chain(nodeType.prototype, "onNodeCreated", function () { addPlotWidget(this); });
  },
  nodeCreated(node) {  // a plot reads the widgets and links of any node upstream or downstream
    chain(node, "onConnectionsChange", function () { refreshPlots(this.graph); });
    for (const w of node.widgets ?? []) {
      if (w.type !== PLOT_TYPE) chain(w, "callback", () => refreshPlots(node.graph));
      // σ widgets shown to 3 decimals (KarrasScheduler's σ_min 0.002 would read 0.00 at its step's 2).
      const sigma = /^sigma/.test(w.name) && w.type === "number" && w.options;
      if (sigma && (w.options.precision ?? 0) < 3) w.options.precision = 3;
    }
  },
  setup() {  // Vue mode redraws a canvas widget only on triggerDraw: redraw when the zoom moves the text size
    let scale = app.canvas?.ds?.scale;
    if (app.canvas) chain(app.canvas, "onDrawForeground", () => {
      if (app.canvas.ds.scale !== scale) refreshPlots(app.graph);
      scale = app.canvas.ds.scale;
    });
  },
  afterConfigureGraph: () => refreshPlots(app.graph),
});
