/**
 * Finite-difference gradient checking. The function under test maps parameters to a tensor y; we check
 * the gradient of the scalar f = Σ r ∘ y (r a fixed random projection, so every output element matters)
 * against central differences (f(x + h) − f(x − h)) / (2h), with f summed in float64.
 */
import { Rng } from '../../src/engine/rng.js';
import { getTape, noGrad } from '../../src/engine/tape.js';
import type { Parameter, Tensor } from '../../src/engine/tensor.js';

export interface GradCheckOptions {
  /** finite-difference step (default 1e-2) */
  eps?: number;
  rtol?: number;
  atol?: number;
  /** check at most this many elements per input (spread evenly); default all */
  maxPerInput?: number;
  /** elements to leave out, by input index (e.g. an embedding's padding row) */
  skip?: (input: number, element: number) => boolean;
  /** called before every evaluation (e.g. to rewind a dropout rng so the mask is fixed) */
  beforeEach?: () => void;
  seed?: number;
}

export interface GradCheckResult {
  ok: boolean;
  checked: number;
  /** max over elements of |analytic − numeric| / (atol + rtol·|numeric|); ≤ 1 passes */
  worstRatio: number;
  worst: string;
  /** the analytic gradients, per input */
  analytic: Float32Array[];
}

export function gradCheck(fn: (inputs: Parameter[]) => Tensor, inputs: Parameter[], opts: GradCheckOptions = {}): GradCheckResult {
  const eps = opts.eps ?? 1e-2;
  const rtol = opts.rtol ?? 1e-2;
  const atol = opts.atol ?? 1e-3;
  const tape = getTape();
  const rng = new Rng(opts.seed ?? 7);

  // analytic
  tape.reset();
  for (const p of inputs) p.grad?.fill(0);
  opts.beforeEach?.();
  const y = fn(inputs);
  const r = new Float32Array(y.size);
  for (let i = 0; i < r.length; i++) r[i] = rng.nextFloat() * 2 - 1;
  tape.backward(y, r);
  const analytic = inputs.map((p) => (p.grad ? p.grad.slice() : new Float32Array(p.size)));
  tape.reset();

  const f = (): number =>
    noGrad(() => {
      opts.beforeEach?.();
      const out = fn(inputs);
      let s = 0;
      for (let i = 0; i < r.length; i++) s += r[i] * out.data[i];
      tape.reset();
      return s;
    });

  let worstRatio = 0;
  let worst = '';
  let checked = 0;
  inputs.forEach((p, pi) => {
    const stride = opts.maxPerInput ? Math.max(1, Math.floor(p.size / opts.maxPerInput)) : 1;
    for (let i = 0; i < p.size; i += stride) {
      if (opts.skip?.(pi, i)) continue;
      const orig = p.data[i];
      p.data[i] = orig + eps;
      const hi = p.data[i];
      const fp = f();
      p.data[i] = orig - eps;
      const lo = p.data[i];
      const fm = f();
      p.data[i] = orig;
      const numeric = (fp - fm) / (hi - lo);
      const a = analytic[pi][i];
      const ratio = Math.abs(a - numeric) / (atol + rtol * Math.abs(numeric));
      checked++;
      if (ratio > worstRatio || Number.isNaN(ratio)) {
        worstRatio = Number.isNaN(ratio) ? Infinity : ratio;
        worst = `input ${pi} element ${i}: analytic ${a}, numeric ${numeric}`;
      }
    }
  });
  return { ok: worstRatio <= 1, checked, worstRatio, worst, analytic };
}
