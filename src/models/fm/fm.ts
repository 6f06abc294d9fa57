/**
 * Factorization Machine (Rendle, "Factorization Machines", ICDM 2010) over one-hot user and item ids
 * plus the users' and items' side features (data/features.ts), trained on implicit feedback by BPR
 * with one sampled negative (Rendle et al. 2009), as the factor models of this project are:
 *
 *   ŷ(x) = w₀ + Σ_f w_f x_f + Σ_{f<g} ⟨v_f, v_g⟩ x_f x_g
 *        = w₀ + Σ_f w_f x_f + ½ Σ_k [(Σ_f v_{f,k} x_f)² − Σ_f v_{f,k}² x_f²]     (the O(nk) form)
 *
 * with x the user's one-hot id and features and the item's one-hot id and features. Split into the
 * user side (u: id + features) and the item side (i), with U = Σ_{f∈u} v_f x_f and I = Σ_{g∈i} v_g x_g:
 *
 *   ŷ(u, i) = [w₀ + Σ_{f∈u} w_f x_f + pairs within u]  +  ⟨U, I⟩  +  Σ_{g∈i} w_g x_g  +  ½(‖I‖² − Σ_{g∈i} ‖v_g‖² x_g²)
 *
 * The bracket is the same for every item of a user: it never changes a ranking and cancels in BPR's
 * ŷ(u, i) − ŷ(u, j), so it is left out (no w₀ nor user-side w_f). What remains is scored for the whole
 * catalogue as one GEMM ⟨U, I⟩ plus a per-item term. Without feature files the FM is biased MF with
 * the item's self-interaction ½(‖I‖² − ‖v_i‖²) = 0: exactly BPR-MF. The per-example L2 term (λ =
 * l2_reg) covers every parameter an example reads, as libFM's SGD: the id vectors and biases of u, i
 * and j (BPR-MF's term) and the vectors and weights of their features. A user the model does not know
 * (a cold or ad-hoc history) scores from the items' side alone; a known user's features come from the
 * file it was trained with.
 *
 * U and the item's terms depend on the id alone: a batch computes them once per distinct user and
 * item (distinct-ids.ts) and gathers them for its examples.
 *
 * Id dropout (DropoutNet, Volkovs et al., NeurIPS 2017; `idDropout` = p): each training step replaces
 * the id vector v_u of a share p of its users by the mean of all users' id vectors (a constant of
 * that step), so that U must also work from the features alone. A user held out of training
 * (`--cold users`) is scored in exactly that state: its id row follows the trained users' mean.
 *
 * History field (`historyBag`; the implicit-feedback field with which an FM mimics SVD++, Rendle 2010
 * §V-C, Koren 2008): the user's side also holds the items of the user's history, each x_j = 1/|H|,
 * with vectors y_j of their own: U = v_u + Σ_f x_f v_f + (1/|H|) Σ_{j∈H} y_j. Their linear weights and
 * their pairs with the user's other fields are the same for every item of a context and are left out
 * as above. In training, H of a position is the row's items up to it (history-bags.ts: no leakage of
 * the target); in scoring, the history given, so a held-out user with its first `--cold_history`
 * events scores from them. Its L2 term is λ Σ_{j∈H} x_j ‖y_j‖² per example.
 */
import { type Bags, bagSum } from '../../engine/bag-ops.js';
import type { HistoryBatch } from '../../eval/types.js';
import * as ops from '../../engine/ops.js';
import { type Parameter, Tensor } from '../../engine/tensor.js';
import {
  FactorNetwork,
  gatherScalars,
  meanOfRows,
  normalRows,
  type CatalogueForm,
  type FactorConfig,
  type NetworkOptions,
  type Regularised,
} from '../common/factor-network.js';
import { distinctIds, gatherBack } from '../common/distinct-ids.js';
import { bagsOf, type ModelFeatures } from '../common/feature-rows.js';
import { historyBags, trainingBags } from '../common/history-bags.js';

/**
 * The history bags of the current loss or scoring call: one bag per context row, and which row each
 * of n scored examples reads (null: example m is row m).
 */
interface HistoryContext {
  readonly bags: Bags;
  rowOf(n: number): Int32Array | null;
  /** (1/|H|) Σ_{j∈H} y_j per row, once computed on the call's tape */
  vectors?: Tensor;
}

/** The std of the initial vectors. */
export const FM_INIT_STD = 0.1;

export class FactorizationMachine extends FactorNetwork {
  /** v of the user ids [U + 1, d] */
  readonly userFactors: Parameter;
  /** v of the item ids [N + 1, d] */
  readonly itemFactors: Parameter;
  /** w of the item ids [N + 1] */
  readonly itemBias: Parameter;
  /** v of the user features [Fu, d] (absent without user features) */
  readonly userFeatureFactors?: Parameter;
  /** v and w of the item features [Fi, d], [Fi] */
  readonly itemFeatureFactors?: Parameter;
  readonly itemFeatureBias?: Parameter;
  /** y of the history field's items [N + 1, d] (with historyBag) */
  readonly historyFactors?: Parameter;
  /** the users of the current training step whose id vector is dropped (1), null outside a step */
  private droppedUsers: Uint8Array | null = null;
  /** the history bags of the current loss or scoring call (with historyBag) */
  private history: HistoryContext | null = null;

  /**
   * @param idDropout the share of a step's users whose id vector is replaced by the users' mean
   * @param historyBag the user's side also holds the history field (see the file's comment)
   */
  constructor(
    config: FactorConfig,
    readonly features: ModelFeatures,
    opts: NetworkOptions = {},
    readonly idDropout = 0,
    readonly historyBag = false,
  ) {
    super('FM', config, opts, true);
    if (!(idDropout >= 0 && idDropout < 1)) throw new Error(`FM: idDropout must be in [0, 1), got ${idDropout}`);
    const d = this.hiddenUnits;
    this.userFactors = this.addParameter('user_factors', [this.userNum + 1, d]);
    this.itemFactors = this.addParameter('item_factors', [this.itemNum + 1, d]);
    this.itemBias = this.addParameter('item_bias', [this.itemNum + 1]);
    normalRows(this.userFactors, this.initRng, FM_INIT_STD);
    normalRows(this.itemFactors, this.initRng, FM_INIT_STD);
    if (features.users && features.users.featureNum > 0) {
      this.userFeatureFactors = this.addParameter('user_feature_factors', [features.users.featureNum, d]);
      for (let x = 0; x < this.userFeatureFactors.size; x++) this.userFeatureFactors.data[x] = FM_INIT_STD * this.initRng.normal();
    }
    if (features.items && features.items.featureNum > 0) {
      this.itemFeatureFactors = this.addParameter('item_feature_factors', [features.items.featureNum, d]);
      this.itemFeatureBias = this.addParameter('item_feature_bias', [features.items.featureNum]);
      for (let x = 0; x < this.itemFeatureFactors.size; x++) this.itemFeatureFactors.data[x] = FM_INIT_STD * this.initRng.normal();
    }
    if (historyBag) {
      this.historyFactors = this.addParameter('history_factors', [this.itemNum + 1, d]);
      normalRows(this.historyFactors, this.initRng, FM_INIT_STD);
    }
  }

  /**
   * The base's loss with the id vectors of a share idDropout of the batch's users dropped for this
   * step, and with the history field: each position's bag, and its L2 term.
   */
  override loss(batch: Parameters<FactorNetwork['loss']>[0]): Tensor {
    const dropping = this.training && this.idDropout > 0;
    if (!dropping && !this.historyFactors) return super.loss(batch);
    if (dropping) {
      const dropped = new Uint8Array(this.userNum + 1);
      for (const u of distinctIds(batch.users).ids) if (this.dropoutRng.nextFloat() < this.idDropout) dropped[u] = 1;
      this.droppedUsers = dropped;
    }
    try {
      if (!this.historyFactors) return super.loss(batch);
      const bags = trainingBags(batch, this.itemNum);
      const M = bags.ptr.length - 1;
      // the base's examples are the positions in this order, its K·M negatives' users k-major
      this.history = { bags, rowOf: (n) => (n === M ? null : Int32Array.from({ length: n }, (_, x) => x % M)) };
      const loss = super.loss(batch);
      if (this.l2Reg === 0 || M === 0) return loss;
      const all: Bags = { ptr: Int32Array.of(0, bags.idx.length), idx: bags.idx, val: bags.val };
      const norms = ops.rowDot(this.historyFactors, this.historyFactors);
      return ops.add(loss, ops.scale(ops.reshape(bagSum(norms, all), []), this.l2Reg / M));
    } finally {
      this.droppedUsers = null;
      this.history = null;
    }
  }

  /** With the history field: the base's scoring, each history's bag read (candidates C per row: rows ⌊x / C⌋). */
  override scoreAll(batch: HistoryBatch, out?: Float32Array): Float32Array {
    return this.withHistories(batch, () => super.scoreAll(batch, out));
  }

  override scoreCandidates(batch: HistoryBatch, candidates: Int32Array, numCandidates: number): Float32Array {
    return this.withHistories(batch, () => super.scoreCandidates(batch, candidates, numCandidates));
  }

  private withHistories<T>(batch: HistoryBatch, score: () => T): T {
    if (!this.historyFactors) return score();
    const B = batch.batchSize;
    this.history = {
      bags: historyBags(batch, this.itemNum),
      rowOf: (n) => (n === B ? null : Int32Array.from({ length: n }, (_, x) => Math.floor((x * B) / n))),
    };
    try {
      return score();
    } finally {
      this.history = null;
    }
  }

  /** The history field's part of U for each of n examples (null without one, or outside a loss or scoring call). */
  private historySide(n: number): Tensor | null {
    const h = this.history;
    if (!h || !this.historyFactors) return null;
    h.vectors ??= bagSum(this.historyFactors, h.bags);
    const rows = h.rowOf(n);
    return rows ? ops.embedding(h.vectors, rows) : h.vectors;
  }

  /** v_u of each of `ids`, the users' mean vector (a constant) for the ones dropped in this step. */
  private userIdVectors(ids: Int32Array): Tensor {
    const dropped = this.droppedUsers;
    if (!dropped) return ops.embedding(this.userFactors, ids);
    const d = this.hiddenUnits;
    const table = new Float32Array(2 * d);
    table.set(meanOfRows(this.userFactors.data, d, this.userNum), d);
    const kept = ops.embedding(
      this.userFactors,
      ids.map((u) => (dropped[u] ? 0 : u)),
      { paddingIdx: 0 },
    );
    return ops.add(
      kept,
      ops.embedding(
        new Tensor(table, [2, d]),
        ids.map((u) => dropped[u]),
      ),
    );
  }

  /** U = v_u + Σ_f x_f v_f over the user's features (+ the history field) → [M, d], the first part once per distinct user. */
  private userSide(users: Int32Array): Tensor {
    const distinct = distinctIds(users);
    const ids = this.userIdVectors(distinct.ids);
    const own = gatherBack(
      this.userFeatureFactors ? ops.add(ids, bagSum(this.userFeatureFactors, bagsOf(this.features.users, distinct.ids))) : ids,
      distinct,
    );
    const history = this.historySide(users.length);
    return history ? ops.add(own, history) : own;
  }

  /** The item side of `items`, computed once per distinct item and gathered back. */
  private itemSide(items: Int32Array): { vector: Tensor; own: Tensor } {
    const distinct = distinctIds(items);
    const each = this.distinctItemSide(distinct.ids);
    return { vector: gatherBack(each.vector, distinct), own: gatherBack(each.own, distinct) };
  }

  /** I = v_i + Σ_g x_g v_g, and the item's own term Σ_g w_g x_g + ½(‖I‖² − ‖v_i‖² − Σ_g ‖v_g‖² x_g²), per item of `items`. */
  private distinctItemSide(items: Int32Array): { vector: Tensor; own: Tensor } {
    const ids = ops.embedding(this.itemFactors, items);
    let own = gatherScalars(this.itemBias, items);
    if (!this.itemFeatureFactors || !this.itemFeatureBias) return { vector: ids, own };
    const bags = bagsOf(this.features.items, items);
    const vector = ops.add(ids, bagSum(this.itemFeatureFactors, bags));
    own = ops.add(own, ops.reshape(bagSum(this.itemFeatureBias, bags), [items.length]));
    // ½(‖I‖² − ‖v_i‖² − Σ_g x_g² ‖v_g‖²): the pairs within the item's side
    const norms = ops.rowDot(this.itemFeatureFactors, this.itemFeatureFactors);
    const featureSquares = ops.reshape(bagSum(norms, bagsOf(this.features.items, items, true)), [items.length]);
    const self = ops.add(ops.rowDot(vector, vector), ops.scale(ops.add(ops.rowDot(ids, ids), featureSquares), -1));
    return { vector, own: ops.add(own, ops.scale(self, 0.5)) };
  }

  /** ŷ(u, i) up to the user's constant: ⟨U, I⟩ + the item's own term (the previous item is not read). */
  scores(users: Int32Array, _prevs: Int32Array, items: Int32Array): Tensor {
    const item = this.itemSide(items);
    return ops.add(ops.rowDot(this.userSide(users), item.vector), item.own);
  }

  protected catalogue(users: Int32Array): CatalogueForm {
    const all = Int32Array.from({ length: this.itemNum + 1 }, (_, i) => i);
    const item = this.distinctItemSide(all);
    return { terms: [[this.userSide(users), item.vector]], itemTerm: item.own, rowTerm: null };
  }

  /**
   * The pairs within the user's side, ½(‖U‖² − ‖v_u‖² − Σ_f x_f² ‖v_f‖²) → [M] (null without user
   * features): the same for every item, so ranking leaves them out; a pointwise loss (--task ctr) reads them.
   */
  userPairs(users: Int32Array): Tensor | null {
    if (!this.userFeatureFactors) return null;
    const ids = ops.embedding(this.userFactors, users);
    const side = this.userSide(users);
    const norms = ops.rowDot(this.userFeatureFactors, this.userFeatureFactors);
    const featureSquares = ops.reshape(bagSum(norms, bagsOf(this.features.users, users, true)), [users.length]);
    return ops.scale(ops.add(ops.rowDot(side, side), ops.scale(ops.add(ops.rowDot(ids, ids), featureSquares), -1)), 0.5);
  }

  protected get regularised(): Regularised[] {
    const { users, items } = this.features;
    return [
      { table: this.userFactors, rowOf: 'user' },
      { table: this.itemFactors, rowOf: 'item' },
      { table: this.itemBias, rowOf: 'item' },
      ...(this.userFeatureFactors && users ? [{ table: this.userFeatureFactors, rowOf: 'user', features: users } as const] : []),
      ...(this.itemFeatureFactors && items ? [{ table: this.itemFeatureFactors, rowOf: 'item', features: items } as const] : []),
      ...(this.itemFeatureBias && items ? [{ table: this.itemFeatureBias, rowOf: 'item', features: items } as const] : []),
    ];
  }
}
