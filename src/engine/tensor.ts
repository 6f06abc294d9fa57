/**
 * A tensor is a Float32Array plus a row-major shape; ops read and write `data` from offset 0.
 * `grad` is filled by the tape's backward pass: for a Parameter it persists across steps and
 * accumulates until zeroGrad(), for intermediate results it lives until the tape is reset.
 */
export class Tensor {
  readonly size: number;
  grad: Float32Array | null = null;

  constructor(
    readonly data: Float32Array,
    readonly shape: readonly number[],
    public requiresGrad = false,
  ) {
    this.size = shapeSize(shape);
    if (data.length < this.size) {
      throw new Error(`Tensor: data has ${data.length} elements, shape [${shape.join(', ')}] needs ${this.size}`);
    }
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item(): tensor has shape [${this.shape.join(', ')}]`);
    return this.data[0];
  }

  /** Size of the last dimension (1 for a scalar). */
  get lastDim(): number {
    return this.shape.length === 0 ? 1 : this.shape[this.shape.length - 1];
  }

  /** Number of rows when viewed as [size / lastDim, lastDim]. */
  get rows(): number {
    const d = this.lastDim;
    return d === 0 ? 0 : this.size / d;
  }
}

/** A trainable leaf: requires grad, and its grad buffer is allocated once and kept. */
export class Parameter extends Tensor {
  constructor(data: Float32Array, shape: readonly number[]) {
    super(data, shape, true);
  }
}

export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`invalid shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
