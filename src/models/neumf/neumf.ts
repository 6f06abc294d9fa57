/**
 * NeuMF (He, Liao, Zhang, Nie, Hu & Chua, "Neural Collaborative Filtering", WWW 2017): generalised
 * matrix factorisation and a multi-layer perceptron over the user and item embeddings, fused by one
 * output layer (Eq. 11–12):
 *
 *   φ^GMF = p_u^G ⊙ q_i^G
 *   φ^MLP = a_L(W_L(… a_2(W_2 [p_u^M; q_i^M] + b_2) …) + b_L)          a = ReLU
 *   ŷ_ui  = σ(hᵀ [φ^GMF; φ^MLP] + b)
 *
 * with separate embeddings for the two parts (GMF d = hidden_units "predictive factors"; MLP
 * embeddings of layers[0]/2 each, the tower layers[0] → layers[1] → … → layers[L], halving in the
 * paper: 64 → 32 → 16 → 8). Trained by the log loss against sampled negatives (factor-network.ts);
 * no pre-training of the two parts (the paper's optional step). Initial values as the authors' code:
 * embeddings N(0, 0.01²), layers Glorot-uniform, h LeCun-uniform, zero biases.
 *
 * W_2 [p; q] is computed as W_2u p + W_2i q (the two halves of W_2 as two tables), so the user's and
 * the item's half are each computed once per distinct id, and for the whole catalogue the item half is
 * a GEMM whose bias is the user's half.
 */
import * as init from '../../engine/init.js';
import * as ops from '../../engine/ops.js';
import { withInferenceTape } from '../../engine/tape.js';
import { type Parameter, Tensor } from '../../engine/tensor.js';
import { getKernels, releaseBuffer } from '../../kernels/index.js';
import type { HistoryBatch } from '../../eval/types.js';
import { distinctIds, gatherBack } from '../common/distinct-ids.js';
import { FactorNetwork, normalRows, type CatalogueForm, type FactorConfig, type NetworkOptions, type Regularised } from '../common/factor-network.js';

/** The std of the initial embeddings (the authors' code). */
export const NEUMF_INIT_STD = 0.01;

export class NeuMF extends FactorNetwork {
  /** p^G, q^G: the GMF embeddings [U + 1, d], [N + 1, d] */
  readonly userGmf: Parameter;
  readonly itemGmf: Parameter;
  /** p^M, q^M: the MLP embeddings [U + 1, layers[0]/2], [N + 1, layers[0]/2] */
  readonly userMlp: Parameter;
  readonly itemMlp: Parameter;
  /** W_2 as its user half, its item half and b_2; then W_l, b_l for l = 3..L */
  readonly firstUser: Parameter;
  readonly firstItem: Parameter;
  readonly firstBias: Parameter;
  readonly tower: ReadonlyArray<{ readonly weight: Parameter; readonly bias: Parameter }>;
  /** h as its GMF part [1, d] and its MLP part [1, layers[L]], and b */
  readonly outGmf: Parameter;
  readonly outMlp: Parameter;
  readonly outBias: Parameter;
  /** the scores read the user alone */
  readonly historyFree = true;

  /** @param layers the tower's sizes, layers[0] the concatenated MLP embeddings (even), e.g. [64, 32, 16, 8] */
  constructor(
    config: FactorConfig,
    readonly layers: readonly number[],
    opts: NetworkOptions = {},
  ) {
    super('NeuMF', config, opts, true);
    if (layers.length < 2 || layers.some((n) => !(Number.isInteger(n) && n >= 1)) || layers[0] % 2 !== 0) {
      throw new Error(`NeuMF: layers must be ≥ 2 positive integers, the first even, got ${layers.join(',')}`);
    }
    const d = this.hiddenUnits;
    const e = layers[0] / 2;
    this.userGmf = this.addParameter('user_gmf', [this.userNum + 1, d]);
    this.itemGmf = this.addParameter('item_gmf', [this.itemNum + 1, d]);
    this.userMlp = this.addParameter('user_mlp', [this.userNum + 1, e]);
    this.itemMlp = this.addParameter('item_mlp', [this.itemNum + 1, e]);
    for (const table of [this.userGmf, this.itemGmf, this.userMlp, this.itemMlp]) normalRows(table, this.initRng, NEUMF_INIT_STD);
    this.firstUser = this.uniform('mlp.0.user_weight', [layers[1], e], Math.sqrt(6 / (layers[0] + layers[1])));
    this.firstItem = this.uniform('mlp.0.item_weight', [layers[1], e], Math.sqrt(6 / (layers[0] + layers[1])));
    this.firstBias = this.addParameter('mlp.0.bias', [layers[1]]);
    const tower: { weight: Parameter; bias: Parameter }[] = [];
    for (let l = 2; l < layers.length; l++) {
      tower.push({
        weight: this.uniform(`mlp.${l - 1}.weight`, [layers[l], layers[l - 1]], Math.sqrt(6 / (layers[l - 1] + layers[l]))),
        bias: this.addParameter(`mlp.${l - 1}.bias`, [layers[l]]),
      });
    }
    this.tower = tower;
    const last = layers[layers.length - 1];
    this.outGmf = this.uniform('predict.gmf_weight', [1, d], Math.sqrt(3 / (d + last)));
    this.outMlp = this.uniform('predict.mlp_weight', [1, last], Math.sqrt(3 / (d + last)));
    this.outBias = this.addParameter('predict.bias', [1]);
  }

  private uniform(name: string, shape: number[], limit: number): Parameter {
    const p = this.addParameter(name, shape);
    init.uniform(p, this.initRng, -limit, limit);
    return p;
  }

  /** a_L(… a_3(W_3 a_2(h_2) + b_3) …) from the first layer's pre-activation h_2 → [M, layers[L]]. */
  private towerFrom(first: Tensor): Tensor {
    let h = ops.relu(first);
    for (const { weight, bias } of this.tower) h = ops.relu(ops.linear(h, weight, bias));
    return h;
  }

  /** The logits hᵀ[φ^GMF; φ^MLP] + b of each (users[m], items[m]) → [M] (the previous item is not read). */
  scores(users: Int32Array, _prevs: Int32Array, items: Int32Array): Tensor {
    const u = distinctIds(users);
    const i = distinctIds(items);
    const gmf = ops.mul(gatherBack(ops.embedding(this.userGmf, u.ids), u), gatherBack(ops.embedding(this.itemGmf, i.ids), i));
    const userHalf = ops.linear(ops.embedding(this.userMlp, u.ids), this.firstUser, this.firstBias);
    const itemHalf = ops.linear(ops.embedding(this.itemMlp, i.ids), this.firstItem, null);
    const mlp = this.towerFrom(ops.add(gatherBack(userHalf, u), gatherBack(itemHalf, i)));
    const logits = ops.add(ops.linear(gmf, this.outGmf, this.outBias), ops.linear(mlp, this.outMlp, null));
    return ops.reshape(logits, [users.length]);
  }

  /**
   * Every item for each history, one user at a time. The item half W_2i q_i of the first layer is the
   * same for every user: it is computed once per call, and each user adds their half to it.
   */
  override scoreAll(batch: HistoryBatch, out?: Float32Array): Float32Array {
    const B = batch.batchSize;
    const n = this.itemNum + 1;
    const { users } = this.contexts(batch);
    const res = out !== undefined && out.length >= B * n ? out.subarray(0, B * n) : new Float32Array(B * n);
    this.inEvalMode(() => {
      const itemHalfData = getKernels().alloc(n * this.layers[1]);
      try {
        withInferenceTape(() => itemHalfData.set(ops.linear(this.itemMlp, this.firstItem, null).data.subarray(0, itemHalfData.length)));
        const itemHalf = new Tensor(itemHalfData, [n, this.layers[1]]);
        for (let b = 0; b < B; b++) {
          // one inference tape per user: its [items × layer] buffers go back to the pool before the next
          withInferenceTape(() => {
            const user = Int32Array.of(users[b]);
            const userHalf = ops.linear(ops.embedding(this.userMlp, user), this.firstUser, this.firstBias);
            const mlp = this.towerFrom(ops.addRow(itemHalf, userHalf));
            // hᵀ(p ⊙ q) = (h ⊙ p)ᵀ q: the GMF part as one matrix-vector product over the catalogue
            const weighted = ops.mul(ops.embedding(this.userGmf, user), this.outGmf);
            const logits = ops.add(ops.linear(this.itemGmf, weighted, this.outBias), ops.linear(mlp, this.outMlp, null));
            res.set(logits.data.subarray(0, n), b * n);
          });
        }
      } finally {
        releaseBuffer(itemHalfData);
      }
    });
    return res;
  }

  /** Not a sum of GEMM terms (the tower is non-linear): scoreAll is overridden instead. */
  protected catalogue(): CatalogueForm {
    throw new Error('NeuMF: the catalogue is scored by scoreAll');
  }

  protected get regularised(): Regularised[] {
    return [
      { table: this.userGmf, rowOf: 'user' },
      { table: this.itemGmf, rowOf: 'item' },
      { table: this.userMlp, rowOf: 'user' },
      { table: this.itemMlp, rowOf: 'item' },
    ];
  }
}
