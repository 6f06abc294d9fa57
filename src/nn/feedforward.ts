/** The reference's PointWiseFeedForward: conv1 → dropout1 → ReLU → conv2 → dropout2 (no residual here). */
import * as ops from '../engine/ops.js';
import type { Rng } from '../engine/rng.js';
import type { Tensor } from '../engine/tensor.js';
import { Dropout, PointwiseConv1d } from './layers.js';
import { Module } from './module.js';

export class PointWiseFeedForward extends Module {
  readonly conv1: PointwiseConv1d;
  readonly conv2: PointwiseConv1d;
  readonly dropout1: Dropout;
  readonly dropout2: Dropout;

  constructor(hiddenUnits: number, dropoutRate: number, rng: Rng, dropoutRng: Rng) {
    super();
    this.conv1 = this.addModule('conv1', new PointwiseConv1d(hiddenUnits, hiddenUnits, rng));
    this.dropout1 = this.addModule('dropout1', new Dropout(dropoutRate, dropoutRng));
    this.conv2 = this.addModule('conv2', new PointwiseConv1d(hiddenUnits, hiddenUnits, rng));
    this.dropout2 = this.addModule('dropout2', new Dropout(dropoutRate, dropoutRng));
  }

  forward(x: Tensor): Tensor {
    const h = ops.relu(this.dropout1.forward(this.conv1.forward(x)));
    return this.dropout2.forward(this.conv2.forward(h));
  }
}
