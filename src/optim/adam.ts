/**
 * Adam with torch.optim.Adam semantics (weight_decay 0, amsgrad off): per-parameter first and second
 * moments, bias corrections, eps added after sqrt(v̂). Defaults are the SASRec reference trainer's
 * (lr 0.001, betas (0.9, 0.98), eps 1e-8).
 */
import { getKernels, releaseBuffer } from '../kernels/index.js';
import type { Parameter } from '../engine/tensor.js';

export interface AdamOptions {
  lr?: number;
  betas?: readonly [number, number];
  eps?: number;
}

/** Optimiser state for checkpoints: moments in parameter order (names when given). */
export interface AdamState {
  step: number;
  names: string[];
  expAvg: Float32Array[];
  expAvgSq: Float32Array[];
}

export class Adam {
  /** learning rate; a schedule may change it between steps */
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** number of step() calls so far (PyTorch's state['step']) */
  stepCount = 0;
  readonly params: Parameter[];
  readonly names: string[];
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];

  /** params: a list, or [name, parameter] pairs (e.g. model.namedParameters()) to name the state. */
  constructor(params: ReadonlyArray<Parameter> | ReadonlyArray<readonly [string, Parameter]>, opts: AdamOptions = {}) {
    this.lr = opts.lr ?? 0.001;
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.98];
    this.eps = opts.eps ?? 1e-8;
    const named = params.map((p, i) => (Array.isArray(p) ? (p as readonly [string, Parameter]) : ([String(i), p as Parameter] as const)));
    this.params = named.map(([, p]) => p);
    this.names = named.map(([n]) => n);
    const k = getKernels();
    const zeros = (n: number): Float32Array => {
      const a = k.alloc(n);
      k.fill(n, 0, a, 0);
      return a;
    };
    this.m = this.params.map((p) => zeros(p.size));
    this.v = this.params.map((p) => zeros(p.size));
  }

  /** Hands the moment buffers back to the kernel backend; the optimizer must not step afterwards. */
  dispose(): void {
    for (const a of [...this.m, ...this.v]) releaseBuffer(a);
    this.m.length = 0;
    this.v.length = 0;
  }

  /** One update of every parameter that has a gradient. */
  step(): void {
    const k = getKernels();
    this.stepCount++;
    const bc1 = 1 - this.beta1 ** this.stepCount;
    const bc2 = 1 - this.beta2 ** this.stepCount;
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      k.adamStep(p.size, p.data, 0, p.grad, 0, this.m[i], 0, this.v[i], 0, this.lr, this.beta1, this.beta2, this.eps, bc1, bc2);
    });
  }

  zeroGrad(): void {
    const k = getKernels();
    for (const p of this.params) if (p.grad) k.fill(p.size, 0, p.grad, 0);
  }

  /** The state (live buffers, not copies: copy before mutating). */
  getState(): AdamState {
    return { step: this.stepCount, names: [...this.names], expAvg: this.m, expAvgSq: this.v };
  }

  /** Restores a state saved by getState() (matched by name, sizes checked). */
  setState(state: AdamState): void {
    const byName = new Map(state.names.map((n, i) => [n, i] as const));
    if (state.names.length !== this.names.length) {
      throw new Error(`Adam.setState: state has ${state.names.length} parameters, optimiser ${this.names.length}`);
    }
    this.names.forEach((n, i) => {
      const j = byName.get(n);
      if (j === undefined) throw new Error(`Adam.setState: no state for parameter "${n}"`);
      const m = state.expAvg[j];
      const v = state.expAvgSq[j];
      if (m.length !== this.m[i].length || v.length !== this.v[i].length) {
        throw new Error(`Adam.setState: size mismatch for "${n}"`);
      }
      this.m[i].set(m);
      this.v[i].set(v);
    });
    this.stepCount = state.step;
  }
}
