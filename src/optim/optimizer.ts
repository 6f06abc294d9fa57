/** What the training loop asks of an optimiser: steps, a learning rate a schedule may change, and a state to checkpoint. */
import type { Parameter } from '../engine/tensor.js';
import { getKernels, releaseBuffer } from '../kernels/index.js';

/**
 * An optimiser's state for checkpoints: its step count and, per named buffer (PyTorch's state keys:
 * exp_avg, sum, …), one array per parameter in parameter order. Live buffers, not copies.
 */
export interface OptimizerState {
  step: number;
  names: string[];
  buffers: Record<string, Float32Array[]>;
}

export interface Optimizer {
  /** learning rate; a schedule may change it between steps */
  lr: number;
  /** number of step() calls so far */
  readonly stepCount: number;
  readonly params: readonly Parameter[];
  /** the parameters' names, in order */
  readonly names: readonly string[];
  /** the names of the per-parameter buffers its state holds */
  readonly bufferNames: readonly string[];
  /** one update of every parameter that has a gradient */
  step(): void;
  zeroGrad(): void;
  getState(): OptimizerState;
  /** restores a state saved by getState() (matched by parameter name, sizes checked) */
  setState(state: OptimizerState): void;
  /** hands the buffers back; the optimiser must not step afterwards */
  dispose(): void;
}

/** Copies `state` into `buffers` (same parameter names and sizes, any order); throws naming the mismatch. */
function restoreBuffers(who: string, names: readonly string[], buffers: Record<string, Float32Array[]>, state: OptimizerState): void {
  if (state.names.length !== names.length) throw new Error(`${who}.setState: state has ${state.names.length} parameters, optimiser ${names.length}`);
  const byName = new Map(state.names.map((n, i) => [n, i] as const));
  for (const [key, ours] of Object.entries(buffers)) {
    const theirs = state.buffers[key];
    if (!theirs) throw new Error(`${who}.setState: no "${key}" buffers`);
    names.forEach((n, i) => {
      const j = byName.get(n);
      if (j === undefined) throw new Error(`${who}.setState: no state for parameter "${n}"`);
      if (theirs[j]?.length !== ours[i].length) throw new Error(`${who}.setState: size mismatch for "${n}"`);
      ours[i].set(theirs[j]);
    });
  }
}

/**
 * An optimiser whose state is a few zero-initialised buffers per parameter (Adam's moments, Adagrad's
 * sums): the parameters and their names, the buffers in the kernels' memory, gradients zeroed, state
 * saved and restored by buffer name. Subclasses write step().
 */
export abstract class BufferedOptimizer implements Optimizer {
  lr: number;
  stepCount = 0;
  readonly params: Parameter[];
  readonly names: string[];
  readonly bufferNames: readonly string[];
  /** per buffer name, one array per parameter */
  protected readonly buffers: Record<string, Float32Array[]> = {};

  /** params: a list, or [name, parameter] pairs (e.g. model.namedParameters()) to name the state. */
  constructor(
    private readonly kind: string,
    params: ReadonlyArray<Parameter> | ReadonlyArray<readonly [string, Parameter]>,
    lr: number,
    bufferNames: readonly string[],
  ) {
    this.lr = lr;
    const named = params.map((p, i) => (Array.isArray(p) ? (p as readonly [string, Parameter]) : ([String(i), p as Parameter] as const)));
    this.params = named.map(([, p]) => p);
    this.names = named.map(([n]) => n);
    this.bufferNames = bufferNames;
    const k = getKernels();
    for (const b of bufferNames) {
      this.buffers[b] = this.params.map((p) => {
        const a = k.alloc(p.size);
        k.fill(p.size, 0, a, 0);
        return a;
      });
    }
  }

  abstract step(): void;

  zeroGrad(): void {
    const k = getKernels();
    for (const p of this.params) if (p.grad) k.fill(p.size, 0, p.grad, 0);
  }

  /** The state (live buffers, not copies: copy before mutating). */
  getState(): OptimizerState {
    return { step: this.stepCount, names: [...this.names], buffers: this.buffers };
  }

  setState(state: OptimizerState): void {
    restoreBuffers(this.kind, this.names, this.buffers, state);
    this.stepCount = state.step;
  }

  /** Hands the buffers back to the kernel backend; the optimiser must not step afterwards. */
  dispose(): void {
    for (const arrays of Object.values(this.buffers)) {
      for (const a of arrays) releaseBuffer(a);
      arrays.length = 0;
    }
  }
}
