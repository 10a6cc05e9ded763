// Guidance-schedule maths for the front end, with no DOM and no ComfyUI (imported by
// schedule_widget.js, run under node by tests/web):
// - the twin of nodes/schedule_widgets.py: what a schedule node's widgets mean, with the same
//   checks and the same messages up to their first " (";
// - the twin of guidance/schedules.py: w(σ) of each schedule kind;
// - the noise levels a sampler visits and the σ of every model evaluation it makes.
// tests/web checks each part against the Python (and against ComfyUI's samplers).

import { evaluationSigmas } from "./sampler_evaluations.js";

/** The pack's node ids the front end needs (nodes/node_ids.py is the one list; tested equal). */
export const NODE_IDS = {
  guider: "AutoguidanceGuider",
  modelPatch: "AutoguidanceModelPatch",
  scheduleConstant: "AutoguidanceScheduleConstant",
  scheduleInterval: "AutoguidanceScheduleInterval",
  scheduleRamp: "AutoguidanceScheduleRamp",
  scheduleKnots: "AutoguidanceScheduleKnots",
  scheduleLimit: "AutoguidanceScheduleLimit",
  edm2Loader: "AutoguidanceEDM2Loader",
};
export const GUIDED_NODE_IDS = [NODE_IDS.guider, NODE_IDS.modelPatch];
const { scheduleConstant: CONSTANT, scheduleInterval: INTERVAL, scheduleRamp: RAMP, scheduleKnots: KNOTS,
        scheduleLimit: LIMIT } = NODE_IDS;
export const SCHEDULE_NODE_IDS = [CONSTANT, INTERVAL, RAMP, KNOTS, LIMIT];

/** Each schedule node's widgets in schema order (schedule_widgets.WIDGETS). */
export const SCHEDULE_WIDGETS = {
  [CONSTANT]: ["w"],
  [INTERVAL]: ["w", "sigma_lo", "sigma_hi"],
  [RAMP]: ["w_start", "w_end", "sigma_start", "sigma_end", "space", "shape"],
  [KNOTS]: ["sigmas", "weights"],
  [LIMIT]: ["sigma_lo", "sigma_hi"],
};
const KIND = { [CONSTANT]: "constant", [INTERVAL]: "interval", [RAMP]: "ramp", [KNOTS]: "knots", [LIMIT]: "interval" };
const TEXT_WIDGETS = new Set(["space", "shape", "sigmas", "weights"]);
export const NO_GUIDANCE = { kind: "constant", w: 1.0 };
/** Facts the Python side shares (held equal by tests/web/test_front_end_facts.py). */
export const RUN_EVENT = "autoguidance.run";  // nodes/guide_term.py RUN_EVENT
export const PLOT_HEIGHT = 132;              // tools/build_workflows.py PLOT_HEIGHT (the boxes' room)

// ----------------------------------------------------------------------------
// One noise scale: schedules are written in σ_edm, the noise-to-signal ratio (guidance/noise_scale.py).
// EPS / V / EDM models: σ_edm = ComfyUI's σ. Flow models (x = (1 − σ)·x0 + σ·k·ε): σ_edm = k·σ/(1 − σ).

/** σ_edm of a flow model's σ ∈ [0, 1] (σ = 1, pure noise, → ∞); k = the model's noise multiplier. */
export function flowToEdm(sigma, k = 1) {
  return sigma >= 1 ? Infinity : (k * sigma) / (1 - sigma);
}

/** The inverse: σ_flow = σ_edm / (k + σ_edm) (∞ → 1). */
export function edmToFlow(sigmaEdm, k = 1) {
  return Number.isFinite(sigmaEdm) ? sigmaEdm / (k + sigmaEdm) : 1;
}

/** A model's own σ → σ_edm, by noise kind ("ve": unchanged, "flow": k·σ/(1 − σ)). */
export function toEdm(kind, sigma, k = 1) {
  return kind === "flow" ? flowToEdm(sigma, k) : sigma;
}

// ----------------------------------------------------------------------------
// Model families, guessed from file names before a run (the run's own σ replace the guess after).
// Flow families carry the σ(t) of their ComfyUI model sampling: `shift` for ModelSamplingDiscreteFlow
// (σ = s·t/(1 + (s − 1)·t), 1000 levels; comfy/model_sampling.py time_snr_shift) or `mu` for
// ModelSamplingFlux (σ = e^μ/(e^μ + 1/t − 1), 10000 levels; flux_time_shift); shifts are the
// families' defaults in comfy/supported_models.py (0.3.64).

const FAMILIES = {
  edm2: { kind: "ve", range: [0.002, 80.0] },    // EDM / EDM2 (Karras et al.)
  sd: { kind: "ve", range: [0.0292, 14.6146] },  // SD1.5 / SDXL (scaled-linear β, 1000 steps)
  sd3: { kind: "flow", shift: 3.0 },
  flux: { kind: "flow", mu: 1.15 },
  flux2: { kind: "flow", mu: 1.15 },
  chroma: { kind: "flow", mu: 1.15 },
  lumina2: { kind: "flow", shift: 6.0 },
  qwen: { kind: "flow", shift: 1.15 },
  wan: { kind: "flow", shift: 8.0 },
  auraflow: { kind: "flow", shift: 1.73 },
  hunyuan: { kind: "flow", shift: 7.0 },
  "z-image": { kind: "flow", shift: 3.0 },
};
/** File-name patterns → family, first match wins (flux2 before flux, sd3 before sd). */
const FAMILY_NAMES = [
  ["flux2", /flux[._-]?2|klein/], ["chroma", /chroma/], ["flux", /flux/], ["sd3", /sd3|sd_3|sd[._-]?3\.5|stable[._-]?diffusion[._-]?3/],
  ["auraflow", /aura/], ["lumina2", /lumina/], ["qwen", /qwen/], ["wan", /\bwan|wan[._-]?2/],
  ["hunyuan", /hunyuan/], ["z-image", /z[._-]?image/],
];
export const FLOW_FAMILIES = Object.keys(FAMILIES).filter((f) => FAMILIES[f].kind === "flow");
const REFERENCE_STEPS = 20;  // the flow axis is drawn up to the 2nd level of a 20-step schedule

/** The flow family a checkpoint / UNet file name points at, or null. */
export function familyFromName(name) {
  const n = String(name ?? "").toLowerCase();
  return FAMILY_NAMES.find(([, re]) => re.test(n))?.[0] ?? null;
}

/** σ(t) of a flow family's ComfyUI model sampling, t ∈ (0, 1]. */
function flowSigma(f, t) {
  if (f.mu !== undefined) return Math.exp(f.mu) / (Math.exp(f.mu) + (1 / t - 1));
  return f.shift === 1 ? t : (f.shift * t) / (1 + (f.shift - 1) * t);
}

/** A flow family's ComfyUI "simple" scheduler: σ(t) at t = 1 − ⌊i·L/N⌋/L, i < N, then 0
 *  (comfy/samplers.py simple_scheduler over the L-level table; L = 10000 for Flux, else 1000). */
export function flowSimpleSigmas(family, steps) {
  const f = FAMILIES[family];
  const levels = f.mu !== undefined ? 10000 : 1000;
  const out = [];
  for (let i = 0; i < steps; i++) out.push(flowSigma(f, (levels - Math.floor((i * levels) / steps)) / levels));
  out.push(0);
  return out;
}

/** {kind, k, native: [σ_min, σ_max], range: [σ_edm min, σ_edm max drawn], infiniteTop} of a family
 *  (EDM2's when unknown). A flow model's top σ = 1 is σ_edm = ∞: drawn at a finite edge. */
export function familyInfo(family) {
  const f = FAMILIES[family] ?? FAMILIES.edm2;
  if (f.kind !== "flow") return { kind: "ve", k: 1, native: f.range, range: f.range, infiniteTop: false };
  const levels = f.mu !== undefined ? 10000 : 1000;
  const lo = flowSigma(f, 1 / levels);
  const top = flowSigma(f, 1 - 1 / REFERENCE_STEPS);
  return { kind: "flow", k: 1, native: [lo, 1], range: [flowToEdm(lo), flowToEdm(top)], infiniteTop: true };
}

/** [σ_edm min, σ_edm max] the plot spans for a model family (EDM2's when the family is unknown). */
export function sigmaRange(family) {
  return familyInfo(family).range;
}

/** The σ_edm a sampler visits by default on a family: karras over its range (EPS/V/EDM), the
 *  family's "simple" flow schedule converted to σ_edm (flow). */
export function defaultSigmasEdm(family, steps) {
  const info = familyInfo(family);
  if (info.kind === "flow") return flowSimpleSigmas(family, steps).map((s) => flowToEdm(s, info.k));
  return karrasSigmas(steps, info.range[0], info.range[1]);
}

export const DEFAULT_STEPS = 32; // the official EDM2 sampler's default

// ----------------------------------------------------------------------------
// Widget values → spec (schedule_widgets.schedule_spec); problems thrown as Error(message).

const pyList = (items) => `[${items.map((s) => `'${s}'`).join(", ")}]`;
const shown = (v) => (typeof v === "string" ? `'${v}'` : JSON.stringify(v) ?? String(v));
const NUMBER = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** "80, 5, 1" → [80, 5, 1] (commas, semicolons or new lines between); throws for anything else. */
export function parseNumbers(where, field, text) {
  const parts = typeof text === "string" ? text.split(/[,;\n]/).filter((p) => p.trim()) : null;
  if (parts === null || !parts.every((p) => NUMBER.test(p)))
    throw new Error(`${where}: '${field}' must be numbers separated by commas, e.g. 80, 5, 1, 0.1 (got ${shown(text)})`);
  return parts.map(Number);
}

function number(where, name, value) {
  if (typeof value !== "number") throw new Error(`${where}: ${name} must be a number (got ${shown(value)})`);
  return value;
}

const SPECS = {
  [CONSTANT]: (v) => ({ kind: "constant", w: v.w }),
  [INTERVAL]: (v) => ({ kind: "interval", ...v }),
  [RAMP]: (v) => ({ kind: "ramp", ...v }),
  [KNOTS]: (v, inner, where) => ({ kind: "knots", sigmas: parseNumbers(where, "sigmas", v.sigmas),
                                   weights: parseNumbers(where, "weights", v.weights) }),
  [LIMIT]: (v, inner) => ({ kind: "interval", schedule: inner ?? { ...NO_GUIDANCE },
                            sigma_lo: v.sigma_lo, sigma_hi: v.sigma_hi }),
};

/** The spec a schedule node's widget values stand for; null for a node that is not a schedule. */
export function specFromWidgets(type, values, inner = null) {
  const names = SCHEDULE_WIDGETS[type];
  if (!names) return null;
  const where = `${KIND[type]} schedule`;
  const missing = names.filter((n) => !(n in values));
  if (missing.length) throw new Error(`${where}: missing widget value(s) ${pyList(missing)} (got ${shown(values)})`);
  const v = {};
  for (const n of names) v[n] = TEXT_WIDGETS.has(n) ? values[n] : number(where, n, values[n]);
  return SPECS[type](v, inner, where);
}

// ----------------------------------------------------------------------------
// Spec checks (guidance/schedules.py's __post_init__ rules, in their order).

function finite(where, name, v) {
  if (typeof v !== "number") throw new Error(`${where}: ${name} must be a number (got ${shown(v)})`);
  if (!Number.isFinite(v)) throw new Error(`${where}: ${name} must be finite (got ${v}); use a finite number`);
  return v;
}

function sigmaValue(where, name, v, positive = false) {
  finite(where, name, v);
  if (v < 0 || (positive && v === 0))
    throw new Error(`${where}: ${name} must be a noise level with ${positive ? "σ > 0" : "σ ≥ 0"} (got ${v})`);
  return v;
}

/** Knots in increasing σ: a list written high σ first is reversed with its weights. */
function knotsIncreasing(sigmas, weights) {
  const decreasing = sigmas.length > 1 && sigmas.every((x, i) => i === 0 || sigmas[i - 1] > x);
  return decreasing ? [[...sigmas].reverse(), [...weights].reverse()] : [sigmas, weights];
}

const CHECKS = {
  constant(d) { finite("constant schedule", "w", d.w); },
  interval(d) {
    if (d.schedule) check(d.schedule); else finite("constant schedule", "w", d.w);
    const lo = sigmaValue("interval schedule", "sigma_lo", d.sigma_lo);
    const hi = sigmaValue("interval schedule", "sigma_hi", d.sigma_hi);
    if (lo >= hi)
      throw new Error(`interval schedule: sigma_lo must be below sigma_hi (got sigma_lo=${lo}, sigma_hi=${hi}); `
                      + "swap them or widen the interval");
  },
  ramp(d) {
    const where = "ramp schedule";
    finite(where, "w_start", d.w_start);
    finite(where, "w_end", d.w_end);
    if (!["log", "linear"].includes(d.space)) throw new Error(`${where}: space must be one of ['log', 'linear'] (got ${shown(d.space)})`);
    if (!["linear", "cosine"].includes(d.shape)) throw new Error(`${where}: shape must be one of ['linear', 'cosine'] (got ${shown(d.shape)})`);
    const start = sigmaValue(where, "sigma_start", d.sigma_start, d.space === "log");
    const end = sigmaValue(where, "sigma_end", d.sigma_end, d.space === "log");
    if (start === end) throw new Error(`${where}: sigma_start and sigma_end must differ (both ${start}); use a constant schedule for a flat weight`);
  },
  knots(d) {
    const where = "knots schedule";
    d.sigmas.forEach((v, i) => sigmaValue(where, `sigmas[${i}]`, v, true));
    d.weights.forEach((v, i) => finite(where, `weights[${i}]`, v));
    if (!d.sigmas.length) throw new Error(`${where}: sigmas is empty; give at least one knot`);
    if (d.sigmas.length !== d.weights.length)
      throw new Error(`${where}: sigmas and weights must have the same length (got ${d.sigmas.length} sigmas, `
                      + `${d.weights.length} weights); give one weight per knot`);
    const [s] = knotsIncreasing(d.sigmas, d.weights);
    for (let i = 1; i < s.length; i++)
      if (s[i] <= s[i - 1])
        throw new Error(`${where}: sigmas must be strictly increasing or decreasing (got [${s.join(", ")}], `
                        + `sigmas[${i}]=${s[i]} ≤ sigmas[${i - 1}]=${s[i - 1]}); sort them and drop repeats`);
  },
};

function check(spec) {
  if (!spec || typeof spec !== "object") throw new Error(`schedule: expected a dict with a 'kind' field (got ${shown(spec)})`);
  if (!(spec.kind in CHECKS)) throw new Error(`schedule: unknown kind ${shown(spec.kind)}; valid kinds: ${pyList(Object.keys(CHECKS))}`);
  CHECKS[spec.kind](spec);
}

/** Why a spec is not a valid schedule (schedule_from_dict's message), or null. */
export function specProblem(spec) {
  try { check(spec); return null; } catch (err) { return err.message; }
}

/** A schedule node's spec and the reason it is refused (as schedule_from_widgets raises), one of them null. */
export function scheduleFromWidgets(type, values, inner = null) {
  try {
    const spec = specFromWidgets(type, values, inner);
    return { spec, problem: spec ? specProblem(spec) : null };
  } catch (err) {
    return { spec: null, problem: err.message };
  }
}

// ----------------------------------------------------------------------------
// w(σ) (guidance/schedules.py; Python works in float32, this in float64).

function clamp(x, lo, hi) { return Math.min(Math.max(x, lo), hi); }

/** w(σ) of a valid schedule spec ({kind, ...} as in Schedule.to_dict()). */
export function weightAt(spec, sigma) {
  switch (spec.kind) {
    case "constant":
      return spec.w;
    case "interval": {
      // (σ_lo, σ_hi] compared in float32, as the sampler holds σ (see Interval.contains).
      const s = Math.fround(sigma);
      const inside = s > Math.fround(spec.sigma_lo) && s <= Math.fround(spec.sigma_hi);
      return inside ? weightAt(spec.schedule ?? { kind: "constant", w: spec.w }, sigma) : 1.0;
    }
    case "ramp": {
      const f = spec.space === "log" ? Math.log : (v) => v;
      let t = (f(sigma) - f(spec.sigma_start)) / (f(spec.sigma_end) - f(spec.sigma_start));
      t = clamp(t, 0, 1);
      if (spec.shape === "cosine") t = (1 - Math.cos(Math.PI * t)) / 2;
      return spec.w_start + (spec.w_end - spec.w_start) * t;
    }
    case "knots": {
      const [s, w] = knotsIncreasing(spec.sigmas, spec.weights);
      if (s.length === 1) return w[0];
      const ls = Math.log(clamp(sigma, s[0], s[s.length - 1]));
      let i = 1;
      while (i < s.length - 1 && Math.log(s[i]) <= ls) i++;
      const x0 = Math.log(s[i - 1]), x1 = Math.log(s[i]);
      return w[i - 1] + (w[i] - w[i - 1]) * ((ls - x0) / (x1 - x0));
    }
    default:
      throw new Error(`unknown schedule kind ${spec.kind}`);
  }
}

// ----------------------------------------------------------------------------
// Noise levels a sampler visits.

/** EDM eq. 5: N noise levels from σ_max down to σ_min, then 0 (karras_sigmas in Python). */
export function karrasSigmas(steps, sigmaMin, sigmaMax, rho = 7.0) {
  const out = [];
  const lo = sigmaMin ** (1 / rho), hi = sigmaMax ** (1 / rho);
  for (let i = 0; i < steps; i++) out.push((hi + (steps > 1 ? i / (steps - 1) : 0) * (lo - hi)) ** rho);
  out.push(0);
  return out;
}

/** N log-evenly spaced levels (ComfyUI's "exponential" scheduler), then 0. */
export function exponentialSigmas(steps, sigmaMin, sigmaMax) {
  const out = [];
  for (let i = 0; i < steps; i++) {
    const t = steps > 1 ? i / (steps - 1) : 0;
    out.push(Math.exp(Math.log(sigmaMax) + t * (Math.log(sigmaMin) - Math.log(sigmaMax))));
  }
  out.push(0);
  return out;
}

// ----------------------------------------------------------------------------

/** How many evaluations run the guide (w(σ) ≠ 1) out of all the sampler makes; nulls for an
 *  adaptive sampler, whose evaluations are not known before it runs. */
export function guideEvaluations(spec, sigmas, sampler = "heun") {
  const evals = evaluationSigmas(sigmas, sampler);
  if (evals === null) return { guided: null, total: null };
  return { guided: evals.filter((s) => weightAt(spec, s) !== 1.0).length, total: evals.length };
}

// ----------------------------------------------------------------------------
// The last run, as the server reports it (nodes/guide_term.py RUN_EVENT "autoguidance.run").

/** σ_edm from the message: a number, or ∞ for what JSON cannot carry (null, "Infinity"). */
const edmValue = (v) => (typeof v === "number" ? v : Infinity);

/** The ticks and count a plot draws for one `autoguidance.run` message: {node, ticks: [{sigma,
 *  sigmaEdm, guided}], guided, total, text}; null for a message that is not one. */
export function runSummary(message) {
  if (!message || message.node === undefined || message.node === null || !Array.isArray(message.sigmas_edm))
    return null;
  const ticks = message.sigmas_edm.map((s, i) => ({
    sigma: message.sigmas?.[i] ?? null, sigmaEdm: edmValue(s), guided: Boolean(message.guided?.[i]),
  }));
  const guided = message.guide_evaluations ?? ticks.filter((t) => t.guided).length;
  const total = message.evaluations ?? ticks.length;
  return { node: String(message.node), ticks, guided, total, text: `last run: guide runs ${guided}/${total}` };
}
