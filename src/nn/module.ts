/**
 * Module: a named tree of parameters, as torch.nn.Module, so parameter names come out exactly like
 * PyTorch state_dict keys ("attention_layers.0.in_proj_weight").
 */
import { getKernels } from '../kernels/index.js';
import { Parameter, shapeSize } from '../engine/tensor.js';

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
    items.forEach((m, i) => this.addModule(String(i), m));
  }
  get length(): number {
    return this.items.length;
  }
  at(i: number): M {
    return this.items[i];
  }
}
