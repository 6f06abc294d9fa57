/**
 * Reverse-mode autodiff: ops push a backward closure onto the active tape; `getTape().backward(loss)` runs them
 * newest first. Intermediate buffers (op outputs, their grads, saved statistics) come from the tape's
 * pool and go back to it on `reset()`, so a training loop of same-shaped steps allocates nothing after
 * the first step. Tensors produced by ops are therefore valid only until the next reset().
 *
 * Pooled buffers are bucketed by capacity (sizes rounded up on a geometric grid, 8 steps per power of
 * two, ≤ 12.5% slack), and alloc(n) hands out an exact-length view of one. Shapes that change from step
 * to step (the packed padding-skip path: the number of real tokens varies per batch) therefore reuse
 * a bounded set of buffers instead of growing the pool by one buffer per size ever seen.
 */
import { getKernels, releaseBuffer } from '../kernels/index.js';
import type { Kernels } from '../kernels/types.js';
import { Parameter, Tensor, shapeSize } from './tensor.js';

export class Tape {
  private nodes: Array<() => void> = [];
  private used: Float32Array[] = [];
  private free = new Map<number, Float32Array[]>();
  private poolBackend: Kernels | null = null;
  /** false inside noGrad(): ops record nothing and outputs do not require grad */
  enabled = true;

  /** A scratch buffer of exactly n floats (contents undefined), valid until reset(). */
  alloc(n: number): Float32Array {
    const k = getKernels();
    if (this.poolBackend !== k) {
      // buffers of another backend cannot be reused by this one
      this.free.clear();
      this.poolBackend = k;
    }
    const cap = poolCapacity(n);
    const list = this.free.get(cap);
    const buf = list && list.length > 0 ? list.pop()! : k.alloc(cap);
    this.used.push(buf);
    return cap === n ? buf : buf.subarray(0, n);
  }

  /** A zero-filled scratch buffer. */
  zeros(n: number): Float32Array {
    const buf = this.alloc(n);
    getKernels().fill(n, 0, buf, 0);
    return buf;
  }

  /** A new op output; it requires grad when recording and any input does. */
  output(shape: readonly number[], ...inputs: Array<Tensor | null | undefined>): Tensor {
    const needsGrad = this.enabled && inputs.some((t) => t?.requiresGrad);
    return new Tensor(this.alloc(shapeSize(shape)), shape, needsGrad);
  }

  record(backward: () => void): void {
    this.nodes.push(backward);
  }

  /** The gradient buffer of t, created zero-filled on first use (kept for Parameters). */
  gradOf(t: Tensor): Float32Array {
    if (t.grad) return t.grad;
    if (t instanceof Parameter) {
      const k = getKernels();
      t.grad = k.alloc(t.size);
      k.fill(t.size, 0, t.grad, 0);
    } else {
      t.grad = this.zeros(t.size);
    }
    return t.grad;
  }

  /**
   * Back-propagates from `root`: its gradient is seeded with `seed` (default: 1 for a one-element
   * tensor), then every recorded op runs its backward, newest first. The recorded ops are consumed.
   */
  backward(root: Tensor, seed?: Float32Array): void {
    if (!root.requiresGrad) throw new Error('backward(): the tensor does not depend on anything that requires grad');
    const g = this.gradOf(root);
    if (seed) {
      if (seed.length !== root.size) throw new Error(`backward(): seed has ${seed.length} elements, tensor ${root.size}`);
      for (let i = 0; i < root.size; i++) g[i] += seed[i];
    } else {
      if (root.size !== 1) throw new Error('backward(): a seed gradient is needed for a non-scalar tensor');
      g[0] += 1;
    }
    const nodes = this.nodes;
    this.nodes = [];
    for (let i = nodes.length - 1; i >= 0; i--) nodes[i]();
  }

  /** Forgets recorded ops and returns every scratch buffer to the pool. */
  reset(): void {
    this.nodes = [];
    for (const buf of this.used) {
      let list = this.free.get(buf.length);
      if (!list) {
        list = [];
        this.free.set(buf.length, list);
      }
      list.push(buf);
    }
    this.used = [];
  }

  /** Drops pooled buffers too (e.g. after a shape change, to release memory). */
  clearPool(): void {
    this.reset();
    this.free.clear();
  }

  /**
   * Hands every pooled buffer back to the kernel backend (releaseBuffer) and empties the pool: with
   * the wasm backend, clearPool alone would leave the memory taken. Tensors of this tape are invalid
   * afterwards.
   */
  releasePool(): void {
    this.reset();
    for (const list of this.free.values()) for (const buf of list) releaseBuffer(buf);
    this.free.clear();
  }
}

/**
 * The pooled capacity for a request of n floats: n itself up to 64, then n rounded up to a multiple of
 * 2^(⌊log2 n⌋ − 3), i.e. 8 capacities per power of two.
 */
export function poolCapacity(n: number): number {
  if (n <= 64) return n;
  const step = 2 ** (Math.floor(Math.log2(n)) - 3);
  return Math.ceil(n / step) * step;
}

let current = new Tape();

export function getTape(): Tape {
  return current;
}

/** Installs a tape (returns the previous one), e.g. a separate tape per model or per worker. */
export function setTape(tape: Tape): Tape {
  const prev = current;
  current = tape;
  return prev;
}

const inferenceTape = new Tape();
let inferenceActive = false;

/**
 * Hands the scratch pools of the current tape and the inference tape back to the kernel backend, e.g.
 * between the runs of an experiment grid, whose shapes differ from run to run.
 */
export function releaseScratchPools(): void {
  if (inferenceActive) throw new Error('releaseScratchPools: called during inference');
  current.releasePool();
  inferenceTape.releasePool();
}

/**
 * Runs fn without recording on the process-wide inference tape, whose buffers are recycled when fn
 * returns (so fn must copy out what it returns). Every model shares this one tape: a scratch pool per
 * model would stay allocated for as long as the process lives (the wasm arena never shrinks), so
 * loading the best checkpoint after training, or running an experiment grid in one process, would add
 * a full evaluation pool per model (TiSASRec at maxlen 200: over 1 GiB each). Not re-entrant.
 */
export function withInferenceTape<T>(fn: () => T): T {
  if (inferenceActive) throw new Error('withInferenceTape: nested call (the inner reset would recycle the outer buffers)');
  inferenceActive = true;
  const prev = setTape(inferenceTape);
  try {
    return noGrad(fn);
  } finally {
    inferenceTape.reset();
    setTape(prev);
    inferenceActive = false;
  }
}

/** Runs fn without recording: outputs do not require grad (evaluation, inference). */
export function noGrad<T>(fn: () => T): T {
  const t = current;
  const prev = t.enabled;
  t.enabled = false;
  try {
    return fn();
  } finally {
    t.enabled = prev;
  }
}

