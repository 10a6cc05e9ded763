// Guidance-schedule maths for the front end: a line-for-line twin of guidance/schedules.py
// (w(σ) of each schedule kind), EDM/Karras noise levels and the guide evaluations a sampler
// makes. No DOM, no ComfyUI: imported by schedule_widget.js and by the tests under node.

/** Noise-level ranges of the model families (σ_min, σ_max). */
export const SIGMA_RANGES = {
  edm2: [0.002, 80.0],   // EDM / EDM2 (Karras et al.)
  sd: [0.0292, 14.6146], // SD1.5 / SDXL (scaled-linear β, 1000 steps)
  flow: [0.001, 1.0],    // rectified flow (SD3, Flux): σ ∈ (0, 1]
};

export const DEFAULT_STEPS = 32; // the official EDM2 sampler's default

function clamp(x, lo, hi) { return Math.min(Math.max(x, lo), hi); }

/** w(σ) of a schedule spec ({kind, ...} as in Schedule.to_dict()). */
export function weightAt(spec, sigma) {
  switch (spec.kind) {
    case "constant":
      return spec.w;
    case "interval": {
      // (σ_lo, σ_hi] compared in float32, as the sampler holds σ (see Interval.contains).
      const s = Math.fround(sigma);
      const inside = s > Math.fround(spec.sigma_lo) && s <= Math.fround(spec.sigma_hi);
      const inner = spec.schedule ?? { kind: "constant", w: spec.w };
      return inside ? weightAt(inner, sigma) : 1.0;
    }
    case "ramp": {
      const log = (spec.space ?? "log") === "log";
      const f = log ? Math.log : (v) => v;
      let t = (f(sigma) - f(spec.sigma_start)) / (f(spec.sigma_end) - f(spec.sigma_start));
      t = clamp(Number.isNaN(t) ? 0 : t, 0, 1);
      if ((spec.shape ?? "linear") === "cosine") t = (1 - Math.cos(Math.PI * t)) / 2;
      return spec.w_start + (spec.w_end - spec.w_start) * t;
    }
    case "knots": {
      const s = spec.sigmas, w = spec.weights;
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

/** Why a spec is invalid (the Python messages' gist), or null. */
export function specProblem(spec) {
  if (!spec) return "no schedule";
  if (spec.kind === "interval" && !(spec.sigma_lo < spec.sigma_hi))
    return `sigma_lo must be below sigma_hi (got ${spec.sigma_lo} ≥ ${spec.sigma_hi})`;
  if (spec.kind === "ramp" && spec.sigma_start === spec.sigma_end) return "sigma_start and sigma_end must differ";
  if (spec.kind === "knots") {
    if (!spec.sigmas.length || spec.sigmas.length !== spec.weights.length) return "one weight per σ is needed";
    if (spec.sigmas.some((v) => !(v > 0) || !Number.isFinite(v))) return "every σ must be a positive number";
    if (spec.weights.some((v) => !Number.isFinite(v))) return "every weight must be a number";
    for (let i = 1; i < spec.sigmas.length; i++)
      if (spec.sigmas[i] <= spec.sigmas[i - 1]) return "σ must be all increasing or all decreasing";
  }
  if (spec.kind === "interval" && spec.schedule) return specProblem(spec.schedule);
  return null;
}

/** "80, 5, 1" → [80, 5, 1] (NaN for junk, caught by specProblem). */
export function parseNumbers(text) {
  return String(text).replace(/[;\n]/g, ",").split(",").map((p) => p.trim()).filter((p) => p).map(Number);
}

/** The spec a schedule node's widget values mean (as the node's build() makes it). */
export function specFromWidgets(type, v, inner = null) {
  switch (type) {
    case "AutoguidanceScheduleConstant":
      return { kind: "constant", w: v.w };
    case "AutoguidanceScheduleInterval":
      return { kind: "interval", w: v.w, sigma_lo: v.sigma_lo, sigma_hi: v.sigma_hi };
    case "AutoguidanceScheduleRamp":
      return { kind: "ramp", w_start: v.w_start, w_end: v.w_end, sigma_start: v.sigma_start,
               sigma_end: v.sigma_end, space: v.space ?? "log", shape: v.shape ?? "linear" };
    case "AutoguidanceScheduleKnots": {
      let s = parseNumbers(v.sigmas), w = parseNumbers(v.weights);
      if (s.length > 1 && s.every((x, i) => i === 0 || s[i - 1] > x)) { s = s.reverse(); w = w.reverse(); }
      return { kind: "knots", sigmas: s, weights: w };
    }
    case "AutoguidanceScheduleLimit":
      return { kind: "interval", schedule: inner ?? { kind: "constant", w: 1.0 },
               sigma_lo: v.sigma_lo, sigma_hi: v.sigma_hi };
    default:
      return null;
  }
}

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

const SECOND_ORDER = new Set(["heun", "dpm_2", "dpm_2_ancestral"]);

/** The σ of every model evaluation a sampler makes on `sigmas` (N + 1 levels ending in 0).
 *  First-order samplers evaluate once per step at σ_i; Heun-type ones also at σ_{i+1},
 *  except on the last step into σ = 0 (Euler there): 2N − 1 evaluations. */
export function evaluationSigmas(sigmas, sampler = "heun") {
  const evals = [];
  const n = sigmas.length - 1;
  for (let i = 0; i < n; i++) {
    evals.push(sigmas[i]);
    if (SECOND_ORDER.has(sampler) && sigmas[i + 1] > 0) evals.push(sigmas[i + 1]);
  }
  return evals;
}

/** How many times the guide runs: evaluations whose w(σ) is not exactly 1. */
export function guideEvaluations(spec, sigmas, sampler = "heun") {
  const evals = evaluationSigmas(sigmas, sampler);
  const guided = evals.filter((s) => weightAt(spec, s) !== 1.0).length;
  return { guided, total: evals.length };
}
