/**
 * TiSASRec's time-aware attention as differentiable ops, plus the per-batch layout they run on.
 *
 * The reference (TiSASRec.pytorch TimeAwareMultiHeadAttention) materialises [B, L, L, d] tensors of
 * interval embeddings. Here the interval terms go through small tables instead:
 *   Q_i · TK[r_ij]            = (Q · TKᵀ)[i, r_ij]            — a GEMM against the table, then a gather;
 *   Σ_j a_ij · TV[r_ij]       = Σ_k (Σ_{j: r_ij = k} a_ij) TV[k] — scatter the weights into buckets, one GEMM;
 * and the item / absolute-position terms are GEMMs against per-sequence key blocks
 * (k_j + absK_j, v_j + absV_j). Only the softmax, the gather and the bucket scatter are element loops
 * (kernels `timeAttentionSoftmaxForward/Backward`), O(queries × L) work with no headDim factor.
 *
 * The tables are compacted per sequence: sequence b's relation indices are renumbered 0..U_b − 1 over
 * the distinct intervals it actually has (kernel `compactRelations`), and the op receives each
 * sequence's U_b table rows (gathered from the time_span + 1 rows, and dropped out per sequence when
 * training). A sequence of length 50 has ~60 distinct clipped intervals on ML-100k instead of 257, so
 * the table GEMMs shrink accordingly.
 *
 * Queries: the layout lists, per sequence, the query rows to compute — every column (dense, as PyTorch)
 * or only the real tokens of a left-padded row (padding skipped; padded keys still take part, since
 * their position and interval embeddings differ from key to key). See Kernels (types.ts) for the
 * exact layout and masking semantics.
 */
import { getKernels, releaseBuffer, type Kernels } from '../kernels/index.js';
import { gemmBatched } from '../kernels/wasm/batched.js';
import { LossTargets } from './loss-targets.js';
import { type Rng, withRngState } from './rng.js';
import { getTape } from './tape.js';
import { type Tensor, shapeStr } from './tensor.js';

/** Which rows are queries, and their relation indices (see the kernel docs in src/kernels/types.ts). */
export interface TimeAttentionLayout {
  readonly numSeq: number;
  readonly len: number;
  /** R: query rows */
  readonly rows: number;
  readonly qStart: Int32Array;
  readonly qCount: Int32Array;
  /** [R] ≠ 0: a padding query (uniform attention over all len keys, as the reference's masked row) */
  readonly qPadded: Int32Array;
  /** [R·len] per-sequence bucket (local table row) of every (query row, key column) pair */
  readonly bucketRel: Int32Array;
  /** per sequence: first row of its table block and its number of rows U_b (blocks are consecutive) */
  readonly bucketStart: Int32Array;
  readonly bucketCount: Int32Array;
  /** Σ_b U_b: rows of the per-sequence tables */
  readonly bucketTotal: number;
}

export interface TimeAttentionOptions {
  heads: number;
  /** attention-probability dropout (applied only when training and rng is given) */
  dropout?: number;
  rng?: Rng;
  training?: boolean;
}

function checkLayout(op: string, layout: TimeAttentionLayout): void {
  const { numSeq, len, qStart, qCount, rows } = layout;
  if (qStart.length < numSeq || qCount.length < numSeq) throw new Error(`${op}: layout arrays shorter than ${numSeq}`);
  for (let b = 0; b < numSeq; b++) {
    if (qCount[b] < 0 || qCount[b] > len || qStart[b] < 0 || qStart[b] + qCount[b] > rows) {
      throw new Error(`${op}: sequence ${b} has query rows ${qStart[b]}..${qStart[b] + qCount[b]} (of ${rows}, len ${len})`);
    }
  }
}

/**
 * Query rows → dense rows: out [numSeq·len, d], where sequence b's last qCount[b] columns are its query
 * rows of x [R, d] and the other columns hold `fill` (a [d] tensor, e.g. a bias: a padded position's
 * block input is 0, so its key projection is the bias alone), or 0 when fill is null.
 */
export function unpackRows(x: Tensor, layout: TimeAttentionLayout, fill: Tensor | null): Tensor {
  const op = 'unpackRows';
  checkLayout(op, layout);
  const d = x.lastDim;
  if (x.rows !== layout.rows) throw new Error(`${op}: ${x.rows} rows, the layout has ${layout.rows}`);
  if (fill && fill.size !== d) throw new Error(`${op}: fill ${shapeStr(fill.shape)} does not match d = ${d}`);
  const { numSeq, len, qStart, qCount } = layout;
  const K = getKernels();
  const tape = getTape();
  const out = tape.output([numSeq * len, d], x, fill);
  K.unpackRows(numSeq, len, d, qStart, qCount, x.data, 0, fill ? fill.data : null, 0, out.data, 0);
  if (out.requiresGrad) {
    tape.record(() => {
      if (!out.grad) return;
      K.unpackRowsBackward(
        numSeq, len, d, qStart, qCount, out.grad, 0,
        x.requiresGrad ? tape.gradOf(x) : null, 0,
        fill?.requiresGrad ? tape.gradOf(fill) : null, 0,
      );
    });
  }
  return out;
}

const ZERO = Int32Array.of(0);
/**
 * Query rows per chunk of the key-side GEMMs on the packed path (see eachChunk in timeAwareAttention):
 * smaller chunks skip more of the masked triangle but repack the keys more often (40: ~6% less time in
 * the op than no chunks at maxlen 200, ML-100k).
 */
const KEY_CHUNK_ROWS = 40;

/**
 * TiSASRec's attention core (TimeAwareMultiHeadAttention after its three projections), per head of
 * headDim = d / heads columns, for each query row r of sequence b at column t:
 *
 *   s_j  = q_r · (kc_{b,j} + TK_b[bucketRel_rj]) / sqrt(headDim)    for keys j ≤ t (causal)
 *   A    = dropout(softmax(s))                                      (padding query: uniform over all L keys)
 *   out_r = Σ_j A_j · (vc_{b,j} + TV_b[bucketRel_rj])
 *
 * q [R, d] (query rows of the layout); kc, vc [numSeq·len, d]: keys and values of every column, with the
 * absolute-position embeddings already added (k + absK, v + absV); tk, tv [bucketTotal, d]: each
 * sequence's interval-table rows (rows bucketStart[b] … + bucketCount[b]). → [R, d].
 */
export function timeAwareAttention(
  q: Tensor, kc: Tensor, vc: Tensor, tk: Tensor, tv: Tensor, layout: TimeAttentionLayout, opts: TimeAttentionOptions,
): Tensor {
  const op = 'timeAwareAttention';
  checkLayout(op, layout);
  const { numSeq, len, rows: R, qStart, qCount, qPadded, bucketRel, bucketStart, bucketCount, bucketTotal } = layout;
  const d = q.lastDim;
  const { heads } = opts;
  if (!Number.isInteger(heads) || heads < 1 || d % heads !== 0) throw new Error(`${op}: ${heads} heads do not divide d = ${d}`);
  const hd = d / heads;
  if (q.rows !== R) throw new Error(`${op}: q has ${q.rows} rows, the layout ${R}`);
  for (const [name, t] of [['kc', kc], ['vc', vc]] as const) {
    if (t.lastDim !== d || t.rows !== numSeq * len) throw new Error(`${op}: ${name} ${shapeStr(t.shape)}, expected [${numSeq * len}, ${d}]`);
  }
  for (const [name, t] of [['tk', tk], ['tv', tv]] as const) {
    if (t.lastDim !== d || t.rows !== bucketTotal) throw new Error(`${op}: ${name} ${shapeStr(t.shape)}, expected [${bucketTotal}, ${d}]`);
  }
  if (bucketRel.length < R * len || qPadded.length < R) throw new Error(`${op}: bucketRel/qPadded shorter than the layout's ${R} rows`);
  const p = opts.training === false || !opts.rng ? 0 : (opts.dropout ?? 0);
  if (!(p >= 0 && p < 1)) throw new Error(`${op}: dropout must be in [0, 1), got ${p}`);

  const K = getKernels();
  const tape = getTape();
  const scale = 1 / Math.sqrt(hd);
  const out = tape.output([R, d], q, kc, vc, tk, tv);
  // per-sequence blocks of the [query row × bucket] arrays: sequence b at wStart[b], qCount[b] × U_b
  const wStart = new Int32Array(numSeq);
  let W = 0;
  for (let b = 0; b < numSeq; b++) {
    const U = bucketCount[b];
    if (U < 0 || bucketStart[b] < 0 || bucketStart[b] + U > bucketTotal || (qCount[b] > 0 && U < 1)) {
      throw new Error(`${op}: sequence ${b} has table rows ${bucketStart[b]}..${bucketStart[b] + U} (of ${bucketTotal})`);
    }
    wStart[b] = W;
    W += qCount[b] * U;
  }
  const RL = R * len;
  // per head: probabilities (and dropped-out weights) [R, len], bucketed weights
  const probs = tape.alloc(Math.max(1, heads * RL));
  const dropped = p > 0 ? tape.alloc(Math.max(1, heads * RL)) : probs;
  const buckets = tape.alloc(Math.max(1, heads * W));
  const scores = tape.alloc(Math.max(1, RL));
  const tq = tape.alloc(Math.max(1, W));
  // all sequences have every column as a query (dense path): one batched GEMM instead of a loop
  let uniform = true;
  for (let b = 0; b < numSeq; b++) if (qCount[b] !== len || qStart[b] !== b * len) uniform = false;

  /** for each sequence with queries: fn(b, first query row, query count, table rows, first table row, bucket block) */
  const eachSeq = (fn: (b: number, r0: number, n: number, U: number, u0: number, w0: number) => void) => {
    for (let b = 0; b < numSeq; b++) if (qCount[b] > 0) fn(b, qStart[b], qCount[b], bucketCount[b], bucketStart[b], wStart[b]);
  };
  /**
   * The query rows of a sequence (first row r0, n rows) in chunks with the keys they can see:
   * fn(first query row, rows, keys): those rows attend to keys 0 … keys − 1 only (causal; a chunk with
   * a padding query, uniform over all keys, sees all len). The key-side GEMMs of a chunk stop there,
   * which skips most of the masked upper triangle of a long sequence's [n, len] score block.
   */
  const eachChunk = (r0: number, n: number, fn: (r: number, rows: number, keys: number) => void) => {
    for (let i0 = 0; i0 < n; i0 += KEY_CHUNK_ROWS) {
      const rows = Math.min(KEY_CHUNK_ROWS, n - i0);
      let keys = len - n + i0 + rows;
      for (let r = r0 + i0; r < r0 + i0 + rows; r++) if (qPadded[r] !== 0) keys = len;
      fn(r0 + i0, rows, keys);
    }
  };

  for (let h = 0; h < heads; h++) {
    const c0 = h * hd;
    const hP = h * RL;
    const hB = h * W;
    // scores = Q_h · KC_hᵀ / sqrt(hd)   [R, len]: on the dense path one batched GEMM; else per sequence below
    if (uniform) gemmBatched(K, false, true, len, len, hd, scale, q.data, c0, d, kc.data, c0, d, 0, scores, 0, len, numSeq, len * d, len * d, len * len);
    // one pass per sequence, so that its score and probability rows are still in cache for the next GEMM
    const forward = (state: Uint32Array | null) =>
      eachSeq((b, r0, n, U, u0, w0) => {
        const kb = b * len * d + c0;
        if (!uniform) {
          eachChunk(r0, n, (r, rows, keys) => K.gemm(false, true, rows, keys, hd, scale, q.data, r * d + c0, d, kc.data, kb, d, 0, scores, r * len, len));
        }
        // tq_b = Q_b,h · TK_b,hᵀ / sqrt(hd)   [n, U_b]; then the softmax of this sequence's rows
        K.gemm(false, true, n, U, hd, scale, q.data, r0 * d + c0, d, tk.data, u0 * d + c0, d, 0, tq, w0, U);
        K.timeAttentionSoftmaxForward(
          1, len, U, ZERO, qCount.subarray(b, b + 1), qPadded.subarray(r0), scores, r0 * len, tq, w0,
          bucketRel, r0 * len, p, state, probs, hP + r0 * len, dropped, hP + r0 * len, buckets, hB + w0,
        );
        // out_b,h = A · VC_h + W · TV_h
        if (!uniform) {
          eachChunk(r0, n, (r, rows, keys) => K.gemm(false, false, rows, hd, keys, 1, dropped, hP + r * len, len, vc.data, kb, d, 0, out.data, r * d + c0, d));
          K.gemm(false, false, n, hd, U, 1, buckets, hB + w0, U, tv.data, u0 * d + c0, d, 1, out.data, r0 * d + c0, d);
        }
      });
    if (p > 0) withRngState(opts.rng!, forward);
    else forward(null);
    if (uniform) {
      gemmBatched(K, false, false, len, hd, len, 1, dropped, hP, len, vc.data, c0, d, 0, out.data, c0, d, numSeq, len * len, len * d, len * d);
      eachSeq((_b, r0, n, U, u0, w0) => K.gemm(false, false, n, hd, U, 1, buckets, hB + w0, U, tv.data, u0 * d + c0, d, 1, out.data, r0 * d + c0, d));
    }
  }

  if (out.requiresGrad) {
    tape.record(() => {
      const dy = out.grad;
      if (!dy) return;
      // inputs that need no grad get a throw-away buffer
      const gq = q.requiresGrad ? tape.gradOf(q) : tape.zeros(q.size);
      const gkc = kc.requiresGrad ? tape.gradOf(kc) : tape.zeros(kc.size);
      const gvc = vc.requiresGrad ? tape.gradOf(vc) : tape.zeros(vc.size);
      const gtk = tk.requiresGrad ? tape.gradOf(tk) : tape.zeros(tk.size);
      const gtv = tv.requiresGrad ? tape.gradOf(tv) : tape.zeros(tv.size);
      const dS = tape.alloc(Math.max(1, RL));
      const g = tape.alloc(Math.max(1, W));
      const dW = tape.alloc(Math.max(1, W));
      for (let h = 0; h < heads; h++) {
        const c0 = h * hd;
        const hP = h * RL;
        const hB = h * W;
        // dA = dOut_h · VC_hᵀ [R, len]; dVC_h += Aᵀ · dOut_h (dense path: batched; else per sequence below)
        if (uniform) {
          gemmBatched(K, false, true, len, len, hd, 1, dy, c0, d, vc.data, c0, d, 0, dS, 0, len, numSeq, len * d, len * d, len * len);
          gemmBatched(K, true, false, len, hd, len, 1, dropped, hP, len, dy, c0, d, 1, gvc, c0, d, numSeq, len * len, len * d, len * d);
        }
        eachSeq((b, r0, n, U, u0, w0) => {
          const kb = b * len * d + c0;
          if (!uniform) {
            eachChunk(r0, n, (r, rows, keys) => {
              K.gemm(false, true, rows, keys, hd, 1, dy, r * d + c0, d, vc.data, kb, d, 0, dS, r * len, len);
              K.gemm(true, false, keys, hd, rows, 1, dropped, hP + r * len, len, dy, r * d + c0, d, 1, gvc, kb, d);
            });
          }
          // g_b = dOut_b,h · TV_b,hᵀ [n, U_b]; dTV_b,h += W_bᵀ · dOut_b,h
          K.gemm(false, true, n, U, hd, 1, dy, r0 * d + c0, d, tv.data, u0 * d + c0, d, 0, g, w0, U);
          K.gemm(true, false, U, hd, n, 1, buckets, hB + w0, U, dy, r0 * d + c0, d, 1, gtv, u0 * d + c0, d);
          // dS (in place of dA; 0 past each query's keys) and its buckets dW
          K.timeAttentionSoftmaxBackward(
            1, len, U, ZERO, qCount.subarray(b, b + 1), qPadded.subarray(r0), probs, hP + r0 * len, dropped, hP + r0 * len,
            g, w0, bucketRel, r0 * len, dS, r0 * len, dW, w0,
          );
          // dQ_h += dW · TK_h / sqrt(hd); dTK_h += dWᵀ · Q_h / sqrt(hd)
          K.gemm(false, false, n, hd, U, scale, dW, w0, U, tk.data, u0 * d + c0, d, 1, gq, r0 * d + c0, d);
          K.gemm(true, false, U, hd, n, scale, dW, w0, U, q.data, r0 * d + c0, d, 1, gtk, u0 * d + c0, d);
          // dQ_h += dS · KC_h / sqrt(hd); dKC_h += dSᵀ · Q_h / sqrt(hd)
          if (!uniform) {
            eachChunk(r0, n, (r, rows, keys) => {
              K.gemm(false, false, rows, hd, keys, scale, dS, r * len, len, kc.data, kb, d, 1, gq, r * d + c0, d);
              K.gemm(true, false, keys, hd, rows, scale, dS, r * len, len, q.data, r * d + c0, d, 1, gkc, kb, d);
            });
          }
        });
        if (uniform) {
          gemmBatched(K, false, false, len, hd, len, scale, dS, 0, len, kc.data, c0, d, 1, gq, c0, d, numSeq, len * len, len * d, len * d);
          gemmBatched(K, true, false, len, hd, len, scale, dS, 0, len, q.data, c0, d, 1, gkc, c0, d, numSeq, len * len, len * d, len * d);
        }
      }
    });
  }
  return out;
}

/**
 * A growable Int32Array in the active kernels' own memory (via alloc: for the wasm backend a view of
 * its linear memory, so its kernels read the relation indices in place instead of copying them per
 * call). Reallocated when too small or when the kernels changed; the old block goes back to the
 * backend that gave it (when it can take blocks back).
 */
class KernelInts {
  private kernels: Kernels | null = null;
  private block: Float32Array | null = null;
  private ints: Int32Array = new Int32Array(0);

  get(n: number): Int32Array {
    const K = getKernels();
    if (this.ints.length < n || this.kernels !== K) {
      const size = Math.max(n, Math.ceil(this.kernels === K ? 1.25 * this.ints.length : 0), 16);
      this.release();
      const f = K.alloc(size);
      this.kernels = K;
      this.block = f;
      this.ints = new Int32Array(f.buffer, f.byteOffset, f.length);
    }
    return this.ints;
  }

  /** Hands the block back to the backend that gave it (when it can take blocks back); get() allocates anew. */
  release(): void {
    if (this.block !== null && this.kernels !== null) releaseBuffer(this.block, this.kernels);
    this.block = null;
    this.ints = new Int32Array(0);
  }
}

/**
 * The per-batch layout of a TiSASRec forward: query rows, relation indices, and (for training) the
 * loss targets. Buffers grow and are reused across batches; arrays are valid until the next build()
 * (ops recorded on a tape read them during backward, so rebuild only after that backward has run).
 *
 * - dense (`packed = false`): every column of every row is a query (R = B·L), padding queries marked
 *   (any 0 id, wherever it is, as the reference's timeline mask);
 * - packed: only the real ids of left-padded rows are queries (R = number of non-zero ids); build()
 *   returns false when some row is not left-padded.
 */
export class TimeBatchLayout implements TimeAttentionLayout {
  numSeq = 0;
  len = 0;
  numBuckets = 0;
  rows = 0;
  packed = false;
  qStart = new Int32Array(0);
  qCount = new Int32Array(0);
  qPadded = new Int32Array(0);
  /** [R·len] relation index (clipped interval, 0..time_span) of every (query row, key column) pair */
  rel: Int32Array = new Int32Array(0);
  /** [R·len] the same renumbered per sequence (see Kernels.compactRelations) */
  bucketRel: Int32Array = new Int32Array(0);
  bucketStart = new Int32Array(0);
  bucketCount = new Int32Array(0);
  bucketTotal = 0;
  /** [bucketTotal] the interval-table row behind each sequence's local bucket */
  bucketIndex = new Int32Array(0);
  /** [R] item id of each query row */
  items = new Int32Array(0);
  /** [numSeq·len] column index t of every (b, t): the reference's absolute positions */
  positions = new Int32Array(0);
  /** [numSeq] query row of each sequence's last column (−1 when the sequence has no query row) */
  lastRow = new Int32Array(0);

  /** the training targets, after buildTargets() (rows: −1 when the input is padding and has no query row) */
  readonly targets = new LossTargets();

  private bufSeq = new Int32Array(0);
  private bufRows = new Int32Array(0);
  private bufRel = new KernelInts();
  private bufBucket = new Int32Array(0);
  private bufPos = new Int32Array(0);
  private bufTimes = new Float64Array(0);

  /**
   * Lays out seqs [batchSize·len] (0 = padding). Relations come from `relations` ([batchSize·len·len],
   * the reference's time matrices, already clipped) when given, else from `times` ([batchSize·len],
   * TiSASRec's scaled times, 0 at padding) clipped at timeSpan. Returns false (packed only) when a row
   * is not left-padded.
   */
  build(
    seqs: Int32Array, batchSize: number,
    opts: { packed: boolean; timeSpan: number; times?: ArrayLike<number>; relations?: ArrayLike<number> },
  ): boolean {
    const len = seqs.length / batchSize;
    if (!Number.isInteger(len) || len < 1) throw new Error(`TimeBatchLayout: ${seqs.length} ids do not split into ${batchSize} rows`);
    const { packed, timeSpan } = opts;
    if (!Number.isInteger(timeSpan) || timeSpan < 0) throw new Error(`TimeBatchLayout: timeSpan must be an integer ≥ 0, got ${timeSpan}`);
    const B = batchSize;
    if (this.bufSeq.length < 5 * B) this.bufSeq = new Int32Array(5 * B);
    const qStart = this.bufSeq.subarray(0, B);
    const qCount = this.bufSeq.subarray(B, 2 * B);
    const lastRow = this.bufSeq.subarray(2 * B, 3 * B);
    const bucketStart = this.bufSeq.subarray(3 * B, 4 * B);
    const bucketCount = this.bufSeq.subarray(4 * B, 5 * B);
    let R = 0;
    for (let b = 0; b < B; b++) {
      const o = b * len;
      let n = len;
      if (packed) {
        let t0 = 0;
        while (t0 < len && seqs[o + t0] === 0) t0++;
        for (let t = t0 + 1; t < len; t++) if (seqs[o + t] === 0) return false;
        n = len - t0;
      }
      qStart[b] = R;
      qCount[b] = n;
      lastRow[b] = n > 0 ? R + n - 1 : -1;
      R += n;
    }
    if (this.bufRows.length < 2 * R) this.bufRows = new Int32Array(2 * Math.max(R, 16));
    const items = this.bufRows.subarray(0, R);
    const qPadded = this.bufRows.subarray(R, 2 * R);
    for (let b = 0; b < B; b++) {
      const n = qCount[b];
      const src = b * len + len - n;
      for (let i = 0; i < n; i++) {
        const id = seqs[src + i];
        items[qStart[b] + i] = id;
        qPadded[qStart[b] + i] = id === 0 ? 1 : 0;
      }
    }
    if (this.bufPos.length < B * len) this.bufPos = new Int32Array(B * len);
    const positions = this.bufPos.subarray(0, B * len);
    for (let i = 0; i < B * len; i++) positions[i] = i % len;

    const relBuf = this.bufRel.get(2 * R * len);
    const rel = relBuf.subarray(0, R * len);
    const bucketRel = relBuf.subarray(R * len, 2 * R * len);
    if (opts.relations) {
      const m = opts.relations;
      if (m.length !== B * len * len) throw new Error(`TimeBatchLayout: ${m.length} relation entries, expected ${B}·${len}·${len}`);
      for (let b = 0; b < B; b++) {
        const n = qCount[b];
        for (let i = 0; i < n; i++) {
          const t = len - n + i;
          const dst = (qStart[b] + i) * len;
          const src = (b * len + t) * len;
          for (let j = 0; j < len; j++) {
            const v = m[src + j];
            if (!(Number.isInteger(v) && v >= 0 && v <= timeSpan)) throw new Error(`TimeBatchLayout: relation ${v} at [${b}, ${t}, ${j}] is not an integer in 0..${timeSpan}`);
            rel[dst + j] = v;
          }
        }
      }
    } else {
      const t = opts.times;
      if (!t) throw new Error('TimeBatchLayout: times or relations are required');
      if (t.length !== B * len) throw new Error(`TimeBatchLayout: ${t.length} times for ${B}×${len} ids`);
      let times: Float64Array;
      if (t instanceof Float64Array) times = t;
      else {
        if (this.bufTimes.length < B * len) this.bufTimes = new Float64Array(B * len);
        times = this.bufTimes.subarray(0, B * len);
        for (let i = 0; i < B * len; i++) times[i] = t[i];
      }
      getKernels().timeRelations(B, len, qStart, qCount, times, 0, timeSpan, rel, 0);
    }
    let cap = 0;
    for (let b = 0; b < B; b++) cap += Math.min(timeSpan + 1, qCount[b] * len);
    if (this.bufBucket.length < cap) this.bufBucket = new Int32Array(Math.max(cap, 16));
    const bucketTotal = getKernels().compactRelations(B, len, timeSpan + 1, qStart, qCount, rel, 0, bucketRel, 0, bucketStart, bucketCount, this.bufBucket, 0);
    this.numSeq = B;
    this.len = len;
    this.numBuckets = timeSpan + 1;
    this.rows = R;
    this.packed = packed;
    this.qStart = qStart;
    this.qCount = qCount;
    this.qPadded = qPadded;
    this.rel = rel;
    this.bucketRel = bucketRel;
    this.bucketStart = bucketStart;
    this.bucketCount = bucketCount;
    this.bucketTotal = bucketTotal;
    this.bucketIndex = this.bufBucket.subarray(0, bucketTotal);
    this.items = items;
    this.positions = positions;
    this.lastRow = lastRow;
    this.targets.clear();
    return true;
  }

  /** Hands the kernel-side relation buffer back (see KernelInts.release); build() allocates anew. */
  dispose(): void {
    this.bufRel.release();
  }

  /**
   * The loss targets of the last built batch: every column whose positive id ≠ 0 (the reference's loss
   * mask), in flat order, with the query row that scores it (−1 when its input column is not a query row,
   * which only a packed layout can have: a target at a padding input).
   */
  buildTargets(pos: Int32Array, neg: Int32Array, negPerPos = 1): void {
    this.targets.build(pos, neg, this.numSeq, this.len, (b) => this.len - this.qCount[b], (b) => this.qStart[b], -1, 'TimeBatchLayout', negPerPos);
  }
}

