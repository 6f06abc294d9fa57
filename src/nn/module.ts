/**
 * Module: a named tree of parameters, as torch.nn.Module, so parameter names come out exactly like
 * PyTorch state_dict keys ("attention_layers.0.in_proj_weight").
 */
import { getKernels, releaseBuffer } from '../kernels/index.js';
import { Parameter, shapeSize, shapeStr } from '../engine/tensor.js';

/** A tensor as a state_dict holds it. */
export interface TensorEntry {
  shape: readonly number[];
  data: Float32Array;
}

export abstract class Module {
  training = true;
  private readonly ownParams = new Map<string, Parameter>();
  private readonly children = new Map<string, Module>();

  /** Creates and registers a zero-filled parameter. */
  protected addParameter(name: string, shape: readonly number[]): Parameter {
    const k = getKernels();
    const n = shapeSize(shape);
    const data = k.alloc(n);
    k.fill(n, 0, data, 0);
    const p = new Parameter(data, shape);
    this.ownParams.set(name, p);
    return p;
  }

  protected addModule<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /** [name, parameter] pairs in registration order, names dotted from this module down. */
  namedParameters(prefix = ''): Array<[string, Parameter]> {
    const out: Array<[string, Parameter]> = [];
    for (const [n, p] of this.ownParams) out.push([prefix + n, p]);
    for (const [n, m] of this.children) out.push(...m.namedParameters(`${prefix}${n}.`));
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Sets training mode (dropout on) recursively; returns this. */
  train(mode = true): this {
    this.training = mode;
    for (const m of this.children.values()) m.train(mode);
    return this;
  }

  /** Evaluation mode: no dropout. */
  eval(): this {
    return this.train(false);
  }

  /** Parameters by PyTorch state_dict key (live buffers, not copies). */
  stateDict(): Map<string, TensorEntry> {
    return new Map(this.namedParameters().map(([n, p]) => [n, { shape: [...p.shape], data: p.data }]));
  }

  /** Copies parameters in by name; every key must be present with the same shape and no extra keys. */
  loadStateDict(state: ReadonlyMap<string, TensorEntry>): void {
    const own = new Map<string, Parameter>(this.namedParameters());
    const problems: string[] = [];
    for (const [name, p] of own) {
      const e = state.get(name);
      if (!e) problems.push(`missing "${name}" ${shapeStr(p.shape)}`);
      else if (e.shape.length !== p.shape.length || e.shape.some((x, i) => x !== p.shape[i])) {
        problems.push(`"${name}": shape ${shapeStr(e.shape)} but the model has ${shapeStr(p.shape)}`);
      } else if (e.data.length !== p.size) problems.push(`"${name}": ${e.data.length} values for ${shapeStr(p.shape)}`);
    }
    for (const name of state.keys()) if (!own.has(name)) problems.push(`unexpected "${name}"`);
    if (problems.length > 0) throw new Error(`${this.constructor.name}.loadStateDict: ${problems.join('; ')}`);
    for (const [name, p] of own) p.data.set(state.get(name)!.data.subarray(0, p.size));
  }

  /**
   * Hands every parameter's buffer and gradient back to the kernel backend (see releaseBuffer): for a
   * process that builds many models (an experiment grid, the best checkpoint loaded after training).
   * The module must not be used afterwards. Idempotent.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of this.parameters()) {
      releaseBuffer(p.data);
      if (p.grad) releaseBuffer(p.grad);
      p.grad = null;
    }
  }

  private disposed = false;

  /** Runs fn in evaluation mode (no dropout), restoring the previous mode afterwards. */
  protected inEvalMode<T>(fn: () => T): T {
    const was = this.training;
    this.eval();
    try {
      return fn();
    } finally {
      this.train(was);
    }
  }

  /** Zeroes every parameter's gradient. */
  zeroGrad(): void {
    const k = getKernels();
    for (const p of this.parameters()) if (p.grad) k.fill(p.size, 0, p.grad, 0);
  }
}

/** An indexed list of modules, registered as "0", "1", … (torch.nn.ModuleList). */
export class ModuleList<M extends Module> extends Module {
  readonly items: M[];
  constructor(items: M[]) {
    super();
    this.items = items;
    for (const [i, m] of items.entries()) this.addModule(String(i), m);
  }
  get length(): number {
    return this.items.length;
  }
  at(i: number): M {
    return this.items[i];
  }
}
