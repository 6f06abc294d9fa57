/**
 * BERT's Transformer layer (post-LN, bidirectional), under torch.nn.TransformerEncoderLayer's
 * parameter names (`self_attn`, `linear1`, `linear2`, `norm1`, `norm2`):
 *
 *   x = norm1(x + dropout1(MHA(x)))            MHA: bidirectional, padding keys masked out
 *   x = norm2(x + dropout2(linear2(GELU(linear1(x)))))
 *
 * As in BERT (and unlike torch's layer) there is no dropout between GELU and linear2. A stack of them
 * is a TransformerEncoder (`layers.0`, `layers.1`, …, as torch.nn.TransformerEncoder).
 */
import * as ops from '../engine/ops.js';
import type { SequenceRows } from '../engine/bidirectional-attention.js';
import type { Rng } from '../engine/rng.js';
import type { Tensor } from '../engine/tensor.js';
import { MultiheadAttention } from './attention.js';
import { Dropout, LayerNorm, Linear } from './layers.js';
import { Module, ModuleList } from './module.js';

export class TransformerEncoderLayer extends Module {
  readonly selfAttn: MultiheadAttention;
  readonly linear1: Linear;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly dropout1: Dropout;
  readonly dropout2: Dropout;

  /**
   * @param ffDim the feed-forward width (BERT: 4·d)
   * @param dropoutRate attention-probability and residual-branch dropout
   * @param eps the LayerNorms' epsilon
   */
  constructor(d: number, heads: number, ffDim: number, dropoutRate: number, eps: number, rng: Rng, dropoutRng: Rng) {
    super();
    this.selfAttn = this.addModule('self_attn', new MultiheadAttention(d, heads, dropoutRate, rng, dropoutRng));
    this.linear1 = this.addModule('linear1', new Linear(d, ffDim, rng));
    this.linear2 = this.addModule('linear2', new Linear(ffDim, d, rng));
    this.norm1 = this.addModule('norm1', new LayerNorm(d, eps));
    this.norm2 = this.addModule('norm2', new LayerNorm(d, eps));
    this.dropout1 = this.addModule('dropout1', new Dropout(dropoutRate, dropoutRng));
    this.dropout2 = this.addModule('dropout2', new Dropout(dropoutRate, dropoutRng));
  }

  /** The layer over rows x [rows, d] grouped into sequences (see engine/bidirectional-attention.ts). */
  forward(x: Tensor, seqs: SequenceRows, keyMask: Uint8Array | null): Tensor {
    x = this.norm1.forward(ops.add(x, this.dropout1.forward(this.selfAttn.forwardBidirectional(x, seqs, keyMask))));
    const ffn = this.linear2.forward(ops.gelu(this.linear1.forward(x)));
    return this.norm2.forward(ops.add(x, this.dropout2.forward(ffn)));
  }
}

/** torch.nn.TransformerEncoder without a final norm: `layers` applied in turn. */
export class TransformerEncoder extends Module {
  readonly layers: ModuleList<TransformerEncoderLayer>;

  constructor(layers: TransformerEncoderLayer[]) {
    super();
    this.layers = this.addModule('layers', new ModuleList(layers));
  }

  forward(x: Tensor, seqs: SequenceRows, keyMask: Uint8Array | null): Tensor {
    for (const layer of this.layers.items) x = layer.forward(x, seqs, keyMask);
    return x;
  }
}
