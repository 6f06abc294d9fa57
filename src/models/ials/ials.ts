/**
 * iALS: matrix factorisation of implicit feedback by alternating least squares (Hu, Koren & Volinsky,
 * "Collaborative Filtering for Implicit Feedback Datasets", ICDM 2008), in the formulation of Rendle,
 * Krichene, Zhang & Koren, "Revisiting the Performance of iALS on Item Recommendation Benchmarks"
 * (RecSys 2022):
 *
 *   L(W, H) = Σ_{(u,i) ∈ S} (ŷ_ui − 1)²  +  α0 Σ_u Σ_i ŷ_ui²
 *             + λ ( Σ_u (|I_u| + α0·|I|)^ν ‖w_u‖²  +  Σ_i (|U_i| + α0·|U|)^ν ‖h_i‖² ),     ŷ_ui = ⟨w_u, h_i⟩
 *
 * S is the set of (user, item) pairs of the TRAIN split (a repeated item counts once), α0 the weight of
 * every pair (observed or not) pulled towards 0, λ the regularisation scaled by each row's frequency
 * with exponent ν (ν = 0: plain L2; ν = 1: the paper's recommendation).
 *
 * With H fixed, the loss is a quadratic in each w_u alone, minimised by the normal equations
 *
 *   (α0·G + Σ_{i ∈ I_u} h_i h_iᵀ + λ_u·I) w_u = Σ_{i ∈ I_u} h_i,     G = Hᵀ H (the Gramian, shared by every user)
 *
 * solved exactly by a d×d Cholesky factorisation (kernels/linalg.ts); items likewise with W fixed. A
 * sweep (users, then items) costs O(|S|·d² + (|U| + |I|)·d³); the loss never increases.
 *
 * Scoring: a known user (HistoryBatch.users, the model's dense id) is scored by w_u; a history of no
 * known user (user 0, an ad-hoc history) is folded in: w is the users' half-step solved on the
 * history's distinct items, so iALS serves new histories without refitting.
 */
import type { Split } from '../../data/types.js';
import type { Rng } from '../../engine/rng.js';
import type { HistoryBatch, Scorer } from '../../eval/types.js';
import { choleskySolveInPlace } from '../../kernels/linalg.js';
import type { Catalog, Model } from '../contract.js';
import {
  type ItemSets,
  longestHistory,
  readItemItemFile,
  sniffItemItemFile,
  tensorOf,
  trainItemSets,
  writeItemItemFile,
} from '../common/item-item.js';
import { UserError } from '../../core/errors.js';

export const IALS_FORMAT = 'seqrec-ials';

/** The loss's weights (what scoring a new history needs too). */
export interface IalsWeights {
  /** λ */
  readonly reg: number;
  /** α0: the weight of every (user, item) pair towards 0 */
  readonly alpha: number;
  /** ν: the exponent of the frequency scaling of λ */
  readonly regExponent: number;
}

export interface IalsSettings extends IalsWeights {
  /** d */
  readonly factors: number;
  /** sweeps (users, then items) */
  readonly iters: number;
  /** σ: the initial factors are N(0, σ²/d) */
  readonly initStd: number;
}

/** Row r of a d-column table (1-based rows; row 0 stays zero). */
function rowOffset(r: number, d: number): number {
  return r * d;
}

/** Fᵀ F over rows 1..n of F (float64 d×d, both triangles). */
export function gramian(f: ArrayLike<number>, n: number, d: number): Float64Array {
  const g = new Float64Array(d * d);
  for (let r = 1; r <= n; r++) {
    const o = rowOffset(r, d);
    for (let a = 0; a < d; a++) {
      const fa = f[o + a];
      if (fa === 0) continue;
      const ga = a * d;
      for (let b = 0; b <= a; b++) g[ga + b] += fa * f[o + b];
    }
  }
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) g[b * d + a] = g[a * d + b];
  return g;
}

/** The scratch of one row's solve, reused across rows. */
export interface RowSolver {
  readonly d: number;
  readonly a: Float64Array;
  readonly x: Float64Array;
}

export function rowSolver(d: number): RowSolver {
  return { d, a: new Float64Array(d * d), x: new Float64Array(d) };
}

/**
 * The exact minimiser x of Σ_{j ∈ rows} (⟨x, f_j⟩ − 1)² + α0·xᵀG x + λ·(count + α0·n)^ν ‖x‖², where
 * `rows` = rows[from..to) of the fixed table f (d columns), G = its Gramian and n its rows (the other
 * side's size). The result is left in s.x.
 */
export function solveRow(
  s: RowSolver,
  g: Float64Array,
  f: ArrayLike<number>,
  rows: ArrayLike<number>,
  from: number,
  to: number,
  n: number,
  w: IalsWeights,
): Float64Array {
  const { d, a, x } = s;
  for (let k = 0; k < d * d; k++) a[k] = w.alpha * g[k];
  x.fill(0);
  for (let p = from; p < to; p++) {
    const o = rowOffset(rows[p], d);
    for (let i = 0; i < d; i++) {
      const fi = f[o + i];
      x[i] += fi;
      const ai = i * d;
      for (let j = 0; j <= i; j++) a[ai + j] += fi * f[o + j];
    }
  }
  const lambda = w.reg * (to - from + w.alpha * n) ** w.regExponent;
  for (let i = 0; i < d; i++) a[i * d + i] += lambda;
  choleskySolveInPlace(d, a, x);
  return x;
}

/** One half-step: every row 1..rows of `out` solved against the fixed table (CSR `sets`: row r's partners). */
export function solveSide(sets: ItemSets, fixed: Float64Array, fixedRows: number, out: Float64Array, d: number, w: IalsWeights): void {
  const g = gramian(fixed, fixedRows, d);
  const s = rowSolver(d);
  for (let r = 1; r < sets.rows; r++) {
    const x = solveRow(s, g, fixed, sets.items, sets.indptr[r], sets.indptr[r + 1], fixedRows, w);
    out.set(x, rowOffset(r, d));
  }
}

/** The transpose of the users' sets: each item's users (rows 0..itemNum, row 0 empty). */
export function transposeSets(sets: ItemSets): ItemSets {
  const n = sets.itemNum;
  const indptr = new Int32Array(n + 2);
  for (let x = 0; x < sets.items.length; x++) indptr[sets.items[x] + 1]++;
  for (let i = 0; i <= n; i++) indptr[i + 1] += indptr[i];
  const users = new Int32Array(sets.items.length);
  const at = indptr.slice(0, n + 1);
  for (let u = 0; u < sets.rows; u++) {
    for (let x = sets.indptr[u]; x < sets.indptr[u + 1]; x++) users[at[sets.items[x]]++] = u;
  }
  return { rows: n + 1, itemNum: sets.rows - 1, indptr, items: users };
}

/** The loss L(W, H) of the file comment, split into its fit and regularisation parts. */
export function ialsObjective(
  sets: ItemSets,
  byItem: ItemSets,
  W: ArrayLike<number>,
  H: ArrayLike<number>,
  d: number,
  w: IalsWeights,
): { fit: number; reg: number } {
  const U = sets.rows - 1;
  const N = sets.itemNum;
  const g = gramian(H, N, d);
  let fit = 0;
  let reg = 0;
  for (let u = 1; u <= U; u++) {
    const ou = rowOffset(u, d);
    let quad = 0;
    let norm = 0;
    for (let a = 0; a < d; a++) {
      const wa = W[ou + a];
      norm += wa * wa;
      let t = 0;
      for (let b = 0; b < d; b++) t += g[a * d + b] * W[ou + b];
      quad += wa * t;
    }
    fit += w.alpha * quad;
    for (let x = sets.indptr[u]; x < sets.indptr[u + 1]; x++) {
      const oi = rowOffset(sets.items[x], d);
      let y = 0;
      for (let a = 0; a < d; a++) y += W[ou + a] * H[oi + a];
      fit += (y - 1) * (y - 1);
    }
    reg += (sets.indptr[u + 1] - sets.indptr[u] + w.alpha * N) ** w.regExponent * norm;
  }
  for (let i = 1; i <= N; i++) {
    const oi = rowOffset(i, d);
    let norm = 0;
    for (let a = 0; a < d; a++) norm += H[oi + a] * H[oi + a];
    reg += (byItem.indptr[i + 1] - byItem.indptr[i] + w.alpha * U) ** w.regExponent * norm;
  }
  return { fit, reg: w.reg * reg };
}

/** What the fit gives: the factor tables (float64, row 0 zero) and the loss after each sweep. */
export interface IalsFactors {
  readonly users: Float64Array;
  readonly items: Float64Array;
  readonly losses: number[];
}

/** The alternating sweeps over the training split (see the file comment); `log` gets one line per sweep. */
export function alternate(split: Split, settings: IalsSettings, rng: Rng, log?: (line: string) => void): IalsFactors {
  const d = settings.factors;
  const sets = trainItemSets(split);
  const byItem = transposeSets(sets);
  const U = split.data.userNum;
  const N = split.data.itemNum;
  const W = new Float64Array((U + 1) * d);
  const H = new Float64Array((N + 1) * d);
  const std = settings.initStd / Math.sqrt(d);
  for (let k = d; k < W.length; k++) W[k] = std * rng.normal();
  for (let k = d; k < H.length; k++) H[k] = std * rng.normal();
  const losses: number[] = [];
  const t0 = Date.now();
  for (let t = 1; t <= settings.iters; t++) {
    solveSide(sets, H, N, W, d, settings);
    solveSide(byItem, W, U, H, d, settings);
    const { fit, reg } = ialsObjective(sets, byItem, W, H, d, settings);
    losses.push(fit + reg);
    log?.(
      `iALS: iteration ${t}/${settings.iters}, loss ${(fit + reg).toPrecision(6)} (fit ${fit.toPrecision(6)}, reg ${reg.toPrecision(6)}), ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
  return { users: W, items: H, losses };
}

/** Scores a history by ⟨w, h_i⟩: w = its user's factors, or folded in from its items for no known user. */
export class IalsScorer implements Scorer {
  readonly usesUsers = true;
  /** G = Hᵀ H, for folding in a new history */
  private readonly gram: Float64Array;
  private readonly solver: RowSolver;

  constructor(
    /** W: [(userNum + 1)·d], row 0 zero */
    readonly userFactors: Float32Array,
    /** H: [(itemNum + 1)·d], row 0 zero */
    readonly itemFactors: Float32Array,
    readonly factors: number,
    readonly userNum: number,
    readonly itemNum: number,
    readonly maxlen: number,
    readonly weights: IalsWeights,
  ) {
    const d = factors;
    if (userFactors.length !== (userNum + 1) * d) throw new Error(`iALS: ${userFactors.length} user factors for ${userNum} users × ${d}`);
    if (itemFactors.length !== (itemNum + 1) * d) throw new Error(`iALS: ${itemFactors.length} item factors for ${itemNum} items × ${d}`);
    this.gram = gramian(itemFactors, itemNum, d);
    this.solver = rowSolver(d);
  }

  /** The user vector of history b (a view of W, or the folded-in vector). */
  userVector(batch: HistoryBatch, b: number): ArrayLike<number> {
    const d = this.factors;
    const u = batch.users[b];
    if (u >= 1 && u <= this.userNum) return this.userFactors.subarray(u * d, (u + 1) * d);
    const L = batch.maxlen;
    const seen = new Set<number>();
    for (let t = 0; t < L; t++) {
      const i = batch.seqs[b * L + t];
      if (i >= 1 && i <= this.itemNum) seen.add(i);
    }
    const items = Int32Array.from(seen);
    return solveRow(this.solver, this.gram, this.itemFactors, items, 0, items.length, this.userNum, this.weights).slice();
  }

  private score(w: ArrayLike<number>, item: number): number {
    const d = this.factors;
    const o = item * d;
    let s = 0;
    for (let a = 0; a < d; a++) s += w[a] * this.itemFactors[o + a];
    return s;
  }

  scoreCandidates(batch: HistoryBatch, candidates: Int32Array, numCandidates: number): Float32Array {
    const out = new Float32Array(batch.batchSize * numCandidates);
    for (let b = 0; b < batch.batchSize; b++) {
      const w = this.userVector(batch, b);
      for (let c = 0; c < numCandidates; c++) {
        const j = candidates[b * numCandidates + c];
        out[b * numCandidates + c] = j >= 1 && j <= this.itemNum ? this.score(w, j) : 0;
      }
    }
    return out;
  }

  scoreAll(batch: HistoryBatch, out?: Float32Array): Float32Array {
    const N1 = this.itemNum + 1;
    const n = batch.batchSize * N1;
    const res = out && out.length >= n ? out.subarray(0, n) : new Float32Array(n);
    for (let b = 0; b < batch.batchSize; b++) {
      const w = this.userVector(batch, b);
      res[b * N1] = 0;
      for (let j = 1; j < N1; j++) res[b * N1 + j] = this.score(w, j);
    }
    return res;
  }
}

function settingsMetadata(s: IalsSettings): Record<string, unknown> {
  return { factors: s.factors, reg: s.reg, alpha: s.alpha, reg_exponent: s.regExponent, iters: s.iters, init_std: s.initStd };
}

/** iALS with its catalogue: what `eval` and `recommend` need. */
export class IalsModel implements Model {
  readonly name = 'ials';
  readonly items: Catalog['items'];
  readonly users: Catalog['users'];
  readonly histories: Catalog['histories'];

  constructor(
    readonly scorer: IalsScorer,
    readonly settings: IalsSettings,
    catalog: Catalog,
  ) {
    if (catalog.items.toRaw.length !== scorer.itemNum + 1)
      throw new Error(`iALS: item map has ${catalog.items.toRaw.length - 1} items, H ${scorer.itemNum}`);
    this.items = catalog.items;
    this.users = catalog.users;
    this.histories = catalog.histories;
  }

  static fit(split: Split, settings: IalsSettings, rng: Rng, log?: (line: string) => void): IalsModel {
    const f = alternate(split, settings, rng, log);
    const d = split.data;
    const scorer = new IalsScorer(
      Float32Array.from(f.users),
      Float32Array.from(f.items),
      settings.factors,
      d.userNum,
      d.itemNum,
      longestHistory(split),
      settings,
    );
    return new IalsModel(scorer, settings, { items: d.items, users: d.users, histories: d.seqs });
  }

  describe(): Record<string, unknown> {
    return { model: 'ials', ...settingsMetadata(this.settings), userNum: this.scorer.userNum, itemNum: this.scorer.itemNum };
  }

  dispose(): void {}

  serialize(): Uint8Array {
    const s = this.scorer;
    return writeItemItemFile(IALS_FORMAT, settingsMetadata(this.settings), s.maxlen, this, [
      { name: 'user_factors', shape: [s.userNum + 1, s.factors], data: s.userFactors },
      { name: 'item_factors', shape: [s.itemNum + 1, s.factors], data: s.itemFactors },
    ]);
  }

  static parse(bytes: Uint8Array): IalsModel {
    const f = readItemItemFile(bytes, IALS_FORMAT, 'iALS');
    const n = f.catalog.items.toRaw.length - 1;
    if (!f.catalog.users) throw new UserError('iALS model file: metadata "user_ids" is missing');
    const userNum = f.catalog.users.toRaw.length - 1;
    const c = f.config;
    const setting = (key: string, ok: (v: number) => boolean): number => {
      const v = c[key];
      if (typeof v !== 'number' || !ok(v)) throw new UserError(`iALS model file: metadata "config": ${key} is ${JSON.stringify(v)}`);
      return v;
    };
    const settings: IalsSettings = {
      factors: setting('factors', (v) => Number.isInteger(v) && v >= 1),
      reg: setting('reg', (v) => v > 0 && Number.isFinite(v)),
      alpha: setting('alpha', (v) => v >= 0 && Number.isFinite(v)),
      regExponent: setting('reg_exponent', (v) => v >= 0 && Number.isFinite(v)),
      iters: setting('iters', (v) => Number.isInteger(v) && v >= 1),
      initStd: setting('init_std', (v) => v >= 0 && Number.isFinite(v)),
    };
    const d = settings.factors;
    const W = tensorOf(f, 'user_factors', [userNum + 1, d], 'iALS');
    const H = tensorOf(f, 'item_factors', [n + 1, d], 'iALS');
    for (const [name, t] of [
      ['user_factors', W],
      ['item_factors', H],
    ] as const) {
      if (!t.every(Number.isFinite)) throw new UserError(`iALS model file: tensor "${name}" has a value that is not finite`);
    }
    return new IalsModel(new IalsScorer(W, H, d, userNum, n, f.maxlen, settings), settings, f.catalog);
  }
}

export function looksLikeIals(bytes: Uint8Array): boolean {
  return sniffItemItemFile(bytes, IALS_FORMAT);
}
