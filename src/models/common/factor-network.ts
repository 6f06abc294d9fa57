/**
 * What the shallow baselines of the SASRec paper's Table III share (BPR-MF, FMC, FPMC, TransRec):
 * tables of user and item vectors, and a score s(u, l, i) of the next item i for user u after the
 * previous item l given by a formula over them. Each model adds its tables and its formula; this base
 * trains and scores them.
 *
 * Training (S-BPR, Rendle et al. 2009/2010): every real position of a TrainSampler row is one example
 * (u = the row's user, l = the input item there, i = the next item `pos`, j = its sampled negative):
 *
 *   loss = (1/M) Σ_m [ −ln σ(s(u, l, i) − s(u, l, j)) + λ Σ_{θ ∈ Θ_m} θ² ]
 *
 * or, pointwise (`negatives` K ≥ 1 in the config: NCF's log loss, He et al. 2017), with K sampled
 * negatives j_1..j_K per position and the mean over the M·(1 + K) labelled pairs:
 *
 *   loss = 1/(M(1+K)) Σ_m [ −ln σ(s(u, l, i)) − Σ_k ln(1 − σ(s(u, l, j_k))) ] + (λ/M) Σ_m Σ_{θ ∈ Θ_m} θ²
 *
 * over the M real positions of the batch, Θ_m being the rows of the regularised tables that example m
 * reads (its user's, its previous item's, the rows of i and j; for a model over side features, the rows
 * of their features as well): the per-sample L2 term of the papers'
 * stochastic gradient ascent, LearnBPR / LearnSBPR (λ = l2_reg), here in mini-batch form.
 *
 * Scoring a HistoryBatch: u = users[b] (0 for a history of no known user, and for an id the model does
 * not have: every user table's row 0 is zero and never trained, so the user's part of a score is 0 and,
 * for TransRec, the translation is the global one), l = the history's last item (0 for an empty history: likewise a zero row). Candidates are
 * scored by the model's formula itself; the whole catalogue by the same scores rearranged as
 * Σ_k ⟨q_k(u, l), W_k[i]⟩ + c_i + r(u, l) (one GEMM per term; see CatalogueForm).
 */
import { bagSum } from '../../engine/bag-ops.js';
import * as ops from '../../engine/ops.js';
import type { Rng } from '../../engine/rng.js';
import { getTape, withInferenceTape } from '../../engine/tape.js';
import type { Parameter, Tensor } from '../../engine/tensor.js';
import type { TrainBatch } from '../../data/types.js';
import type { HistoryBatch, Scorer } from '../../eval/types.js';
import { getKernels } from '../../kernels/index.js';
import { bprLoss, softplusSum } from '../../engine/loss-ops.js';
import { Module } from '../../nn/module.js';
import { type FeatureRows, featureReads } from './feature-rows.js';
import { negativesPerPosition, networkRngs, type NetworkOptions } from './next-item-network.js';

export type { NetworkOptions } from './next-item-network.js';

/** A factor model's sizes (the option names, camelCase). */
export interface FactorConfig {
  itemNum: number;
  /** users 1..userNum (a model without a user table ignores it) */
  userNum: number;
  /** training rows hold each user's last maxlen transitions; a history is cut to its last maxlen items */
  maxlen: number;
  /** d: the latent dimension of every table */
  hiddenUnits: number;
  /** λ of the per-example L2 term */
  l2Reg: number;
  /** K ≥ 1: trained pointwise by BCE with K sampled negatives per positive; absent or 0: S-BPR with one */
  negatives?: number;
}

/** Whose row of a table an example reads: its user's, its previous item's, or its next and negative items'. */
export type RowOf = 'user' | 'previous' | 'item';

/**
 * A table under the per-example L2 term, and which of an example's rows it holds: the rows of its
 * user's, previous item's or items' ids, or, with `features`, the rows of the features those ids have
 * (a feature table: each feature an example reads counts once, whatever its weight x_f, as libFM's SGD
 * regularises every parameter of a non-zero x_f).
 */
export interface Regularised {
  readonly table: Parameter;
  readonly rowOf: RowOf;
  readonly features?: FeatureRows;
}

/**
 * The scores of every item for B contexts, s[b, i] = Σ_k ⟨query_k[b], items_k[i]⟩ + itemTerm[i] +
 * rowTerm[b]: the model's formula, expanded so that the catalogue is a few GEMMs.
 */
export interface CatalogueForm {
  /** pairs (query [B, D_k], items [itemNum + 1, D_k]) */
  readonly terms: ReadonlyArray<readonly [Tensor, Tensor]>;
  /** [itemNum + 1], or null */
  readonly itemTerm: Tensor | null;
  /** [B], or null */
  readonly rowTerm: Tensor | null;
}

/** Random normal values (std) into a table, its row 0 (padding or the unknown user) left zero. */
export function normalRows(table: Parameter, rng: Rng, std: number): void {
  const d = table.shape.length > 1 ? table.shape[1] : 1;
  for (let i = d; i < table.size; i++) table.data[i] = std * rng.normal();
}

/** The mean of rows 1..n of a table's data [n + 1, d] (summed in float64), the rows flagged in `skip` left out. */
export function meanOfRows(data: Float32Array, d: number, n: number, skip?: Uint8Array): Float64Array {
  const mean = new Float64Array(d);
  let count = 0;
  for (let r = 1; r <= n; r++) {
    if (skip?.[r]) continue;
    count++;
    for (let k = 0; k < d; k++) mean[k] += data[r * d + k];
  }
  if (count > 0) for (let k = 0; k < d; k++) mean[k] /= count;
  return mean;
}

/** A per-item (or per-user) scalar table [n] gathered at ids → [ids.length]. */
export function gatherScalars(table: Tensor, ids: Int32Array): Tensor {
  return ops.reshape(ops.embedding(ops.reshape(table, [table.size, 1]), ids), [ids.length]);
}

/** The rows of a 2-D table, or of a 1-D one as [n, 1]. */
function rowsOf(table: Parameter, ids: Int32Array): Tensor {
  return ops.embedding(asRows(table), ids);
}

function asRows(table: Parameter): Tensor {
  return table.shape.length === 1 ? ops.reshape(table, [table.size, 1]) : table;
}

/** Σ_θ θ² over the rows the examples `ids` read of a table: their ids' rows, or their features' (each read counted). */
function l2Term({ table, features }: Regularised, ids: Int32Array): Tensor {
  if (!features) return ops.sumSquares(rowsOf(table, ids));
  const rows = asRows(table);
  return ops.reshape(bagSum(ops.rowDot(rows, rows), featureReads(features, ids)), []);
}

/** A factor model over items 1..itemNum (and users 1..userNum when it has user tables). */
export abstract class FactorNetwork extends Module implements Scorer {
  readonly itemNum: number;
  /** users 1..userNum; 0 for a model without a user table */
  readonly userNum: number;
  readonly maxlen: number;
  readonly hiddenUnits: number;
  readonly l2Reg: number;
  /** K of the pointwise loss (0: S-BPR) */
  readonly negatives: number;
  /** the contract's dropout stream: these models draw nothing from it (kept so runs resume alike) */
  readonly dropoutRng: Rng;
  /** the initialisation stream (subclasses draw their tables from it in their constructor) */
  protected readonly initRng: Rng;
  /** the users training never reads (forgetIds), their id rows kept at the trained users' mean */
  private heldOutUsers = new Int32Array(0);

  /**
   * @param what the model's name in errors
   * @param personal whether the model has user tables (else users are ignored and userNum is 0)
   */
  protected constructor(what: string, config: FactorConfig, opts: NetworkOptions, personal: boolean) {
    super();
    for (const k of ['itemNum', 'maxlen', 'hiddenUnits'] as const) {
      if (!(Number.isInteger(config[k]) && config[k] >= 1)) throw new Error(`${what}: ${k} must be an integer ≥ 1, got ${config[k]}`);
    }
    if (personal && !(Number.isInteger(config.userNum) && config.userNum >= 1)) {
      throw new Error(`${what}: userNum must be an integer ≥ 1, got ${config.userNum}`);
    }
    if (!(config.l2Reg >= 0)) throw new Error(`${what}: l2Reg must be ≥ 0, got ${config.l2Reg}`);
    this.itemNum = config.itemNum;
    this.userNum = personal ? config.userNum : 0;
    this.maxlen = config.maxlen;
    this.hiddenUnits = config.hiddenUnits;
    this.l2Reg = config.l2Reg;
    const negatives = config.negatives ?? 0;
    if (!(Number.isInteger(negatives) && negatives >= 0)) throw new Error(`${what}: negatives must be an integer ≥ 0, got ${config.negatives}`);
    this.negatives = negatives;
    const { rng, dropoutRng } = networkRngs(opts);
    this.initRng = rng;
    this.dropoutRng = dropoutRng;
  }

  /** Whether scores read HistoryBatch.users (evaluation on a dataset then gives each user the model's id of it). */
  get usesUsers(): boolean {
    return this.userNum > 0;
  }

  /** The model's formula: s(users[m], prevs[m], items[m]) for m < M → [M], on the current tape. */
  abstract scores(users: Int32Array, prevs: Int32Array, items: Int32Array): Tensor;

  /** The same scores for every item 0..itemNum after B contexts (on the inference tape). */
  protected abstract catalogue(users: Int32Array, prevs: Int32Array): CatalogueForm;

  /** The tables under the per-example L2 term. */
  protected abstract get regularised(): readonly Regularised[];

  /**
   * Zeroes the rows of `users` and `items` in the id tables (those under the L2 term, feature tables
   * aside): ids training never reads (a cold-start split's held-out ones) then score from their side
   * features rather than from random initial vectors. A held-out user's id rows then follow the mean
   * of the trained users' rows (set before every training step): every known user's vector carries a
   * component all users share (what makes popular items score high for anyone), and a zero row would
   * drop it for exactly the users who have nothing else.
   */
  forgetIds(users: Int32Array, items: Int32Array): void {
    for (const { table, rowOf, features } of this.regularised) {
      if (features) continue;
      const d = table.shape.length > 1 ? table.shape[1] : 1;
      for (const id of rowOf === 'user' ? users : items) table.data.fill(0, id * d, (id + 1) * d);
    }
    this.heldOutUsers = users.slice();
  }

  /** Sets each held-out user's id rows to the mean of the other users' rows (1..userNum). */
  private followTrainedUsers(): void {
    if (this.heldOutUsers.length === 0) return;
    const held = new Uint8Array(this.userNum + 1);
    for (const u of this.heldOutUsers) held[u] = 1;
    const trained = this.userNum - this.heldOutUsers.length;
    if (trained <= 0) return;
    for (const { table, rowOf, features } of this.regularised) {
      if (rowOf !== 'user' || features) continue;
      const d = table.shape.length > 1 ? table.shape[1] : 1;
      const mean = meanOfRows(table.data, d, this.userNum, held);
      for (const u of this.heldOutUsers) for (let k = 0; k < d; k++) table.data[u * d + k] = mean[k];
    }
  }

  /**
   * The S-BPR loss of a TrainSampler batch (one negative per position), or the pointwise BCE with K
   * negatives per position, + the per-example L2 term, averaged over the batch's real positions (0
   * when it has none).
   */
  loss(batch: Pick<TrainBatch, 'batchSize' | 'maxlen' | 'users' | 'seqs' | 'pos' | 'neg' | 'negatives' | 'sharedNegatives'>): Tensor {
    const K = Math.max(1, this.negatives);
    if (negativesPerPosition(batch) !== K) {
      throw new Error(`FactorNetwork.loss: the batch must have ${K} negative${K === 1 ? '' : 's'} per position, got ${negativesPerPosition(batch)}`);
    }
    const { batchSize: B, maxlen: L } = batch;
    let M = 0;
    for (let i = 0; i < B * L; i++) if (batch.pos[i] !== 0) M++;
    const users = new Int32Array(M);
    const prevs = new Int32Array(M);
    const items = new Int32Array((1 + K) * M); // next items, then K negatives of each
    let m = 0;
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < L; t++) {
        const p = b * L + t;
        if (batch.pos[p] === 0) continue;
        users[m] = batch.users[b];
        prevs[m] = batch.seqs[p];
        items[m] = batch.pos[p];
        for (let k = 0; k < K; k++) items[M + k * M + m] = batch.neg[p * K + k];
        m++;
      }
    }
    this.followTrainedUsers();
    const first = this.parameters()[0];
    if (M === 0) return ops.scale(ops.sumSquares(first), 0);
    const pos = this.scores(users, prevs, items.subarray(0, M));
    const repeat = (ids: Int32Array) => {
      const out = new Int32Array(K * M);
      for (let k = 0; k < K; k++) out.set(ids, k * M);
      return out;
    };
    const neg = K === 1 ? this.scores(users, prevs, items.subarray(M)) : this.scores(repeat(users), repeat(prevs), items.subarray(M));
    const loss =
      this.negatives === 0 ? bprLoss(pos, neg, 1 / M) : ops.add(softplusSum(pos, -1, 1 / ((1 + K) * M)), softplusSum(neg, 1, 1 / ((1 + K) * M)));
    return this.withL2(loss, { user: users, previous: prevs, item: items }, M);
  }

  /** loss + (λ/M) Σ over the rows of the regularised tables that the examples' ids read (λ = l2_reg). */
  protected withL2(loss: Tensor, ids: Record<RowOf, Int32Array>, M: number): Tensor {
    let out = loss;
    if (this.l2Reg !== 0) for (const r of this.regularised) out = ops.add(out, ops.scale(l2Term(r, ids[r.rowOf]), this.l2Reg / M));
    return out;
  }

  /**
   * Each history's user and last item (0 for an empty history). A user id the model does not have
   * (outside 1..userNum) is scored as the unknown user 0, as a new user's history would be.
   */
  protected contexts(batch: HistoryBatch): { users: Int32Array; prevs: Int32Array } {
    const { batchSize: B, seqs } = batch;
    const L = seqs.length / B;
    if (!Number.isInteger(L) || L < 1) throw new Error(`${this.constructor.name}: ${seqs.length} ids for batch ${B}`);
    const users = new Int32Array(B);
    const prevs = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      prevs[b] = seqs[b * L + L - 1];
      const u = batch.users[b];
      users[b] = u >= 1 && u <= this.userNum ? u : 0;
    }
    return { users, prevs };
  }

  scoreCandidates(batch: HistoryBatch, candidates: Int32Array, numCandidates: number): Float32Array {
    const B = batch.batchSize;
    const C = numCandidates;
    if (candidates.length !== B * C) throw new Error(`scoreCandidates: ${candidates.length} candidates for ${B}×${C}`);
    const { users, prevs } = this.contexts(batch);
    const u = new Int32Array(B * C);
    const l = new Int32Array(B * C);
    for (let b = 0; b < B; b++) {
      u.fill(users[b], b * C, (b + 1) * C);
      l.fill(prevs[b], b * C, (b + 1) * C);
    }
    return this.inEvalMode(() => withInferenceTape(() => this.scores(u, l, candidates).data.slice()));
  }

  scoreAll(batch: HistoryBatch, out?: Float32Array): Float32Array {
    const B = batch.batchSize;
    const n = this.itemNum + 1;
    const { users, prevs } = this.contexts(batch);
    return this.inEvalMode(() =>
      withInferenceTape(() => {
        const form = this.catalogue(users, prevs);
        const dst = out !== undefined && out.length >= B * n ? out.subarray(0, B * n) : undefined;
        const scores = dst ?? getTape().alloc(B * n);
        const k = getKernels();
        if (form.terms.length === 0) k.fill(B * n, 0, scores, 0);
        form.terms.forEach(([q, w], t) => {
          const D = q.lastDim;
          if (q.rows !== B || w.rows !== n || w.lastDim !== D) throw new Error(`${this.constructor.name}: catalogue term ${t} has the wrong shape`);
          k.gemm(false, true, B, n, D, 1, q.data, 0, D, w.data, 0, D, t === 0 ? 0 : 1, scores, 0, n);
        });
        if (form.itemTerm) k.addBias(B, n, form.itemTerm.data, 0, scores, 0);
        if (form.rowTerm) {
          // scores += rowTerm ⊗ 1 (a rank-1 update)
          const ones = getTape().alloc(n);
          k.fill(n, 1, ones, 0);
          k.gemm(false, true, B, n, 1, 1, form.rowTerm.data, 0, 1, ones, 0, 1, 1, scores, 0, n);
        }
        return dst ?? scores.slice();
      }),
    );
  }
}
