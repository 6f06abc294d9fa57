/**
 * The hot loops behind the ops. Ops call these and never care which backend runs them:
 * `reference/` is plain TypeScript (the ground truth in tests), the WebAssembly SIMD backend
 * implements the same interface and falls back to the reference for anything it lacks.
 * All matrices are row-major Float32Arrays addressed by (array, offset, leading dimension).
 *
 * Conventions for the functions below:
 * - `n` counts elements, `rows × cols` (or `rows × dim`) a row-major block starting at the offset.
 * - "writes" overwrites the output; "accumulates" adds into it (backward passes accumulate, so a
 *   tensor used twice gets the sum of both gradients).
 * - Inputs and outputs of element-wise kernels may be the same array at the same offset (in place).
 * - Integer index arrays are Int32Array; an index equal to `skipIndex` (or to 0 where a kernel masks
 *   by "id ≠ 0") is skipped. Pass -1 as skipIndex to skip nothing.
 * - Reductions returning a number accumulate in float64 in the reference; a fast backend may use
 *   float32 pairwise/blocked sums.
 * - Random numbers (dropout) come from a xoshiro128** state of four uint32 words (`Rng.getState()`
 *   layout), which the kernel advances in place: u = nextU32() / 2^32, exactly as `Rng.nextFloat()`.
 *   Backends should draw in the documented order so that a seeded run is identical on every backend.
 */
export interface Kernels {
  readonly name: string;
  /** A float32 buffer the backend computes on fastest (wasm: a view into its linear memory). */
  alloc(length: number): Float32Array;
  /**
   * C = alpha · op(A) · op(B) + beta · C, with op(A) of shape M×K and op(B) of shape K×N.
   * transA: A is stored K×M; transB: B is stored N×K. beta = 0 ignores C's old contents (even NaN).
   */
  gemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    A: Float32Array, aOff: number, lda: number,
    B: Float32Array, bOff: number, ldb: number,
    beta: number, C: Float32Array, cOff: number, ldc: number,
  ): void;
  /**
   * `batch` independent GEMMs of one shape (e.g. every sequence × head of attention) in one call:
   * matrix t reads A at aOff + t·strideA, B at bOff + t·strideB and updates C at cOff + t·strideC
   * (strides in elements, ≥ 0; a stride of 0 shares that operand, e.g. one weight for every item).
   * Same semantics as `gemm` per matrix. Optional until every backend has it (the wasm backend
   * always does); without it, loop over `gemm`.
   */
  gemmBatched?(
    transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    A: Float32Array, aOff: number, lda: number,
    B: Float32Array, bOff: number, ldb: number,
    beta: number, C: Float32Array, cOff: number, ldc: number,
    batch: number, strideA: number, strideB: number, strideC: number,
  ): void;

  // ---- element-wise -------------------------------------------------------------------------
  /** x[i] = value (writes). */
  fill(n: number, value: number, x: Float32Array, xOff: number): void;
  /** out[i] = a[i] + b[i] (writes). */
  add(n: number, a: Float32Array, aOff: number, b: Float32Array, bOff: number, out: Float32Array, outOff: number): void;
  /** y[i] += alpha · x[i] (accumulates). */
  axpy(n: number, alpha: number, x: Float32Array, xOff: number, y: Float32Array, yOff: number): void;
  /** out[i] = alpha · x[i] (writes). */
  scale(n: number, alpha: number, x: Float32Array, xOff: number, out: Float32Array, outOff: number): void;
  /** out[i] = a[i] · b[i] (writes). */
  mul(n: number, a: Float32Array, aOff: number, b: Float32Array, bOff: number, out: Float32Array, outOff: number): void;
  /** out[i] += a[i] · b[i] (accumulates). */
  mulAcc(n: number, a: Float32Array, aOff: number, b: Float32Array, bOff: number, out: Float32Array, outOff: number): void;
  /** out[i] = max(x[i], 0) (writes). */
  relu(n: number, x: Float32Array, xOff: number, out: Float32Array, outOff: number): void;
  /** dx[i] += y[i] > 0 ? dy[i] : 0, where y is relu's output (accumulates). */
  reluBackward(n: number, y: Float32Array, yOff: number, dy: Float32Array, dyOff: number, dx: Float32Array, dxOff: number): void;
  /**
   * Exact (erf-based) GELU, PyTorch's default: out[i] = x·Φ(x) with Φ(x) = ½·erfc(−x/√2), the standard
   * normal CDF (writes). The reference evaluates erfc to a relative error below 1.2e-7 (float32 level).
   */
  geluForward(n: number, x: Float32Array, xOff: number, out: Float32Array, outOff: number): void;
  /** dx[i] += dy[i] · (Φ(x[i]) + x[i]·φ(x[i])), φ the standard normal density (accumulates; geluForward's backward). */
  geluBackward(n: number, x: Float32Array, xOff: number, dy: Float32Array, dyOff: number, dx: Float32Array, dxOff: number): void;
  /**
   * Inverted dropout. For i = 0..n-1 in order: u = next uniform from `rngState`;
   * mask[i] = u < p ? 0 : 1/(1-p); out[i] = x[i] · mask[i] (writes mask and out). Advances rngState by n draws.
   */
  dropout(
    n: number, p: number, rngState: Uint32Array,
    x: Float32Array, xOff: number, mask: Float32Array, maskOff: number, out: Float32Array, outOff: number,
  ): void;

  // ---- rows ---------------------------------------------------------------------------------
  /** out[r, c] += bias[c] for a rows × cols block (accumulates; adds the bias of a linear layer). */
  addBias(rows: number, cols: number, bias: Float32Array, biasOff: number, out: Float32Array, outOff: number): void;
  /** out[c] += Σ_r x[r, c] (accumulates; a bias gradient). */
  colSumAcc(rows: number, cols: number, x: Float32Array, xOff: number, out: Float32Array, outOff: number): void;
  /** out[i] = Σ_k a[i, k] · b[i, k] for n rows of length dim (writes). */
  rowDot(n: number, dim: number, a: Float32Array, aOff: number, b: Float32Array, bOff: number, out: Float32Array, outOff: number): void;
  /** y[i, k] += s[i] · x[i, k] for n rows of length dim (accumulates; rowDot's backward). */
  rowScaleAcc(n: number, dim: number, s: Float32Array, sOff: number, x: Float32Array, xOff: number, y: Float32Array, yOff: number): void;
  /**
   * out[i, :] = x[i, :] · min(1, maxNorm / ‖x[i, :]‖₂) for n rows of length dim (writes): each row
   * projected into the L2 ball of radius maxNorm (a row inside it is unchanged).
   */
  rowNormClipForward(n: number, dim: number, maxNorm: number, x: Float32Array, xOff: number, out: Float32Array, outOff: number): void;
  /**
   * rowNormClipForward's backward (accumulates into dx): dx = dy for a row inside the ball, else
   * (maxNorm / ‖x‖) · (dy − x̂ (x̂ · dy)) with x̂ = x / ‖x‖.
   */
  rowNormClipBackward(
    n: number, dim: number, maxNorm: number, x: Float32Array, xOff: number, dy: Float32Array, dyOff: number, dx: Float32Array, dxOff: number,
  ): void;
  /** out[i, :] = alpha · table[idx[i], :] for i < n, rows of length dim (writes; embedding lookup). */
  gatherRows(
    n: number, dim: number, table: Float32Array, tableOff: number, idx: Int32Array, idxOff: number,
    alpha: number, out: Float32Array, outOff: number,
  ): void;
  /** dTable[idx[i], :] += alpha · dOut[i, :] for i < n with idx[i] ≠ skipIndex (accumulates; embedding backward). */
  scatterAddRows(
    n: number, dim: number, dOut: Float32Array, dOutOff: number, idx: Int32Array, idxOff: number,
    alpha: number, skipIndex: number, dTable: Float32Array, dTableOff: number,
  ): void;

  /**
   * out[m·K + k] = f[m, :] · table[idx[m·K + k], :] for m < M, k < K, rows of length dim (writes): each
   * row's scores against its own K rows of a table, without gathering them (sampled negatives).
   */
  gatherDot(
    M: number, K: number, dim: number, f: Float32Array, fOff: number, table: Float32Array, tableOff: number,
    idx: Int32Array, idxOff: number, out: Float32Array, outOff: number,
  ): void;
  /**
   * gatherDot's backward (accumulates): df[m, :] += Σ_k dy[m·K + k] · table[idx[m·K + k], :], and
   * dTable[idx[m·K + k], :] += dy[m·K + k] · f[m, :] where idx[m·K + k] ≠ skipIndex, in order m, k.
   * df or dTable may be null (not needed).
   */
  gatherDotBackward(
    M: number, K: number, dim: number, f: Float32Array, fOff: number, table: Float32Array, tableOff: number,
    idx: Int32Array, idxOff: number, dy: Float32Array, dyOff: number, skipIndex: number,
    df: Float32Array | null, dfOff: number, dTable: Float32Array | null, dTableOff: number,
  ): void;

  // ---- normalisation ------------------------------------------------------------------------
  /**
   * LayerNorm over the last dim of a rows × dim block (biased variance, as PyTorch):
   * out = (x − mean) · rstd · gamma + beta, rstd = 1/sqrt(var + eps). Writes out, and mean[r], rstd[r]
   * (saved for the backward).
   */
  layerNormForward(
    rows: number, dim: number, x: Float32Array, xOff: number,
    gamma: Float32Array, gammaOff: number, beta: Float32Array, betaOff: number, eps: number,
    out: Float32Array, outOff: number, mean: Float32Array, rstd: Float32Array, statOff: number,
  ): void;
  /**
   * LayerNorm backward (accumulates). With xhat = (x − mean)·rstd and g = dy·gamma:
   * dx += rstd · (g − mean(g) − xhat · mean(g·xhat)); dGamma += Σ_r dy·xhat; dBeta += Σ_r dy.
   * Any of dx, dGamma, dBeta may be null (not needed).
   */
  layerNormBackward(
    rows: number, dim: number, x: Float32Array, xOff: number, gamma: Float32Array, gammaOff: number,
    mean: Float32Array, rstd: Float32Array, statOff: number, dy: Float32Array, dyOff: number,
    dx: Float32Array | null, dxOff: number, dGamma: Float32Array | null, dGammaOff: number,
    dBeta: Float32Array | null, dBetaOff: number,
  ): void;

  // ---- attention ----------------------------------------------------------------------------
  /**
   * The softmax of bidirectional attention for one (sequence, head) block, between the two GEMMs
   * that compute its scores and its output (engine/bidirectional-attention.ts). `x` holds rows × cols
   * scores (row-major, already scaled) on entry and the probabilities P on return (in place): row r's
   * softmax over the columns c whose keyMask[maskOff + c] is 0 (keyMask null: every column); masked
   * columns get P = 0, and a row with every column masked is all 0. With dropP > 0 and rngState
   * non-null, writes A = P · dropout mask into `dropped` (otherwise A = P, dropped is not written and
   * the caller passes the same buffer). Dropout draws: for r, for each unmasked c in order, one
   * uniform u; A = u < dropP ? 0 : P/(1 − dropP).
   */
  attentionSoftmaxForward(
    rows: number, cols: number, x: Float32Array, xOff: number, keyMask: Uint8Array | null, maskOff: number,
    dropP: number, rngState: Uint32Array | null, dropped: Float32Array, droppedOff: number,
  ): void;
  /**
   * attentionSoftmaxForward's backward, in place: on entry dA [rows × cols] holds the gradient of A;
   * on return the gradient of the scores, dS_c = A_c·dA_c − P_c · Σ_c' A_c'·dA_c' (writes). P = probs,
   * A = dropped (the same buffer without dropout).
   */
  attentionSoftmaxBackward(
    rows: number, cols: number, probs: Float32Array, probsOff: number, dropped: Float32Array, droppedOff: number,
    dA: Float32Array, dAOff: number,
  ): void;
  /**
   * Causal multi-head scaled-dot-product attention, as torch.nn.MultiheadAttention's core.
   * Rows are (b, t) pairs, row index b·len + t; q, k, v rows have stride `ldIn` (they may be the three
   * column blocks of one packed [rows, 3d] in_proj output), head h reads columns h·headDim…(h+1)·headDim−1.
   * For each b, h, query i: s_j = (q_i · k_j)/sqrt(headDim) for j ≤ i (keys j > i are masked out),
   * P_ij = softmax_j(s), A_ij = P_ij · dropout mask, out_i = Σ_{j≤i} A_ij v_j.
   * Writes out [rows, ldOut] (columns h·headDim…), probs P and dropped A, both laid out
   * [batch, heads, len, len] (entries j > i are written as 0). With dropP = 0 (or rngState null) A is not
   * written and the caller passes the same buffer for both.
   * Dropout draws: for b, for h, for i, for j = 0..i, one uniform u; A_ij = u < dropP ? 0 : P_ij/(1−dropP).
   */
  causalAttentionForward(
    batch: number, len: number, heads: number, headDim: number,
    q: Float32Array, qOff: number, k: Float32Array, kOff: number, v: Float32Array, vOff: number, ldIn: number,
    dropP: number, rngState: Uint32Array | null,
    probs: Float32Array, probsOff: number, dropped: Float32Array, droppedOff: number,
    out: Float32Array, outOff: number, ldOut: number,
  ): void;
  /**
   * Backward of causalAttentionForward (accumulates into dq, dk, dv, which have row stride ldGrad).
   * With dA = dOut·vᵀ: dv += Aᵀ·dOut; dS = A∘dA − P∘rowsum(A∘dA) (this equals the softmax backward of
   * the dropped-out probabilities, since A = P∘mask); dq += dS·k/sqrt(headDim); dk += dSᵀ·q/sqrt(headDim).
   */
  causalAttentionBackward(
    batch: number, len: number, heads: number, headDim: number,
    q: Float32Array, qOff: number, k: Float32Array, kOff: number, v: Float32Array, vOff: number, ldIn: number,
    probs: Float32Array, probsOff: number, dropped: Float32Array, droppedOff: number,
    dOut: Float32Array, dOutOff: number, ldOut: number,
    dq: Float32Array, dqOff: number, dk: Float32Array, dkOff: number, dv: Float32Array, dvOff: number, ldGrad: number,
  ): void;

  /**
   * Causal multi-head attention over PACKED rows: the real (non-padding) tokens of left-padded
   * sequences, stored contiguously, plus one shared padding row (see the model's padding-skip path).
   * q, k, v rows have stride ldIn (e.g. the q | k | v column blocks of one [rows, 3d] projection);
   * head h reads columns h·headDim…(h+1)·headDim−1; out has row stride ldOut (columns h·headDim…).
   *
   * Segment s (0 ≤ s < numSeg) is n = segLen[s] consecutive query rows starting at row segStart[s],
   * preceded by segPad[s] = p virtual padding positions that all carry the row padRow. Query i of
   * segment s (row r0 + i, r0 = segStart[s]) attends to:
   *  - when p > 0, one padding key: score s_P = (q_i · k_padRow)/sqrt(headDim) + ln(p), value v_padRow
   *    (exactly p identical keys merged into one: softmax weight p·e^{q·k}/Z);
   *  - the segment's keys j = 0..i (rows r0 + j): score s_j = (q_i · k_{r0+j})/sqrt(headDim).
   * P = softmax over those scores, A = P · dropout mask, out_i = A_P·v_P + Σ_j A_j·v_{r0+j}.
   * When p = 0 the padding key is absent (P_P = A_P = 0) and padRow is not read (it may be −1).
   * The shared padding row itself is given as its own segment (n = 1, p = 0): it attends only to itself.
   *
   * probs / dropped layout ("triangles"): segment s owns heads · n(n+3)/2 floats starting at
   * heads · Σ_{s'<s} n_{s'}(n_{s'}+3)/2; inside it head h starts at h · n(n+3)/2 and query i's row at
   * i(i+3)/2 with i + 2 entries: [P_P, P_0, …, P_i]. Writes probs P (and dropped A when dropP > 0 and
   * rngState is non-null; otherwise the caller passes the same buffer for both and A is not written).
   * Dropout draws: for s, for h, for i: first the padding slot (only when p > 0), then j = 0..i, one
   * uniform u each; A_j = u < dropP ? 0 : P_j/(1−dropP). The padding slot stands for p copies that the
   * dense reference drops one by one, so its u draws the kept count k ~ Binomial(p, 1 − dropP) (inverse
   * CDF; p = 1: u < dropP drops) and A_P = P_P · k/(p(1−dropP)) — the reference's distribution of the
   * dropped padding weight, exactly (reference/attention.ts, paddingKeepFactor).
   */
  packedCausalAttentionForward(
    numSeg: number, heads: number, headDim: number,
    segStart: Int32Array, segLen: Int32Array, segPad: Int32Array, padRow: number,
    q: Float32Array, qOff: number, k: Float32Array, kOff: number, v: Float32Array, vOff: number, ldIn: number,
    dropP: number, rngState: Uint32Array | null,
    probs: Float32Array, probsOff: number, dropped: Float32Array, droppedOff: number,
    out: Float32Array, outOff: number, ldOut: number,
  ): void;
  /**
   * Backward of packedCausalAttentionForward (accumulates into dq, dk, dv, row stride ldGrad; the
   * padding key's gradients go to row padRow of dk and dv, summed over every query that sees it).
   * Per query, over its keys κ ∈ {P (when p > 0), 0..i}: dA_κ = dOut_i · v_κ; dv_κ += A_κ · dOut_i;
   * dS_κ = (A_κ·dA_κ − P_κ · Σ_κ' A_κ'·dA_κ') / sqrt(headDim); dq_i += Σ_κ dS_κ · k_κ; dk_κ += dS_κ · q_i.
   * (ln(p) is a constant of the score, so it has no gradient.)
   */
  packedCausalAttentionBackward(
    numSeg: number, heads: number, headDim: number,
    segStart: Int32Array, segLen: Int32Array, segPad: Int32Array, padRow: number,
    q: Float32Array, qOff: number, k: Float32Array, kOff: number, v: Float32Array, vOff: number, ldIn: number,
    probs: Float32Array, probsOff: number, dropped: Float32Array, droppedOff: number,
    dOut: Float32Array, dOutOff: number, ldOut: number,
    dq: Float32Array, dqOff: number, dk: Float32Array, dkOff: number, dv: Float32Array, dvOff: number, ldGrad: number,
  ): void;

  // ---- time-aware attention (TiSASRec) -------------------------------------------------------
  // Layout shared by these kernels ("query rows"): numSeq sequences of `len` columns. Sequence b owns
  // qCount[b] query rows starting at row qStart[b] (0 ≤ qCount[b] ≤ len); its query i (row
  // r = qStart[b] + i) stands for column t = len − qCount[b] + i, i.e. the queries are the LAST
  // qCount[b] columns (qCount = len: every column, the dense path; qCount = real tokens of a left-padded
  // row: the padding-skip path). Keys/values of sequence b are the `len` rows b·len … b·len + len − 1 of
  // a dense [numSeq·len, ·] matrix (every column, padding included). Per-row [R × len] arrays (scores,
  // probabilities, relation indices) hold row r at offset + r·len; per-row [R × numBuckets] arrays (the
  // query × time-table products and the bucketed weights) hold row r at offset + r·numBuckets.
  // qPadded[r] ≠ 0 marks a padding query (the reference's timeline mask): TiSASRec.pytorch fills its
  // whole score row, causal part included, with the same constant −2³²+1, so its softmax is exactly
  // uniform over ALL len keys (1/len each, future keys included) and no gradient reaches its scores.
  // A non-padding query at column t attends causally to keys 0..t (the −2³²+1 fill of j > t underflows
  // to an exact 0 after the softmax).

  /**
   * TiSASRec's relation indices (utils.computeRePos) for the query rows: for sequence b, query i at
   * column t: rel[r·len + j] = min(|times[b·len + t] − times[b·len + j]|, timeSpan) for j < len
   * (writes; r = qStart[b] + i; times at timesOff + b·len + column). Times are TiSASRec's scaled integer
   * times with 0 for padding (the reference pads time sequences with 0, and the padding takes part
   * like any other value). A non-integer difference is truncated toward zero when stored.
   */
  timeRelations(
    numSeq: number, len: number, qStart: Int32Array, qCount: Int32Array,
    times: Float64Array, timesOff: number, timeSpan: number, rel: Int32Array, relOff: number,
  ): void;
  /**
   * Softmax of TiSASRec's time-aware attention for one head, after the GEMMs that produced the two
   * score terms (already scaled by 1/sqrt(headDim)): for each query row r (layout above) and key j,
   *   s_j = scores[r, j] + tq[r, rel[r, j]]        (q·(k_j + absK_j) and q·TK[r_ij]),
   * P = softmax over j ≤ t (padding query: P_j = 1/len for every j < len, scores not read),
   * A = P · dropout mask; entries of keys outside the row's range are written 0 in P (and A).
   * Then bucket[r, k] = Σ_{j in range, rel[r,j] = k} A_j (writes the whole row, numBuckets entries),
   * so that Σ_j A_j·TV[rel_j] = bucket[r, :]·TV (one GEMM). Writes probs, dropped (when dropP > 0 and
   * rngState is non-null; otherwise A = P, dropped is not written and the caller passes the same buffer)
   * and bucket. rel entries must lie in [0, numBuckets).
   * Dropout draws: for b, for i, for j over the row's range (0..t, or 0..len−1 for a padding query),
   * one uniform u each; A_j = u < dropP ? 0 : P_j/(1−dropP).
   */
  timeAttentionSoftmaxForward(
    numSeq: number, len: number, numBuckets: number,
    qStart: Int32Array, qCount: Int32Array, qPadded: Int32Array,
    scores: Float32Array, scoresOff: number, tq: Float32Array, tqOff: number,
    rel: Int32Array, relOff: number, dropP: number, rngState: Uint32Array | null,
    probs: Float32Array, probsOff: number, dropped: Float32Array, droppedOff: number,
    bucket: Float32Array, bucketOff: number,
  ): void;
  /**
   * Backward of timeAttentionSoftmaxForward for one head. On entry dA[r, j] holds dOut_r · (v_j + absV_j)
   * (a GEMM) for every key j < len, and g[r, k] = dOut_r · TV[k]; the full gradient of A_j is
   * dA_j + g[r, rel[r, j]]. Overwrites dA in place with the score gradient (not yet scaled by
   * 1/sqrt(headDim)): dS_j = A_j·dA'_j − P_j · Σ_j' A_j'·dA'_j' for j ≤ t, 0 elsewhere (and the whole
   * row 0 for a padding query, whose scores are constants), and writes dBucket[r, k] = Σ_{j: rel = k} dS_j
   * (whole rows). A = dropped, P = probs (the same buffer without dropout).
   */
  timeAttentionSoftmaxBackward(
    numSeq: number, len: number, numBuckets: number,
    qStart: Int32Array, qCount: Int32Array, qPadded: Int32Array,
    probs: Float32Array, probsOff: number, dropped: Float32Array, droppedOff: number,
    g: Float32Array, gOff: number, rel: Int32Array, relOff: number,
    dA: Float32Array, dAOff: number, dBucket: Float32Array, dBucketOff: number,
  ): void;
  /**
   * Per-sequence compaction of relation indices (so that each sequence's interval-table GEMMs only see
   * the table rows it uses): for each sequence b, scan its query rows' entries rel[r·len + j]
   * (r = qStart[b] … qStart[b] + qCount[b] − 1, j = 0 … len − 1, row-major) and number the distinct
   * values 0, 1, … in order of first appearance; write local[r·len + j] = that number,
   * bucketIndex[bucketIndexOff + bucketStart[b] + k] = the value numbered k, bucketCount[b] = U_b (the
   * number of distinct values) and bucketStart[b] = Σ_{b' < b} U_b'. Returns Σ_b U_b. rel values must
   * lie in [0, numBuckets); bucketIndex needs room for Σ_b min(numBuckets, qCount[b]·len) entries.
   * local may not alias rel.
   */
  compactRelations(
    numSeq: number, len: number, numBuckets: number, qStart: Int32Array, qCount: Int32Array,
    rel: Int32Array, relOff: number, local: Int32Array, localOff: number,
    bucketStart: Int32Array, bucketCount: Int32Array, bucketIndex: Int32Array, bucketIndexOff: number,
  ): number;
  /**
   * Query rows → dense rows (layout above): out[(b·len + t)·dim + c] = x[(qStart[b] + t − (len − qCount[b]))·dim + c]
   * for the last qCount[b] columns t, and = fill[c] (0 when fill is null) for the first len − qCount[b]
   * columns (writes out [numSeq·len, dim]).
   */
  unpackRows(
    numSeq: number, len: number, dim: number, qStart: Int32Array, qCount: Int32Array,
    x: Float32Array, xOff: number, fill: Float32Array | null, fillOff: number, out: Float32Array, outOff: number,
  ): void;
  /** Backward of unpackRows (accumulates): dx[query row] += dOut[its dense row]; dFill += Σ dOut[fill rows]. Either may be null. */
  unpackRowsBackward(
    numSeq: number, len: number, dim: number, qStart: Int32Array, qCount: Int32Array,
    dOut: Float32Array, dOutOff: number, dx: Float32Array | null, dxOff: number, dFill: Float32Array | null, dFillOff: number,
  ): void;

  // ---- losses and reductions ----------------------------------------------------------------
  /** Σ x[i]² (returns; float64 accumulation in the reference). */
  sumSquares(n: number, x: Float32Array, xOff: number): number;
  /**
   * Σ over i with target[i] ≠ 0 of softplus(−pos[i]) + softplus(neg[i]), i.e. the unnormalised BCE-with-logits
   * of positives (label 1) and negatives (label 0), computed stably (returns).
   */
  bceLogitsMaskedSum(
    n: number, pos: Float32Array, posOff: number, neg: Float32Array, negOff: number,
    target: Int32Array, targetOff: number,
  ): number;
  /** For target[i] ≠ 0: dPos[i] += scale·(sigmoid(pos[i]) − 1); dNeg[i] += scale·sigmoid(neg[i]) (accumulates). */
  bceLogitsMaskedBackward(
    n: number, pos: Float32Array, posOff: number, neg: Float32Array, negOff: number,
    target: Int32Array, targetOff: number, scale: number,
    dPos: Float32Array, dPosOff: number, dNeg: Float32Array, dNegOff: number,
  ): void;

  /** Σ softplus(sign · x[i]) over n values, sign ±1 (returns): BCE-with-logits of labels 1 (sign −1) or 0 (sign +1). */
  softplusSum(n: number, sign: number, x: Float32Array, xOff: number): number;
  /** dx[i] += scale · sign · sigmoid(sign · x[i]) (accumulates; softplusSum's backward). */
  softplusBackward(n: number, sign: number, x: Float32Array, xOff: number, scale: number, dx: Float32Array, dxOff: number): void;
  /** Σ over m < M, k < K of softplus(neg[m·K + k] − pos[m]): BPR's −log σ(pos − neg) over K negatives per row (returns). */
  bprSum(M: number, K: number, pos: Float32Array, posOff: number, neg: Float32Array, negOff: number): number;
  /** bprSum's backward, scaled: dNeg[m·K + k] += scale·σ(neg − pos); dPos[m] −= the same, summed over k (accumulates). */
  bprBackward(
    M: number, K: number, pos: Float32Array, posOff: number, neg: Float32Array, negOff: number, scale: number,
    dPos: Float32Array, dPosOff: number, dNeg: Float32Array, dNegOff: number,
  ): void;
  /**
   * Softmax cross-entropy of M rows [pos[m], neg[m·K .. m·K + K)] with the target in front: writes each row's
   * log-sum-exp to lse[m] and returns Σ_m (lse[m] − pos[m]). A negative whose skip[m·K + k] ≠ 0 is left out
   * of its row (a sampled item equal to the positive); skip may be null.
   */
  sampledSoftmaxForward(
    M: number, K: number, pos: Float32Array, posOff: number, neg: Float32Array, negOff: number,
    skip: Uint8Array | null, lse: Float64Array,
  ): number;
  /** sampledSoftmaxForward's backward: dPos[m] += scale·(p_pos − 1), dNeg[m·K + k] += scale·p_k (0 where skipped) (accumulates). */
  sampledSoftmaxBackward(
    M: number, K: number, pos: Float32Array, posOff: number, neg: Float32Array, negOff: number,
    skip: Uint8Array | null, lse: Float64Array, scale: number,
    dPos: Float32Array, dPosOff: number, dNeg: Float32Array, dNegOff: number,
  ): void;
  /**
   * One column chunk of a row-wise softmax over many columns (the full-catalogue cross-entropy): logits
   * [rows × cols] (row stride ld) hold the columns c0 … c0 + cols − 1. Each row's running maximum and sum
   * of exp(logit − maximum) absorb the chunk (online log-sum-exp; start from −Infinity and 0); the row's
   * logit at column target[r], when inside the chunk, is stored in targetLogit[r].
   */
  softmaxChunkStats(
    rows: number, cols: number, logits: Float32Array, lOff: number, ld: number, c0: number,
    target: Int32Array, targetOff: number, rowMax: Float64Array, rowSum: Float64Array, targetLogit: Float64Array,
  ): void;
  /**
   * The chunk's gradient in place: logits[r, c] ← scale·(exp(logits[r, c] − lse[r]) − [target[r] = c0 + c]).
   */
  softmaxChunkGrad(
    rows: number, cols: number, logits: Float32Array, lOff: number, ld: number, c0: number,
    target: Int32Array, targetOff: number, lse: Float64Array, scale: number,
  ): void;

  // ---- manifold-constrained hyper-connections (mHC, nn/mhc.ts) ---------------------------------
  // Stream layout: a row of the widened residual holds n streams of d values, x[(r·n + i)·d + c].
  /**
   * RMS normalisation of a rows × dim block, without gain: out = x · rstd, rstd = 1/sqrt(mean(x²) + eps).
   * Writes out and rstd[r] (saved for the backward).
   */
  rmsNormForward(
    rows: number, dim: number, x: Float32Array, xOff: number, eps: number,
    out: Float32Array, outOff: number, rstd: Float32Array, rstdOff: number,
  ): void;
  /** rmsNormForward's backward (accumulates): with y = x·rstd, dx += rstd · (dy − y · mean(dy·y)). */
  rmsNormBackward(
    rows: number, dim: number, x: Float32Array, xOff: number, rstd: Float32Array, rstdOff: number,
    dy: Float32Array, dyOff: number, dx: Float32Array, dxOff: number,
  ): void;
  /** out[i] = scale · sigmoid(x[i]) (writes). */
  sigmoidForward(n: number, scale: number, x: Float32Array, xOff: number, out: Float32Array, outOff: number): void;
  /** dx[i] += dy[i] · y[i] · (1 − y[i]/scale), y the forward output (accumulates). */
  sigmoidBackward(n: number, scale: number, y: Float32Array, yOff: number, dy: Float32Array, dyOff: number, dx: Float32Array, dxOff: number): void;
  /**
   * Sinkhorn-Knopp projection of `rows` n×n matrices (row-major, n² floats each): M = exp(L), then
   * `iters` times: divide every row by its sum, then every column by its sum (writes out; the columns
   * of the result sum to 1 up to rounding, the rows approximately). Implementations may shift each row
   * of L by a constant (e.g. its max) and iterate on scaling vectors (u = 1/(M v), v = 1/(Mᵀ u),
   * out = diag(u) M diag(v)): both give the same iterates (the projection is invariant to row scaling).
   */
  sinkhornForward(rows: number, n: number, iters: number, logits: Float32Array, lOff: number, out: Float32Array, outOff: number): void;
  /**
   * Backward of sinkhornForward through every iteration, i.e. the exact gradient of the `iters`-step
   * map, not of its fixed point (accumulates into dLogits). The reference recomputes each matrix's
   * scaling vectors from the logits (nothing is saved by the forward) and runs reverse mode through
   * u_t = 1/(M v_{t−1}), v_t = 1/(Mᵀ u_t) and out = diag(u_T) M diag(v_T), then dL = dM ∘ M.
   */
  sinkhornBackward(
    rows: number, n: number, iters: number, logits: Float32Array, lOff: number,
    dOut: Float32Array, dOutOff: number, dLogits: Float32Array, dlOff: number,
  ): void;
  /** dst[r·ldDst + c] = src[r·ldSrc + c] for r < rows, c < cols (writes; mHC splits its stacked projections). */
  copyBlock(rows: number, cols: number, src: Float32Array, srcOff: number, ldSrc: number, dst: Float32Array, dstOff: number, ldDst: number): void;
  /** out[r, c] = Σ_i w[r·n + i] · x[r, i, c] (writes out [rows, d]; mHC's H_pre·x). */
  streamWeightedSum(
    rows: number, n: number, d: number, w: Float32Array, wOff: number, x: Float32Array, xOff: number,
    out: Float32Array, outOff: number,
  ): void;
  /** Backward of streamWeightedSum (accumulates): dW[r·n+i] += Σ_c dOut[r,c]·x[r,i,c]; dX[r,i,c] += w[r·n+i]·dOut[r,c]. Either may be null. */
  streamWeightedSumBackward(
    rows: number, n: number, d: number, w: Float32Array, wOff: number, x: Float32Array, xOff: number,
    dOut: Float32Array, dOutOff: number, dW: Float32Array | null, dWOff: number, dX: Float32Array | null, dXOff: number,
  ): void;
  /**
   * mHC's residual update: out[r, i, c] = Σ_j hRes[r·n² + i·n + j] · x[r, j, c] + hPost[r·n + i] · y[r·d + c]
   * (writes out [rows, n, d]; x [rows, n, d], y [rows, d]).
   */
  streamMixForward(
    rows: number, n: number, d: number, hRes: Float32Array, hResOff: number, x: Float32Array, xOff: number,
    hPost: Float32Array, hPostOff: number, y: Float32Array, yOff: number, out: Float32Array, outOff: number,
  ): void;
  /**
   * Backward of streamMixForward (accumulates; any gradient may be null): dHRes[r,i,j] += Σ_c dOut[r,i,c]·x[r,j,c];
   * dX[r,j,c] += Σ_i hRes[r,i,j]·dOut[r,i,c]; dHPost[r,i] += Σ_c dOut[r,i,c]·y[r,c]; dY[r,c] += Σ_i hPost[r,i]·dOut[r,i,c].
   */
  streamMixBackward(
    rows: number, n: number, d: number, hRes: Float32Array, hResOff: number, x: Float32Array, xOff: number,
    hPost: Float32Array, hPostOff: number, y: Float32Array, yOff: number, dOut: Float32Array, dOutOff: number,
    dHRes: Float32Array | null, dHResOff: number, dX: Float32Array | null, dXOff: number,
    dHPost: Float32Array | null, dHPostOff: number, dY: Float32Array | null, dYOff: number,
  ): void;

  // ---- convolutional sequence embedding (Caser, engine/conv-ops.ts) ------------------------------
  /**
   * Max over the `len` rows of each of `groups` blocks (max-pooling over time): out[g·dim + c] =
   * max_l x[(g·len + l)·dim + c] and argmax[g·dim + c] = the first l attaining it (writes both; len ≥ 1).
   */
  maxPoolRowsForward(
    groups: number, len: number, dim: number, x: Float32Array, xOff: number,
    out: Float32Array, outOff: number, argmax: Int32Array, argOff: number,
  ): void;
  /** maxPoolRowsForward's backward: dx[(g·len + argmax[g·dim + c])·dim + c] += dOut[g·dim + c] (accumulates). */
  maxPoolRowsBackward(
    groups: number, len: number, dim: number, dOut: Float32Array, dOutOff: number,
    argmax: Int32Array, argOff: number, dx: Float32Array, dxOff: number,
  ): void;

  // ---- gated recurrent unit and ranking losses (GRU4Rec: engine/gru.ts, engine/ranking-loss-ops.ts) ----
  // A GRU step over B rows with d hidden units. The input's pre-activations x [B, 3d] hold three blocks
  // per row, [reset | update | candidate]; `gates` [B, 3d] keeps r, z and the candidate ĥ for the backward.
  /**
   * The gates: r = σ(x_r + b_r + a_r), z = σ(x_z + b_z + a_z), with a = h·U_rz [B, 2d] and b the input bias
   * [3d]; writes gates[:, 0:2d] and hr = h ∘ r [B, d].
   */
  gruGatesForward(
    B: number, d: number, x: Float32Array, xOff: number, bias: Float32Array, bOff: number, a: Float32Array, aOff: number,
    h: Float32Array, hOff: number, gates: Float32Array, gOff: number, hr: Float32Array, hrOff: number,
  ): void;
  /**
   * The candidate and the new state: ĥ = tanh(x_c + b_c + c) with c = (h ∘ r)·U [B, d], then
   * out = (1 − z) ∘ h + z ∘ ĥ; writes gates[:, 2d:3d] and out [B, d].
   */
  gruStateForward(
    B: number, d: number, x: Float32Array, xOff: number, bias: Float32Array, bOff: number, c: Float32Array, cOff: number,
    h: Float32Array, hOff: number, gates: Float32Array, gOff: number, out: Float32Array, outOff: number,
  ): void;
  /**
   * gruStateForward's backward from dOut: writes the pre-activation gradients dPre[:, 2d:3d] = dOut·z·(1 − ĥ²)
   * and dPre[:, d:2d] = dOut·(ĥ − h)·z·(1 − z); dh += dOut·(1 − z) (accumulates) when dh is not null.
   */
  gruStateBackward(
    B: number, d: number, h: Float32Array, hOff: number, gates: Float32Array, gOff: number, dOut: Float32Array, dOutOff: number,
    dPre: Float32Array, dPreOff: number, dh: Float32Array | null, dhOff: number,
  ): void;
  /**
   * gruGatesForward's backward from dhr, the gradient of h ∘ r: writes dPre[:, 0:d] = dhr·h·r·(1 − r);
   * dh += dhr·r (accumulates) when dh is not null.
   */
  gruGatesBackward(
    B: number, d: number, h: Float32Array, hOff: number, gates: Float32Array, gOff: number, dhr: Float32Array, dhrOff: number,
    dPre: Float32Array, dPreOff: number, dh: Float32Array | null, dhOff: number,
  ): void;
  /** out[i] = tanh(x[i]) (writes). */
  tanhForward(n: number, x: Float32Array, xOff: number, out: Float32Array, outOff: number): void;
  /** dx[i] += dy[i] · (1 − y[i]²), y the forward output (accumulates). */
  tanhBackward(n: number, y: Float32Array, yOff: number, dy: Float32Array, dyOff: number, dx: Float32Array, dxOff: number): void;
  /** ELU: out[i] = x[i] ≥ 0 ? x[i] : alpha·(exp(x[i]) − 1) (writes). */
  eluForward(n: number, alpha: number, x: Float32Array, xOff: number, out: Float32Array, outOff: number): void;
  /** dx[i] += dy[i] · (y[i] ≥ 0 ? 1 : y[i] + alpha), y the forward output (accumulates). */
  eluBackward(n: number, alpha: number, y: Float32Array, yOff: number, dy: Float32Array, dyOff: number, dx: Float32Array, dxOff: number): void;
  /**
   * GRU4Rec's ranking losses over a score matrix [M × C] (row stride C, C ≥ M): row m's positive is column m,
   * its negatives the n_m columns j with neg[m·C + j] ≠ 0; a row without negatives adds 0. Returns Σ_m L_m:
   * 'top1': (1/n_m) Σ_j σ(r_j − r_m) + σ(r_j²); 'bpr': (1/n_m) Σ_j −log σ(r_m − r_j);
   * 'bpr_max': −log(Σ_j s_j σ(r_m − r_j) + 1e-24) + lambda · Σ_j s_j r_j², s the softmax over the negatives' scores.
   */
  rankingLossSum(kind: RankingLossKind, M: number, C: number, scores: Float32Array, sOff: number, neg: Uint8Array, lambda: number): number;
  /** rankingLossSum's backward, scaled: dScores += scale · ∂(Σ_m L_m)/∂scores (accumulates). */
  rankingLossBackward(
    kind: RankingLossKind, M: number, C: number, scores: Float32Array, sOff: number, neg: Uint8Array, lambda: number, scale: number,
    dScores: Float32Array, dOff: number,
  ): void;

  // ---- optimiser ----------------------------------------------------------------------------
  /**
   * One Adam update in PyTorch's order (torch.optim.Adam, weight_decay 0, amsgrad off):
   * m = beta1·m + (1−beta1)·g; v = beta2·v + (1−beta2)·g²;
   * p −= (lr / bc1) · m / (sqrt(v) / sqrt(bc2) + eps), with bc1 = 1 − beta1^t, bc2 = 1 − beta2^t.
   */
  adamStep(
    n: number, p: Float32Array, pOff: number, g: Float32Array, gOff: number,
    m: Float32Array, mOff: number, v: Float32Array, vOff: number,
    lr: number, beta1: number, beta2: number, eps: number, bc1: number, bc2: number,
  ): void;
}

/** GRU4Rec's ranking losses (rankingLossSum): TOP1, BPR, BPR-max. */
export type RankingLossKind = 'top1' | 'bpr' | 'bpr_max';
