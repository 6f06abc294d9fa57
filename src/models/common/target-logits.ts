/** The packed training forward's last step, shared by SASRec and TiSASRec. */
import type { LossTargets } from '../../engine/loss-targets.js';
import * as ops from '../../engine/ops.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Embedding } from '../../nn/layers.js';

/**
 * Logits of each target's positive and negative item (each [M]) from the feature row that scores it:
 * F[rows[m]] · item_emb(pos[m]) and · item_emb(neg[m]); index[m] is the target's flat b·L + t.
 */
export function targetLogits(feats: Tensor, targets: LossTargets, itemEmb: Embedding): { posLogits: Tensor; negLogits: Tensor; index: Int32Array } {
  const rows = ops.embedding(feats, targets.rows);
  const posLogits = ops.rowDot(rows, itemEmb.forward(targets.pos));
  const negLogits = ops.rowDot(rows, itemEmb.forward(targets.neg));
  return { posLogits, negLogits, index: targets.index };
}
