/**
 * A two-tower model (the retrieval architecture of Covington et al., RecSys 2016, and Yi et al.,
 * RecSys 2019): a user tower and an item tower map what is known of each to a vector in one space,
 * and the score is their dot product, so every item's vector is computed once for top-K:
 *
 *   u = f([e_u; Σ_f x_f v_f])          i = g([e_i; Σ_g x_g w_g])          s(u, i) = ⟨u, i⟩
 *
 * e_u, e_i: id embeddings (d = hidden_units); v_f, w_g: the user's and the item's side-feature
 * embeddings (d), summed with their weights x (data/features.ts); f and g: MLPs over the
 * concatenation (ReLU between layers, the last layer linear to d; `tower_layers` gives the hidden
 * sizes). The first layer's weight is kept as one block per input part, W₁[a; b] = W₁ₐa + W₁ᵦb, so the
 * concatenation is never materialised. The per-example L2 covers the id and feature rows read. Losses
 * (`--tower_loss`): `log`, the log loss against `--ncf_negatives` sampled negatives; `pairwise`, S-BPR
 * with one (both factor-network.ts); `inbatch_softmax` (Yi et al. 2019), the softmax of each positive
 * pair against the other positives of its in-batch group (the batch's positions shuffled into groups
 * of IN_BATCH_GROUP; an item equal to the positive is left out), every logit corrected for the
 * in-batch sampling bias by the item's log sampling probability:
 *
 *   s^c(u, j) = ⟨u, j⟩ − log q_j,   q_j = (n_j + 1) / (n + N)
 *
 * with n_j the times item j was a positive in the training batches so far (n in all, N items): a
 * streaming estimate of how often j appears in a batch, as Yi et al. estimate it.
 * `--tower_ids` leaves the id embeddings out of the user tower, the item tower or both: that tower then
 * reads its side features (and the user tower its history bag) alone.
 * A user held out of training (`--cold users`) keeps the trained users' mean id row and scores from
 * its features; an item likewise from its features.
 *
 * With `--similarity cosine` both towers' outputs are put on the unit sphere and the user's side is
 * divided by the temperature τ: s(u, i) = cos(u, i) / τ.
 *
 * With `--history_bag` the user tower also reads the mean of the history's item embeddings h_j (a table
 * of their own, d): u = f([e_u; Σ x_f v_f; mean_{j ∈ history} h_j]). In training, the history of a
 * position is the row's items up to it (the inputs before its target: no leakage); in scoring, the
 * history given (for a held-out user, its first `--cold_history` events).
 */
import { UserError } from '../../core/errors.js';
import { type Bags, bagSum } from '../../engine/bag-ops.js';
import { withInferenceTape } from '../../engine/tape.js';
import type { HistoryBatch } from '../../eval/types.js';
import { sampledSoftmaxLoss } from '../../engine/loss-ops.js';
import * as init from '../../engine/init.js';
import * as ops from '../../engine/ops.js';
import { type Parameter, Tensor } from '../../engine/tensor.js';
import type { TrainBatch } from '../../data/types.js';
import { distinctIds, gatherBack } from '../common/distinct-ids.js';
import { FactorNetwork, normalRows, type CatalogueForm, type FactorConfig, type NetworkOptions, type Regularised } from '../common/factor-network.js';
import { bagsOf, type FeatureRows, type ModelFeatures } from '../common/feature-rows.js';
import { historyBags, prefixBags, trainingBags } from '../common/history-bags.js';

/** The std of the initial embeddings. */
export const TOWER_INIT_STD = 0.1;

/** Positives per in-batch softmax group: each is scored against the group's other positives. */
export const IN_BATCH_GROUP = 256;

export type TowerLoss = 'log' | 'pairwise' | 'inbatch_softmax';

/** Which towers read id embeddings (--tower_ids). */
export const TOWER_IDS = ['both', 'users', 'items', 'none'] as const;
export type TowerIds = (typeof TOWER_IDS)[number];

interface Layer {
  readonly weight: Parameter;
  readonly bias: Parameter;
}

/** One tower: optional id embeddings, optional feature embeddings (and the user's history bag) into an MLP. */
class Tower {
  /** the id embeddings (absent when the tower reads no ids: --tower_ids) */
  readonly ids?: Parameter;
  readonly featureTable?: Parameter;
  /** the first layer's blocks: for the id embedding and for the feature sum */
  readonly firstIds?: Parameter;
  readonly firstFeatures?: Parameter;
  readonly firstBias: Parameter;
  readonly layers: readonly Layer[];
  /** the history bag's item table and first-layer block (user tower with --history_bag) */
  readonly history?: { readonly table: Parameter; readonly first: Parameter };

  /**
   * @param withIds whether the tower reads the id embeddings
   * @param historyItems with a history bag: the item count (its table's rows 1..historyItems); 0: none
   */
  constructor(
    net: TwoTower,
    side: 'user' | 'item',
    count: number,
    readonly rows: FeatureRows | undefined,
    sizes: readonly number[],
    historyItems = 0,
    withIds = true,
  ) {
    const d = net.hiddenUnits;
    const uniform = (name: string, shape: number[]) => net.glorot(`${side}_tower.${name}`, shape);
    if (withIds) this.ids = net.addTable(`${side}_ids`, [count + 1, d]);
    if (rows && rows.featureNum > 0) this.featureTable = net.addTable(`${side}_features`, [rows.featureNum, d], true);
    if (!this.ids && !this.featureTable && historyItems === 0) {
      throw new UserError(`two_tower: the ${side} tower reads nothing: give it its ids (--tower_ids) or a --${side}_features file`);
    }
    const widths = [...sizes, d];
    if (this.ids) this.firstIds = uniform('0.id_weight', [widths[0], d]);
    if (this.featureTable) this.firstFeatures = uniform('0.feature_weight', [widths[0], d]);
    this.firstBias = net.addZeros(`${side}_tower.0.bias`, [widths[0]]);
    if (historyItems > 0) {
      this.history = { table: net.addTable(`${side}_history_items`, [historyItems + 1, d]), first: uniform('0.history_weight', [widths[0], d]) };
    }
    const layers: Layer[] = [];
    for (let l = 1; l < widths.length; l++) {
      layers.push({ weight: uniform(`${l}.weight`, [widths[l], widths[l - 1]]), bias: net.addZeros(`${side}_tower.${l}.bias`, [widths[l]]) });
    }
    this.layers = layers;
  }

  /** The tower's output for each of `ids` → [n, d] (`history`: each one's history bag, with --history_bag). */
  forward(ids: Int32Array, history?: Bags): Tensor {
    if (this.history && !history) throw new Error('two_tower: the user tower reads a history bag');
    // the first layer, one block per input part: W₁[a; b; c] + b₁ = W₁ₐa + W₁ᵦb + W₁꜀c + b₁
    const parts: Array<readonly [Tensor, Parameter]> = [];
    if (this.ids && this.firstIds) parts.push([ops.embedding(this.ids, ids), this.firstIds]);
    if (this.history && history) parts.push([bagSum(this.history.table, history), this.history.first]);
    if (this.featureTable && this.firstFeatures) parts.push([bagSum(this.featureTable, bagsOf(this.rows, ids)), this.firstFeatures]);
    let h = ops.linear(parts[0][0], parts[0][1], this.firstBias);
    for (const [input, weight] of parts.slice(1)) h = ops.add(h, ops.linear(input, weight, null));
    this.layers.forEach(({ weight, bias }) => {
      h = ops.linear(ops.relu(h), weight, bias);
    });
    return h;
  }
}

export class TwoTower extends FactorNetwork {
  readonly users: Tower;
  readonly items: Tower;

  /** n_j: the times item j was a positive in the training batches so far (the in-batch softmax's q_j) */
  private readonly positives: Float64Array;
  private positivesTotal = 0;

  /**
   * @param towerLayers the hidden layers' sizes of both towers (the output is d)
   * @param inBatch train by the in-batch softmax (else by the base's S-BPR or log loss, per config.negatives)
   * @param temperature τ of the cosine similarity; 0: the dot product
   * @param historyBag the user tower also reads the mean of the history's item embeddings
   * @param towerIds which towers read the id embeddings (the others their features, and the history bag, alone)
   */
  constructor(
    config: FactorConfig,
    readonly features: ModelFeatures,
    readonly towerLayers: readonly number[],
    opts: NetworkOptions = {},
    readonly inBatch = false,
    readonly temperature = 0,
    readonly historyBag = false,
    readonly towerIds: TowerIds = 'both',
  ) {
    super('two_tower', config, opts, true);
    if (towerLayers.some((n) => !(Number.isInteger(n) && n >= 1)))
      throw new Error(`two_tower: tower layers must be positive integers, got ${towerLayers.join(',')}`);
    const ids = (side: TowerIds) => towerIds === 'both' || towerIds === side;
    this.users = new Tower(this, 'user', this.userNum, features.users, towerLayers, historyBag ? this.itemNum : 0, ids('users'));
    this.items = new Tower(this, 'item', this.itemNum, features.items, towerLayers, 0, ids('items'));
    this.positives = new Float64Array(this.itemNum + 1);
    if (!(temperature >= 0)) throw new Error(`two_tower: temperature must be ≥ 0, got ${temperature}`);
  }

  /**
   * Every item's vector [N + 1, d], kept while the network stays in evaluation mode (a trained or a
   * loaded model): top-K then costs the user tower and one GEMM per call. Dropped by train() and
   * loadStateDict (weights change only there).
   */
  private catalogueCache: Tensor | null = null;
  /** Whether the current scoring call may use and fill catalogueCache (the network was in evaluation mode before it). */
  private cacheable = false;

  override train(mode = true): this {
    if (mode) this.catalogueCache = null;
    return super.train(mode);
  }

  override loadStateDict(state: Parameters<FactorNetwork['loadStateDict']>[0]): void {
    this.catalogueCache = null;
    super.loadStateDict(state);
  }

  /** Every item's vector [N + 1, d], on this call's tape or from catalogueCache. */
  private catalogueItems(): Tensor {
    const all = Int32Array.from({ length: this.itemNum + 1 }, (_, j) => j);
    if (!this.cacheable) return this.itemVectors(all);
    if (!this.catalogueCache) {
      const v = this.itemVectors(all);
      this.catalogueCache = new Tensor(v.data.slice(0, v.size), [...v.shape]);
    }
    return this.catalogueCache;
  }

  /** The training positions' history bags while a loss is computed (--history_bag), in the loss's example order. */
  private exampleHistories: Bags | null = null;

  /** The user tower's vectors for `ids` (distinct ones, or one per history bag), divided by τ on the unit sphere for cosine. */
  private userVectors(ids: Int32Array, history?: Bags): Tensor {
    const u = this.users.forward(ids, history);
    return this.temperature > 0 ? ops.normalizeRows(u, 1 / this.temperature) : u;
  }

  /** Each example's user vector: from its own history bag (--history_bag), else the tower once per distinct user. */
  private usersOf(users: Int32Array, bags: Bags | null): Tensor {
    if (bags) return this.exampleUserVectors(users, bags);
    const u = distinctIds(users);
    return gatherBack(this.userVectors(u.ids), u);
  }

  /** The user vector of each example m < M of the current loss (its own history bag), gathered for `users` (M or K·M of them, k-major). */
  private exampleUserVectors(users: Int32Array, bags: Bags): Tensor {
    const M = bags.ptr.length - 1;
    const own = this.userVectors(users.subarray(0, M), bags);
    return users.length === M
      ? own
      : ops.embedding(
          own,
          Int32Array.from(users, (_, x) => x % M),
        );
  }

  /** The item tower's vectors for distinct `ids` (on the unit sphere, for cosine). */
  private itemVectors(ids: Int32Array): Tensor {
    const i = this.items.forward(ids);
    return this.temperature > 0 ? ops.normalizeRows(i) : i;
  }

  /** The in-batch softmax with the log-Q correction (file comment), or the base's loss. */
  override loss(batch: Pick<TrainBatch, 'batchSize' | 'maxlen' | 'users' | 'seqs' | 'pos' | 'neg' | 'negatives' | 'sharedNegatives'>): Tensor {
    if (this.inBatch) return this.inBatchLoss(batch);
    if (!this.historyBag) return super.loss(batch);
    this.exampleHistories = trainingBags(batch, this.itemNum);
    try {
      return super.loss(batch);
    } finally {
      this.exampleHistories = null;
    }
  }

  private inBatchLoss(batch: Pick<TrainBatch, 'batchSize' | 'maxlen' | 'users' | 'seqs' | 'pos'>): Tensor {
    const { batchSize: B, maxlen: L } = batch;
    const real: number[] = [];
    for (let p = 0; p < B * L; p++) if (batch.pos[p] !== 0) real.push(p);
    const M = real.length;
    if (M === 0) return ops.scale(ops.sumSquares(this.parameters()[0]), 0);
    for (let k = M - 1; k > 0; k--) {
      const j = this.dropoutRng.nextInt(k + 1);
      [real[k], real[j]] = [real[j], real[k]];
    }
    const users = Int32Array.from(real, (p) => batch.users[Math.floor(p / L)]);
    const items = Int32Array.from(real, (p) => batch.pos[p]);
    if (this.training) {
      for (const i of items) this.positives[i]++;
      this.positivesTotal += M;
    }
    const logQ = (i: number) => Math.log((this.positives[i] + 1) / (this.positivesTotal + this.itemNum));
    const it = distinctIds(items);
    const userVectors = this.usersOf(users, this.historyBag ? prefixBags(batch.seqs, L, real, this.itemNum) : null);
    const itemVectors = gatherBack(this.itemVectors(it.ids), it);
    let loss: Tensor | null = null;
    for (let start = 0; start < M; start += IN_BATCH_GROUP) {
      const n = Math.min(IN_BATCH_GROUP, M - start);
      if (n < 2) continue;
      const rows = Int32Array.from({ length: n }, (_, k) => start + k);
      const logits = ops.reshape(ops.linear(ops.embedding(userVectors, rows), ops.embedding(itemVectors, rows), null), [n * n, 1]);
      const diagonal = Int32Array.from({ length: n }, (_, m) => m * n + m);
      const others = new Int32Array(n * (n - 1));
      const skip = new Uint8Array(n * (n - 1));
      const posShift = new Float32Array(n);
      const negShift = new Float32Array(n * (n - 1));
      for (let m = 0, x = 0; m < n; m++) {
        posShift[m] = -logQ(items[start + m]);
        for (let c = 0; c < n; c++) {
          if (c === m) continue;
          others[x] = m * n + c;
          negShift[x] = -logQ(items[start + c]);
          skip[x] = items[start + c] === items[start + m] ? 1 : 0;
          x++;
        }
      }
      const pos = ops.add(ops.reshape(ops.embedding(logits, diagonal), [n]), new Tensor(posShift, [n]));
      const neg = ops.add(ops.reshape(ops.embedding(logits, others), [n * (n - 1)]), new Tensor(negShift, [n * (n - 1)]));
      const part = sampledSoftmaxLoss(pos, neg, skip, 1 / M);
      loss = loss ? ops.add(loss, part) : part;
    }
    const total = loss ?? ops.scale(ops.sumSquares(this.parameters()[0]), 0);
    return this.withL2(total, { user: users, previous: new Int32Array(M), item: items }, M);
  }

  /** A table of N(0, 0.1²) rows (row 0, padding or the unknown user, left zero unless `allRows`). */
  addTable(name: string, shape: number[], allRows = false): Parameter {
    const p = this.addParameter(name, shape);
    if (allRows) for (let x = 0; x < p.size; x++) p.data[x] = TOWER_INIT_STD * this.initRng.normal();
    else normalRows(p, this.initRng, TOWER_INIT_STD);
    return p;
  }

  /** A layer weight [out, in], Glorot-uniform. */
  glorot(name: string, shape: number[]): Parameter {
    const p = this.addParameter(name, shape);
    init.xavierUniform(p, this.initRng);
    return p;
  }

  addZeros(name: string, shape: number[]): Parameter {
    return this.addParameter(name, shape);
  }

  /** ⟨u, i⟩ for each (users[m], items[m]), each tower run once per distinct id (the previous item is not read). */
  scores(users: Int32Array, _prevs: Int32Array, items: Int32Array): Tensor {
    const i = distinctIds(items);
    return ops.rowDot(this.usersOf(users, this.exampleHistories), gatherBack(this.itemVectors(i.ids), i));
  }

  /** The catalogue (see catalogueCache); with --history_bag each history's user vector from its own bag, times every item's vector (one GEMM). */
  override scoreAll(batch: HistoryBatch, out?: Float32Array): Float32Array {
    this.cacheable = !this.training;
    try {
      if (!this.historyBag) return super.scoreAll(batch, out);
      const B = batch.batchSize;
      const n = this.itemNum + 1;
      const { users } = this.contexts(batch);
      const res = out !== undefined && out.length >= B * n ? out.subarray(0, B * n) : new Float32Array(B * n);
      this.inEvalMode(() =>
        withInferenceTape(() => {
          res.set(ops.linear(this.userVectors(users, historyBags(batch, this.itemNum)), this.catalogueItems(), null).data.subarray(0, B * n));
        }),
      );
      return res;
    } finally {
      this.cacheable = false;
    }
  }

  override scoreCandidates(batch: HistoryBatch, candidates: Int32Array, numCandidates: number): Float32Array {
    if (!this.historyBag) return super.scoreCandidates(batch, candidates, numCandidates);
    const { users } = this.contexts(batch);
    return this.inEvalMode(() =>
      withInferenceTape(() => {
        const perRow = this.userVectors(users, historyBags(batch, this.itemNum));
        const rows = Int32Array.from(candidates, (_, x) => Math.floor(x / numCandidates));
        const c = distinctIds(candidates);
        return ops.rowDot(ops.embedding(perRow, rows), gatherBack(this.itemVectors(c.ids), c)).data.slice();
      }),
    );
  }

  protected catalogue(users: Int32Array): CatalogueForm {
    return { terms: [[this.userVectors(users), this.catalogueItems()]], itemTerm: null, rowTerm: null };
  }

  protected get regularised(): Regularised[] {
    const { users, items } = this.features;
    return [
      ...(this.users.ids ? [{ table: this.users.ids, rowOf: 'user' } as const] : []),
      ...(this.items.ids ? [{ table: this.items.ids, rowOf: 'item' } as const] : []),
      ...(this.users.featureTable && users ? [{ table: this.users.featureTable, rowOf: 'user', features: users } as const] : []),
      ...(this.items.featureTable && items ? [{ table: this.items.featureTable, rowOf: 'item', features: items } as const] : []),
    ];
  }
}
