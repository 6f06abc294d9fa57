/** What the training loop asks of an optimiser: steps, a learning rate a schedule may change, and a state to checkpoint. */
import type { Parameter } from '../engine/tensor.js';

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

/** [name, parameter] pairs from a list (named by index) or from pairs (e.g. model.namedParameters()). */
export function namedParams(params: ReadonlyArray<Parameter> | ReadonlyArray<readonly [string, Parameter]>): Array<readonly [string, Parameter]> {
  return params.map((p, i) => (Array.isArray(p) ? (p as readonly [string, Parameter]) : ([String(i), p as Parameter] as const)));
}

/** Copies `state` into `buffers` (same parameter names and sizes, any order); throws naming the mismatch. */
export function restoreBuffers(who: string, names: readonly string[], buffers: Record<string, Float32Array[]>, state: OptimizerState): void {
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
