/**
 * SLIM (Ning & Karypis, "SLIM: Sparse Linear Methods for Top-N Recommender Systems", ICDM 2011):
 * â_ui = Σ_j a_uj w_ji with W ≥ 0 and diag(W) = 0, learned column by column as an elastic net:
 *
 *   min_{w_j ≥ 0, w_jj = 0}  ½‖a_j − A w_j‖² + (l2/2)‖w_j‖² + l1‖w_j‖₁
 *
 * (A: users × items 0/1, each user's set of TRAIN items; a_j: item j's column), on the Gram matrix
 * G = AᵀA (sparse, items × items). With ρ = Aᵀ(a_j − A w_j) = G_:j − G w_j, the KKT conditions are
 * ρ_i = l2·w_i + l1 where w_i > 0 and ρ_i ≤ l1 where w_i = 0; a coordinate-descent step sets
 * w_i = max(0, (ρ_i + G_ii w_i − l1) / (G_ii + l2)).
 *
 * Only items that co-occur with j more than l1 times can get a non-zero weight (ρ_i ≤ G_ij since
 * G ≥ 0 and w ≥ 0, so a coordinate with G_ij ≤ l1 never leaves 0): each column's problem is over
 * those candidates, exactly. `topk` > 0 pre-selects at most the k candidates with the largest G_ij
 * (an approximation for big catalogues: the KKT conditions then hold on that set only).
 *
 * The solver (solveColumn) is a working-set method: coordinate descent on a working set of
 * candidates (its Gram block dense), started from the 64 most co-occurring, then the KKT check of
 * every other candidate against the full problem; violators join and the solve continues, until
 * none is left. Within a working set, once two sweeps end on the same support F it jumps to the
 * exact solution on F when that is positive. A working set's solve stops when a sweep moves no
 * weight by more than tol · max|w|; --max_iter bounds the sweeps of a column in all.
 * W is kept sparse (CSR by rows, float32) and scoring is the history's indicator row times W.
 * Memory: G takes 8 bytes per non-zero (≤ Σ_u |items of u|², ≤ n²), W 8 per non-zero (≤ G's, or n·topk).
 */
import { UserError } from '../../core/errors.js';
import type { Split } from '../../data/types.js';
import type { Catalog, TaskRunner } from '../contract.js';
import {
  type ItemSets,
  ItemItemModel,
  ItemItemScorer,
  longestHistory,
  readItemItemFile,
  sniffItemItemFile,
  tensorOf,
  trainItemSets,
  trainPopularity,
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

/** Dense scratch of a column solve, itemNum+1 long: `rho` (any contents) and `pos` (all −1 on entry; left so). */
export interface ColumnScratch {
  readonly rho: Float64Array;
  readonly pos: Int32Array;
}

export function columnScratch(itemNum: number): ColumnScratch {
  return { rho: new Float64Array(itemNum + 1), pos: new Int32Array(itemNum + 1).fill(-1) };
}

/** The largest support solved directly (a dense |F|×|F| Cholesky); above it, coordinate descent alone. */
const NEWTON_MAX = 400;
/** The first working set, and the most violators added per round. */
const WORKING_START = 64;

/**
 * Column j (see the file comment), by a working-set method: coordinate descent on a working set
 * W ⊆ S (the candidates: i ≠ j with G_ij > l1, or their top k) with its Gram block dense, then the
 * KKT check of every candidate outside W against the full problem (ρ_i ≤ l1); violators join W and
 * the solve goes on from where it was, until none is left (or maxIter sweeps in all).
 */
export function solveColumn(G: SparseRows, j: number, s: SlimSettings, scratch: ColumnScratch): SlimColumn {
  const { rho, pos } = scratch;
  const a = G.indptr[j];
  const e = G.indptr[j + 1];
  let cand: number[] = [];
  for (let x = a; x < e; x++) if (G.cols[x] !== j && G.vals[x] > s.l1) cand.push(x);
  // by co-occurrence, largest first (the first working set; the top k when pre-selecting)
  cand.sort((x, y) => G.vals[y] - G.vals[x] || G.cols[x] - G.cols[y]);
  if (s.topk > 0 && cand.length > s.topk) cand = cand.slice(0, s.topk);
  const m = cand.length;
  const idx = Int32Array.from(cand, (x) => G.cols[x]);
  const g = Float64Array.from(cand, (x) => G.vals[x]);
  const wS = new Float64Array(m);
  for (let p = 0; p < m; p++) pos[idx[p]] = p;
  const ws: number[] = [];
  const inWs = new Uint8Array(m);
  for (let p = 0; p < Math.min(m, WORKING_START); p++) {
    ws.push(p);
    inWs[p] = 1;
  }
  let sweeps = 0;
  while (m > 0) {
    sweeps += solveWorkingSet(G, s, pos, idx, g, ws, wS, s.maxIter - sweeps);
    if (sweeps >= s.maxIter) break;
    // KKT outside the working set: ρ_i = G_ij − Σ_k G_ik w_k ≤ l1
    for (let p = 0; p < m; p++) rho[idx[p]] = g[p];
    for (const p of ws) {
      const wk = wS[p];
      if (wk === 0) continue;
      const i = idx[p];
      for (let y = G.indptr[i]; y < G.indptr[i + 1]; y++) rho[G.cols[y]] -= wk * G.vals[y];
    }
    const violators: number[] = [];
    for (let p = 0; p < m; p++) if (!inWs[p] && rho[idx[p]] > s.l1 * (1 + 1e-9) + 1e-9) violators.push(p);
    if (violators.length === 0) break;
    violators.sort((x, y) => rho[idx[y]] - rho[idx[x]]);
    for (const p of violators.slice(0, Math.max(WORKING_START, ws.length >> 1))) {
      ws.push(p);
      inWs[p] = 1;
    }
  }
  for (let p = 0; p < m; p++) pos[idx[p]] = -1;
  let nz = 0;
  for (let p = 0; p < m; p++) if (wS[p] > 0) nz++;
  const items = new Int32Array(nz);
  const weights = new Float64Array(nz);
  let z = 0;
  for (let p = 0; p < m; p++) {
    if (wS[p] > 0) {
      items[z] = idx[p];
      weights[z++] = wS[p];
    }
  }
  return { items, weights, sweeps };
}

/**
 * Coordinate descent on the working set (candidate positions `ws`), from and into wS, with the
 * working set's Gram block dense; returns the sweeps made (at most `budget`). After each full sweep
 * it works on the support F (the non-zero weights) alone: first the exact solution on F,
 * (G_FF + l2·I) w_F = G_Fj − l1 (a small Cholesky), taken when it is positive; else sweeps over F
 * only, keeping the residual on F alone (glmnet's active-set cycling), until they settle. The next
 * full sweep then checks every coordinate, so the stopping rule stays that of coordinate descent.
 */
function solveWorkingSet(
  G: SparseRows,
  s: SlimSettings,
  pos: Int32Array,
  idx: Int32Array,
  g: Float64Array,
  ws: number[],
  wS: Float64Array,
  budget: number,
): number {
  const k = ws.length;
  // candidate position → position in the working set (pos: item → candidate position, or −1)
  const local = new Int32Array(idx.length).fill(-1);
  ws.forEach((p, t) => {
    local[p] = t;
  });
  const M = new Float64Array(k * k);
  for (let t = 0; t < k; t++) {
    const i = idx[ws[t]];
    for (let y = G.indptr[i]; y < G.indptr[i + 1]; y++) {
      const p = pos[G.cols[y]];
      if (p >= 0 && local[p] >= 0) M[t * k + local[p]] = G.vals[y];
    }
  }
  const w = Float64Array.from(ws, (p) => wS[p]);
  const gw = Float64Array.from(ws, (p) => g[p]);
  // r = Aᵀ(a_j − A w) on the working set
  const r = new Float64Array(k);
  const residual = () => {
    r.set(gw);
    for (let u = 0; u < k; u++) {
      if (w[u] === 0) continue;
      const row = u * k;
      for (let t = 0; t < k; t++) r[t] -= M[row + t] * w[u];
    }
  };
  residual();
  const all = Int32Array.from({ length: k }, (_, t) => t);
  let sweeps = 0;
  while (sweeps < budget) {
    sweeps++;
    const full = sweep(M, k, s, w, r, all);
    if (full.maxDelta <= s.tol * full.maxW || full.maxW === 0) break;
    if (full.support.length > NEWTON_MAX) continue;
    restrictedSolve(M, k, full.support, gw, s, w);
    residual();
  }
  for (let t = 0; t < k; t++) wS[ws[t]] = w[t];
  return sweeps;
}

/** One coordinate-descent sweep over the coordinates `over`, keeping r exact; the largest move and weight, and the support. */
function sweep(
  M: Float64Array,
  k: number,
  s: SlimSettings,
  w: Float64Array,
  r: Float64Array,
  over: Int32Array,
): { maxDelta: number; maxW: number; support: Int32Array } {
  let maxDelta = 0;
  let maxW = 0;
  const support: number[] = [];
  for (const t of over) {
    const old = w[t];
    const gd = M[t * k + t];
    let nw = (r[t] + gd * old - s.l1) / (gd + s.l2);
    if (nw < 0) nw = 0;
    const d = nw - old;
    if (d !== 0) {
      w[t] = nw;
      const row = t * k;
      for (let u = 0; u < k; u++) r[u] -= d * M[row + u];
      if (Math.abs(d) > maxDelta) maxDelta = Math.abs(d);
    }
    if (nw > maxW) maxW = nw;
    if (nw > 0) support.push(t);
  }
  return { maxDelta, maxW, support: Int32Array.from(support) };
}

/**
 * The exact minimum over weights supported on F (all positive on entry), w ≥ 0 (Lawson–Hanson's inner
 * loop): solve (M_FF + l2·I) x = g_F − l1; where x is positive take it, else move from w towards x
 * until the first weight reaches 0, drop it from F and solve again. The objective falls at each step.
 */
function restrictedSolve(M: Float64Array, k: number, support: Int32Array, gw: Float64Array, s: SlimSettings, w: Float64Array): void {
  let F = support;
  while (F.length > 0) {
    const x = solveOnSupport(M, k, F, gw, s);
    let alpha = 1;
    for (let a = 0; a < F.length; a++) if (x[a] <= 0) alpha = Math.min(alpha, w[F[a]] / (w[F[a]] - x[a]));
    const kept: number[] = [];
    for (let a = 0; a < F.length; a++) {
      const t = F[a];
      const v = alpha === 1 ? x[a] : w[t] + alpha * (x[a] - w[t]);
      w[t] = v > 0 && !(alpha < 1 && x[a] <= 0 && v <= 1e-12 * Math.abs(w[t])) ? v : 0;
      if (w[t] > 0) kept.push(t);
    }
    if (alpha === 1) return;
    if (kept.length === F.length) return; // rounding kept every weight: leave the rest to the sweeps
    F = Int32Array.from(kept);
  }
}

/** x with (M_FF + l2·I) x = g_F − l1 (a dense Cholesky; M + l2·I is positive definite for l2 > 0). */
function solveOnSupport(M: Float64Array, k: number, F: Int32Array, gw: Float64Array, s: SlimSettings): Float64Array {
  const m = F.length;
  const L = new Float64Array(m * m);
  for (let a = 0; a < m; a++) for (let b = 0; b <= a; b++) L[a * m + b] = M[F[a] * k + F[b]] + (a === b ? s.l2 : 0);
  for (let c = 0; c < m; c++) {
    let d = L[c * m + c];
    for (let q = 0; q < c; q++) d -= L[c * m + q] * L[c * m + q];
    const l = Math.sqrt(Math.max(d, 1e-300));
    L[c * m + c] = l;
    for (let a = c + 1; a < m; a++) {
      let v = L[a * m + c];
      for (let q = 0; q < c; q++) v -= L[a * m + q] * L[c * m + q];
      L[a * m + c] = v / l;
    }
  }
  const x = Float64Array.from(F, (t) => gw[t] - s.l1);
  for (let a = 0; a < m; a++) {
    let v = x[a];
    for (let q = 0; q < a; q++) v -= L[a * m + q] * x[q];
    x[a] = v / L[a * m + a];
  }
  for (let a = m - 1; a >= 0; a--) {
    let v = x[a];
    for (let q = a + 1; q < m; q++) v -= L[q * m + a] * x[q];
    x[a] = v / L[a * m + a];
  }
  return x;
}

/** Scores a history with the sparse W: scores_j = Σ_{i ∈ history} w_ij (W in CSR by rows i). */
export class SlimScorer extends ItemItemScorer {
  constructor(
    readonly W: SparseRows,
    maxlen: number,
    popularity: Float32Array,
  ) {
    super(W.itemNum, maxlen, popularity);
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

/** Columns start..end−1 solved, packed for a thread's reply: per column its length and sweeps, then the pairs. */
export interface ColumnRange {
  readonly lengths: Int32Array;
  readonly sweeps: Int32Array;
  readonly items: Int32Array;
  readonly weights: Float64Array;
}

/** The task a thread runs (models/contract.ts TaskRunner): columns start..end−1 of W. */
export function solveColumnRange(input: { G: SparseRows; settings: SlimSettings }, start: number, end: number): ColumnRange {
  const scratch = columnScratch(input.G.itemNum);
  const cols: SlimColumn[] = [];
  for (let j = start; j < end; j++) cols.push(solveColumn(input.G, j, input.settings, scratch));
  let nnz = 0;
  for (const c of cols) nnz += c.items.length;
  const items = new Int32Array(nnz);
  const weights = new Float64Array(nnz);
  let at = 0;
  for (const c of cols) {
    items.set(c.items, at);
    weights.set(c.weights, at);
    at += c.items.length;
  }
  return { lengths: Int32Array.from(cols, (c) => c.items.length), sweeps: Int32Array.from(cols, (c) => c.sweeps), items, weights };
}

function unpack(range: ColumnRange): SlimColumn[] {
  const out: SlimColumn[] = [];
  let at = 0;
  for (let c = 0; c < range.lengths.length; c++) {
    const l = range.lengths[c];
    out.push({ items: range.items.subarray(at, at + l), weights: range.weights.subarray(at, at + l), sweeps: range.sweeps[c] });
    at += l;
  }
  return out;
}

/** Columns per task handed to a thread: small enough to balance uneven columns, large enough to amortise a message. */
const COLUMNS_PER_TASK = 32;

/**
 * W from the training split, column by column: on `tasks`' threads when given (the columns are
 * independent, so the result is the same), else here. `log` gets progress lines.
 */
export async function fitSlim(split: Split, settings: SlimSettings, log?: (line: string) => void, tasks?: TaskRunner): Promise<SlimScorer> {
  const n = split.data.itemNum;
  const sets = trainItemSets(split);
  const G = gramMatrix(sets);
  const t0 = Date.now();
  let last = t0;
  const progress = (done: number) => {
    const now = Date.now();
    if (log && (now - last > 10_000 || done === n)) {
      last = now;
      log(`SLIM: column ${done}/${n}, ${((now - t0) / 1000).toFixed(1)} s`);
    }
  };
  const columns: SlimColumn[] = [{ items: new Int32Array(0), weights: new Float64Array(0), sweeps: 0 }];
  if (tasks && tasks.threads > 1 && n > COLUMNS_PER_TASK) {
    const ranges: Array<[number, number]> = [];
    for (let j = 1; j <= n; j += COLUMNS_PER_TASK) ranges.push([j, Math.min(n + 1, j + COLUMNS_PER_TASK)]);
    const parts = await tasks.run<ColumnRange>(import.meta.url, 'solveColumnRange', { G, settings }, ranges, (done) =>
      progress(done === ranges.length ? n : done * COLUMNS_PER_TASK),
    );
    for (const p of parts) columns.push(...unpack(p));
  } else {
    const scratch = columnScratch(n);
    for (let j = 1; j <= n; j++) {
      columns.push(solveColumn(G, j, settings, scratch));
      progress(j);
    }
  }
  let sweeps = 0;
  let capped = 0;
  for (let j = 1; j <= n; j++) {
    sweeps += columns[j].sweeps;
    if (columns[j].sweeps >= settings.maxIter) capped++;
  }
  const W = rowsFromColumns(n, columns);
  log?.(
    `SLIM: ${W.cols.length} non-zero weights (${(W.cols.length / Math.max(1, n)).toFixed(1)} per item), ` +
      `${(sweeps / Math.max(1, n)).toFixed(1)} sweeps per column, ${capped} columns stopped at --max_iter`,
  );
  return new SlimScorer(W, longestHistory(split), trainPopularity(sets));
}

/** SLIM with its catalogue. */
export class SlimModel extends ItemItemModel<SlimScorer> {
  readonly name = 'slim';

  constructor(
    scorer: SlimScorer,
    readonly settings: SlimSettings,
    catalog: Catalog,
  ) {
    super(scorer, catalog, 'SLIM', 'W');
  }

  static async fit(split: Split, settings: SlimSettings, log?: (line: string) => void, tasks?: TaskRunner): Promise<SlimModel> {
    const d = split.data;
    return new SlimModel(await fitSlim(split, settings, log, tasks), settings, { items: d.items, users: d.users, histories: d.seqs });
  }

  describe(): Record<string, unknown> {
    return { model: 'slim', ...this.settings, itemNum: this.scorer.itemNum, nonZeros: this.scorer.nonZeros };
  }

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
      { name: 'popularity', shape: [n + 1], data: this.scorer.popularity },
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
    const pop = tensorOf(f, 'popularity', [n + 1], 'SLIM');
    return new SlimModel(new SlimScorer({ itemNum: n, indptr, cols, vals }, f.maxlen, pop), settings, f.catalog);
  }
}

export function looksLikeSlim(bytes: Uint8Array): boolean {
  return sniffItemItemFile(bytes, SLIM_FORMAT);
}
