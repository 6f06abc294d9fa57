/**
 * SLIM (Ning & Karypis, "SLIM: Sparse Linear Methods for Top-N Recommender Systems", ICDM 2011):
 * â_ui = Σ_j a_uj w_ji with W ≥ 0 and diag(W) = 0, learned column by column as an elastic net:
 *
 *   min_{w_j ≥ 0, w_jj = 0}  ½‖a_j − A w_j‖² + (l2/2)‖w_j‖² + l1‖w_j‖₁
 *
 * (A: users × items 0/1, each user's set of TRAIN items; a_j: item j's column). Cyclic coordinate
 * descent on the Gram matrix G = AᵀA (sparse, items × items): with ρ = Aᵀ(a_j − A w_j) = G_:j − G w_j,
 * coordinate i moves to max(0, (ρ_i + G_ii w_i − l1) / (G_ii + l2)) and ρ −= δ · G_:i.
 *
 * Only items that co-occur with j more than l1 times can get a non-zero weight (ρ_i ≤ G_ij since
 * G ≥ 0 and w ≥ 0, so a coordinate with G_ij ≤ l1 never leaves 0): each column's problem is over
 * that set, exactly. `topk` > 0 pre-selects at most the k items with the largest G_ij (an
 * approximation for big catalogues: the KKT conditions then hold on that set only).
 *
 * A column stops when a sweep moves no weight by more than tol · max|w| (or after maxIter sweeps).
 * W is kept sparse (CSR by rows, float32) and scoring is the history's indicator row times W.
 * Memory: G takes 8 bytes per non-zero (≤ Σ_u |items of u|², ≤ n²), W 8 per non-zero (≤ G's, or n·topk).
 */
import { UserError } from '../../core/errors.js';
import type { Split } from '../../data/types.js';
import type { Catalog, Model } from '../contract.js';
import {
  type ItemSets,
  ItemItemScorer,
  longestHistory,
  readItemItemFile,
  sniffItemItemFile,
  tensorOf,
  trainItemSets,
  writeItemItemFile,
} from '../common/item-item.js';

export const SLIM_FORMAT = 'seqrec-slim';

export interface SlimSettings {
  readonly l1: number;
  readonly l2: number;
  readonly maxIter: number;
  readonly tol: number;
  /** 0: every co-occurring item; k > 0: the k most co-occurring items per column */
  readonly topk: number;
}

/** A sparse symmetric item-item matrix in CSR (rows 0..itemNum, 1-based ids; row 0 empty), columns sorted. */
export interface SparseRows {
  readonly itemNum: number;
  readonly indptr: Float64Array;
  readonly cols: Int32Array;
  readonly vals: Float32Array;
}

/** Σ_u |items of u|²: an upper bound on the non-zeros of AᵀA (the memory check reads it before building G). */
export function gramNonZerosBound(sets: ItemSets): number {
  let s = 0;
  for (let r = 0; r < sets.rows; r++) {
    const m = sets.indptr[r + 1] - sets.indptr[r];
    s += m * m;
  }
  return Math.min(s, sets.itemNum * sets.itemNum);
}

/** G = AᵀA (co-occurrence counts, diagonal = item counts). */
export function gramMatrix(sets: ItemSets): SparseRows {
  const n = sets.itemNum;
  // item → users (transpose of A)
  const ucount = new Int32Array(n + 2);
  for (let x = 0; x < sets.items.length; x++) ucount[sets.items[x] + 1]++;
  for (let i = 0; i <= n; i++) ucount[i + 1] += ucount[i];
  const uptr = Int32Array.from(ucount);
  const byItem = new Int32Array(sets.items.length);
  const fill = Int32Array.from(ucount);
  for (let r = 0; r < sets.rows; r++) for (let x = sets.indptr[r]; x < sets.indptr[r + 1]; x++) byItem[fill[sets.items[x]]++] = r;
  const acc = new Float64Array(n + 1);
  const touched: number[] = [];
  const indptr = new Float64Array(n + 2);
  const colParts: Int32Array[] = [];
  const valParts: Float32Array[] = [];
  let nnz = 0;
  for (let i = 0; i <= n; i++) {
    touched.length = 0;
    for (let y = uptr[i]; y < uptr[i + 1]; y++) {
      const r = byItem[y];
      for (let x = sets.indptr[r]; x < sets.indptr[r + 1]; x++) {
        const j = sets.items[x];
        if (acc[j] === 0) touched.push(j);
        acc[j] += 1;
      }
    }
    touched.sort((a, b) => a - b);
    const c = Int32Array.from(touched);
    const v = new Float32Array(c.length);
    for (let t = 0; t < c.length; t++) {
      v[t] = acc[c[t]];
      acc[c[t]] = 0;
    }
    colParts.push(c);
    valParts.push(v);
    nnz += c.length;
    indptr[i + 1] = nnz;
  }
  const cols = new Int32Array(nnz);
  const vals = new Float32Array(nnz);
  let at = 0;
  for (let i = 0; i <= n; i++) {
    cols.set(colParts[i], at);
    vals.set(valParts[i], at);
    at += colParts[i].length;
  }
  return { itemNum: n, indptr, cols, vals };
}

/** One column's solution: the (item, weight) pairs with weight > 0, and the sweeps it took. */
export interface SlimColumn {
  readonly items: Int32Array;
  readonly weights: Float64Array;
  readonly sweeps: number;
}

/**
 * Coordinate descent for column j (see the file comment). `rho` and `w` are the caller's dense
 * scratch of itemNum+1 float64s (w must be all zero on entry and is left all zero).
 */
export function solveColumn(G: SparseRows, j: number, s: SlimSettings, rho: Float64Array, w: Float64Array): SlimColumn {
  const a = G.indptr[j];
  const e = G.indptr[j + 1];
  // the active set: i ≠ j with G_ij > l1 (optionally the topk largest)
  let active: number[] = [];
  for (let x = a; x < e; x++) {
    const i = G.cols[x];
    if (i !== j && G.vals[x] > s.l1) active.push(x);
  }
  if (s.topk > 0 && active.length > s.topk) {
    active.sort((x, y) => G.vals[y] - G.vals[x] || G.cols[x] - G.cols[y]);
    active = active.slice(0, s.topk);
  }
  const idx = Int32Array.from(active, (x) => G.cols[x]);
  const diag = new Float64Array(idx.length);
  for (let t = 0; t < idx.length; t++) {
    const i = idx[t];
    rho[i] = G.vals[active[t]];
    diag[t] = diagonal(G, i);
  }
  let sweeps = 0;
  for (; sweeps < s.maxIter && idx.length > 0; ) {
    sweeps++;
    let maxDelta = 0;
    let maxW = 0;
    for (let t = 0; t < idx.length; t++) {
      const i = idx[t];
      const old = w[i];
      const g = diag[t];
      let nw = (rho[i] + g * old - s.l1) / (g + s.l2);
      if (nw < 0) nw = 0;
      const d = nw - old;
      if (d !== 0) {
        w[i] = nw;
        for (let y = G.indptr[i]; y < G.indptr[i + 1]; y++) rho[G.cols[y]] -= d * G.vals[y];
        if (Math.abs(d) > maxDelta) maxDelta = Math.abs(d);
      }
      if (nw > maxW) maxW = nw;
    }
    if (maxDelta <= s.tol * maxW || maxW === 0) break;
  }
  let nz = 0;
  for (let t = 0; t < idx.length; t++) if (w[idx[t]] > 0) nz++;
  const items = new Int32Array(nz);
  const weights = new Float64Array(nz);
  let z = 0;
  for (let t = 0; t < idx.length; t++) {
    const i = idx[t];
    if (w[i] > 0) {
      items[z] = i;
      weights[z++] = w[i];
    }
    w[i] = 0;
  }
  return { items, weights, sweeps };
}

function diagonal(G: SparseRows, i: number): number {
  // binary search for column i in row i
  let lo = G.indptr[i];
  let hi = G.indptr[i + 1] - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = G.cols[mid];
    if (c === i) return G.vals[mid];
    if (c < i) lo = mid + 1;
    else hi = mid - 1;
  }
  return 0;
}

/** Scores a history with the sparse W: scores_j = Σ_{i ∈ history} w_ij (W in CSR by rows i). */
export class SlimScorer extends ItemItemScorer {
  constructor(
    readonly W: SparseRows,
    maxlen: number,
  ) {
    super(W.itemNum, maxlen);
  }

  /** w_ij (1-based ids; 0 where not stored). */
  weight(i: number, j: number): number {
    for (let y = this.W.indptr[i]; y < this.W.indptr[i + 1]; y++) if (this.W.cols[y] === j) return this.W.vals[y];
    return 0;
  }

  get nonZeros(): number {
    return this.W.cols.length;
  }

  protected addRow(i: number, out: Float32Array, off: number): void {
    const { indptr, cols, vals } = this.W;
    for (let y = indptr[i]; y < indptr[i + 1]; y++) out[off + cols[y]] += vals[y];
  }
}

/** W from the columns' solutions: CSR by rows (row i holds w_ij for every column j). */
function rowsFromColumns(n: number, columns: SlimColumn[]): SparseRows {
  const count = new Float64Array(n + 2);
  for (let j = 1; j <= n; j++) for (const i of columns[j].items) count[i + 1]++;
  for (let i = 0; i <= n; i++) count[i + 1] += count[i];
  const nnz = count[n + 1];
  const cols = new Int32Array(nnz);
  const vals = new Float32Array(nnz);
  const fill = Float64Array.from(count);
  for (let j = 1; j <= n; j++) {
    const c = columns[j];
    for (let t = 0; t < c.items.length; t++) {
      const p = fill[c.items[t]]++;
      cols[p] = j;
      vals[p] = c.weights[t];
    }
  }
  return { itemNum: n, indptr: count.subarray(0, n + 2), cols, vals };
}

/** W from the training split, column by column. `log` gets progress lines. */
export function fitSlim(split: Split, settings: SlimSettings, log?: (line: string) => void): SlimScorer {
  const n = split.data.itemNum;
  const G = gramMatrix(trainItemSets(split));
  const rho = new Float64Array(n + 1);
  const w = new Float64Array(n + 1);
  const columns: SlimColumn[] = [{ items: new Int32Array(0), weights: new Float64Array(0), sweeps: 0 }];
  const t0 = Date.now();
  let last = t0;
  let sweeps = 0;
  let capped = 0;
  for (let j = 1; j <= n; j++) {
    const c = solveColumn(G, j, settings, rho, w);
    columns.push(c);
    sweeps += c.sweeps;
    if (c.sweeps >= settings.maxIter) capped++;
    const now = Date.now();
    if (log && (now - last > 10_000 || j === n)) {
      last = now;
      log(`SLIM: column ${j}/${n}, ${((now - t0) / 1000).toFixed(1)} s`);
    }
  }
  const W = rowsFromColumns(n, columns);
  log?.(
    `SLIM: ${W.cols.length} non-zero weights (${(W.cols.length / Math.max(1, n)).toFixed(1)} per item), ` +
      `${(sweeps / Math.max(1, n)).toFixed(1)} sweeps per column, ${capped} columns stopped at --max_iter`,
  );
  return new SlimScorer(W, longestHistory(split));
}

/** SLIM with its catalogue. */
export class SlimModel implements Model {
  readonly name = 'slim';
  readonly items: Catalog['items'];
  readonly users: Catalog['users'];
  readonly histories: Catalog['histories'];

  constructor(
    readonly scorer: SlimScorer,
    readonly settings: SlimSettings,
    catalog: Catalog,
  ) {
    if (catalog.items.toRaw.length !== scorer.itemNum + 1) {
      throw new Error(`SLIM: item map has ${catalog.items.toRaw.length - 1} items, W ${scorer.itemNum}`);
    }
    this.items = catalog.items;
    this.users = catalog.users;
    this.histories = catalog.histories;
  }

  static fit(split: Split, settings: SlimSettings, log?: (line: string) => void): SlimModel {
    const d = split.data;
    return new SlimModel(fitSlim(split, settings, log), settings, { items: d.items, users: d.users, histories: d.seqs });
  }

  describe(): Record<string, unknown> {
    return { model: 'slim', ...this.settings, itemNum: this.scorer.itemNum, nonZeros: this.scorer.nonZeros };
  }

  dispose(): void {}

  serialize(): Uint8Array {
    const { W } = this.scorer;
    const n = W.itemNum;
    // row lengths, column ids and values: all exact in float32 (ids and lengths < 2^24)
    const rowLengths = new Float32Array(n + 1);
    for (let i = 0; i <= n; i++) rowLengths[i] = W.indptr[i + 1] - W.indptr[i];
    return writeItemItemFile(SLIM_FORMAT, { ...this.settings }, this.scorer.maxlen, this, [
      { name: 'W.row_lengths', shape: [n + 1], data: rowLengths },
      { name: 'W.cols', shape: [W.cols.length], data: Float32Array.from(W.cols) },
      { name: 'W.values', shape: [W.vals.length], data: W.vals },
    ]);
  }

  static parse(bytes: Uint8Array): SlimModel {
    const f = readItemItemFile(bytes, SLIM_FORMAT, 'SLIM');
    const n = f.catalog.items.toRaw.length - 1;
    const lengths = tensorOf(f, 'W.row_lengths', [n + 1], 'SLIM');
    const colsF = tensorOf(f, 'W.cols', [-1], 'SLIM');
    const vals = tensorOf(f, 'W.values', [colsF.length], 'SLIM');
    const indptr = new Float64Array(n + 2);
    for (let i = 0; i <= n; i++) indptr[i + 1] = indptr[i] + lengths[i];
    if (indptr[n + 1] !== colsF.length) throw new UserError(`SLIM model file: row lengths sum to ${indptr[n + 1]}, ${colsF.length} weights`);
    const cols = Int32Array.from(colsF);
    for (const c of cols) if (!(c >= 1 && c <= n)) throw new UserError(`SLIM model file: column ${c} outside 1..${n}`);
    const c = f.config;
    const settings: SlimSettings = { l1: Number(c.l1), l2: Number(c.l2), maxIter: Number(c.maxIter), tol: Number(c.tol), topk: Number(c.topk) };
    return new SlimModel(new SlimScorer({ itemNum: n, indptr, cols, vals }, f.maxlen), settings, f.catalog);
  }
}

export function looksLikeSlim(bytes: Uint8Array): boolean {
  return sniffItemItemFile(bytes, SLIM_FORMAT);
}
