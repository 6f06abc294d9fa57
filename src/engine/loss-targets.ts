/**
 * The training targets of a [B, L] batch for the padding-skip paths: every column whose positive id
 * is not 0 (the reference's loss mask), in flat order, with the feature row that scores it. Shared by
 * SASRec's `PackedBatch` and TiSASRec's `TimeBatchLayout`, which differ only in where each
 * sequence's rows start.
 *
 * The buffer grows and is reused; the arrays are valid until the next build().
 */
export class LossTargets {
  /** M: the targets */
  count = 0;
  /** [M] feature row scoring each target (`outsideRow` when its input column has no row of its own) */
  rows = new Int32Array(0);
  /** [M] positive id of each target */
  pos = new Int32Array(0);
  /** [M·K] the K negative ids of each target (K = negPerPos of build()) */
  neg = new Int32Array(0);
  /** [M] flat index b·L + t of each target in the [B, L] batch (ascending) */
  index = new Int32Array(0);

  private buf = new Int32Array(0);

  /**
   * Sequence b has feature rows for columns firstCol(b) … L − 1, from row firstRow(b) on; a target in
   * an earlier column (its input is padding) gets `outsideRow`. `neg` holds negPerPos ids per position
   * (0: no negatives).
   */
  build(
    pos: Int32Array, neg: Int32Array, batchSize: number, len: number,
    firstCol: (b: number) => number, firstRow: (b: number) => number, outsideRow: number, what: string,
    negPerPos = 1,
  ): void {
    const n = batchSize * len;
    const K = negPerPos;
    if (pos.length !== n || neg.length !== n * K) throw new Error(`${what}: pos needs ${n} ids, neg ${n * K}`);
    let M = 0;
    for (let i = 0; i < n; i++) if (pos[i] !== 0) M++;
    if (this.buf.length < (3 + K) * M) this.buf = new Int32Array((3 + K) * Math.max(M, 16));
    const rows = this.buf.subarray(0, M);
    const tp = this.buf.subarray(M, 2 * M);
    const ti = this.buf.subarray(2 * M, 3 * M);
    const tn = this.buf.subarray(3 * M, (3 + K) * M);
    let m = 0;
    for (let b = 0; b < batchSize; b++) {
      const c0 = firstCol(b);
      const r0 = firstRow(b);
      for (let t = 0; t < len; t++) {
        const i = b * len + t;
        if (pos[i] === 0) continue;
        rows[m] = t >= c0 ? r0 + t - c0 : outsideRow;
        tp[m] = pos[i];
        if (K === 1) tn[m] = neg[i];
        else tn.set(neg.subarray(i * K, (i + 1) * K), m * K);
        ti[m] = i;
        m++;
      }
    }
    this.count = M;
    this.rows = rows;
    this.pos = tp;
    this.neg = tn;
    this.index = ti;
  }

  /** No targets (a freshly built layout, until build()). */
  clear(): void {
    this.count = 0;
  }
}
