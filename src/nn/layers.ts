/** Basic layers with PyTorch parameter names, shapes and default initialisation. */
import * as init from '../engine/init.js';
import * as ops from '../engine/ops.js';
import type { Rng } from '../engine/rng.js';
import type { Parameter, Tensor } from '../engine/tensor.js';
import { Module } from './module.js';

/** torch.nn.Embedding: weight [num, dim] ~ N(0, 1), row paddingIdx zero and never updated. */
export class Embedding extends Module {
  readonly weight: Parameter;
  constructor(
    readonly num: number,
    readonly dim: number,
    rng: Rng,
    readonly paddingIdx: number | null = null,
  ) {
    super();
    this.weight = this.addParameter('weight', [num, dim]);
    init.normal(this.weight, rng);
    if (paddingIdx !== null) this.weight.data.fill(0, paddingIdx * dim, (paddingIdx + 1) * dim);
  }

  /** weight[idx] (· scale), shape idxShape + [dim]. */
  forward(idx: Int32Array, shape?: readonly number[], scale = 1): Tensor {
    return ops.embedding(this.weight, idx, { shape, scale, paddingIdx: this.paddingIdx ?? -1 });
  }
}

/** torch.nn.Linear: weight [out, in], bias [out], both U(−1/sqrt(in), 1/sqrt(in)). */
export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    rng: Rng,
    bias = true,
    weightShape?: readonly number[],
  ) {
    super();
    this.weight = this.addParameter('weight', weightShape ?? [outFeatures, inFeatures]);
    this.bias = bias ? this.addParameter('bias', [outFeatures]) : null;
    const bound = 1 / Math.sqrt(inFeatures);
    init.uniform(this.weight, rng, -bound, bound);
    if (this.bias) init.uniform(this.bias, rng, -bound, bound);
  }

  forward(x: Tensor): Tensor {
    return ops.linear(x, this.weight, this.bias);
  }
}

/**
 * torch.nn.Conv1d(in, out, kernel_size=1) applied over positions: weight [out, in, 1]. Applied to
 * [..., in] rows it is exactly a linear layer (the reference's transposes cancel out).
 */
export class PointwiseConv1d extends Linear {
  constructor(inChannels: number, outChannels: number, rng: Rng) {
    super(inChannels, outChannels, rng, true, [outChannels, inChannels, 1]);
  }
}

/** torch.nn.LayerNorm(dim, eps): weight 1, bias 0. */
export class LayerNorm extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;
  constructor(
    readonly dim: number,
    readonly eps = 1e-5,
  ) {
    super();
    this.weight = this.addParameter('weight', [dim]);
    this.bias = this.addParameter('bias', [dim]);
    init.constant(this.weight, 1);
  }

  forward(x: Tensor): Tensor {
    return ops.layerNorm(x, this.weight, this.bias, this.eps);
  }
}

/** torch.nn.Dropout(p): active only in training mode; masks drawn from the given rng. */
export class Dropout extends Module {
  constructor(
    readonly p: number,
    private readonly rng: Rng,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return ops.dropout(x, this.p, this.rng, this.training);
  }
}
