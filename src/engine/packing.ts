/**
 * Packing left-padded id rows for the padding-skip path (DESIGN.md, "Padding is most of the work").
 *
 * A batch of B rows of length L, each left-padded with 0 (row b = p_b zeros, then n_b = L − p_b real
 * ids), becomes R = N + h packed rows: the N = Σ n_b real tokens, sequence by sequence in order, then
 * (h = 1, only when some row has padding) ONE shared padding row at index padRow = N. In the SASRec
 * reference every padding position carries the same vector at every layer, so that one row stands for
 * all of them.
 *
 * Segments (for `ops.packedCausalAttention`): sequence b is segment b (start = Σ_{b'<b} n_b', length
 * n_b, padding count p_b); when h = 1 the padding row is one more segment (start N, length 1, no
 * padding), so it attends only to itself. A sequence with no real ids is an empty segment.
 *
 * Buffers grow and are reused: building the layout of a same-sized batch allocates nothing but a few
 * array views. The arrays are valid until the next build() (ops recorded on a tape read them during
 * backward, so rebuild only after that backward has run).
 */
import { LossTargets } from './loss-targets.js';
import type { PackedSegments } from './ops.js';

export class PackedBatch implements PackedSegments {
  batchSize = 0;
  len = 0;
  /** N: real (non-zero) ids in the batch */
  realCount = 0;
  /** R = N, plus 1 when there is a padding row */
  rows = 0;
  /** index of the shared padding row (= realCount), or −1 when no row has padding */
  padRow = -1;
  segCount = 0;
  segStart = new Int32Array(0);
  segLen = new Int32Array(0);
  segPad = new Int32Array(0);
  /** [rows] the id at each packed row (0 for the padding row) */
  items = new Int32Array(0);
  /** [rows] the reference's position index: t + 1 for a real id at column t, 0 for the padding row */
  positions = new Int32Array(0);
  /** [batchSize] packed row of each sequence's last column (padRow when the sequence is empty) */
  lastRow = new Int32Array(0);

  /** the training targets of the batch, after buildTargets() (rows: padRow when the input is padding) */
  readonly targets = new LossTargets();

  private bufSeg = new Int32Array(0);
  private bufRows = new Int32Array(0);
  private bufBatch = new Int32Array(0);

  /**
   * Packs seqs [batchSize·len]. Returns false (and leaves the layout unusable) when some row is not
   * left-padded, i.e. has a 0 after a non-zero id: such a batch needs the dense path.
   */
  build(seqs: Int32Array, batchSize: number): boolean {
    const len = seqs.length / batchSize;
    if (!Number.isInteger(len)) throw new Error(`PackedBatch: ${seqs.length} ids do not split into ${batchSize} rows`);
    this.batchSize = batchSize;
    this.len = len;
    if (this.bufSeg.length < 3 * (batchSize + 1)) this.bufSeg = new Int32Array(3 * (batchSize + 1));
    if (this.bufBatch.length < batchSize) this.bufBatch = new Int32Array(batchSize);
    const S = batchSize + 1;
    const start = this.bufSeg.subarray(0, S);
    const lens = this.bufSeg.subarray(S, 2 * S);
    const pads = this.bufSeg.subarray(2 * S, 3 * S);
    let N = 0;
    let anyPad = false;
    for (let b = 0; b < batchSize; b++) {
      const o = b * len;
      let t0 = 0;
      while (t0 < len && seqs[o + t0] === 0) t0++;
      for (let t = t0 + 1; t < len; t++) if (seqs[o + t] === 0) return false;
      start[b] = N;
      lens[b] = len - t0;
      pads[b] = t0;
      if (t0 > 0) anyPad = true;
      N += len - t0;
    }
    const rows = N + (anyPad ? 1 : 0);
    const padRow = anyPad ? N : -1;
    let segCount = batchSize;
    if (anyPad) {
      start[batchSize] = N;
      lens[batchSize] = 1;
      pads[batchSize] = 0;
      segCount++;
    }
    if (this.bufRows.length < 2 * rows) this.bufRows = new Int32Array(2 * Math.max(rows, 16));
    const items = this.bufRows.subarray(0, rows);
    const positions = this.bufRows.subarray(rows, 2 * rows);
    const lastRow = this.bufBatch.subarray(0, batchSize);
    for (let b = 0; b < batchSize; b++) {
      const o = b * len;
      const r0 = start[b];
      const p = pads[b];
      const n = lens[b];
      for (let i = 0; i < n; i++) {
        items[r0 + i] = seqs[o + p + i];
        positions[r0 + i] = p + i + 1;
      }
      lastRow[b] = n > 0 ? r0 + n - 1 : padRow;
    }
    if (anyPad) {
      items[N] = 0;
      positions[N] = 0;
    }
    this.realCount = N;
    this.rows = rows;
    this.padRow = padRow;
    this.segCount = segCount;
    this.segStart = start;
    this.segLen = lens;
    this.segPad = pads;
    this.items = items;
    this.positions = positions;
    this.lastRow = lastRow;
    this.targets.clear();
    return true;
  }

  /**
   * The training targets of the last built batch: every column whose positive id ≠ 0 (the reference's
   * loss mask), with the packed row whose features score it. In the reference sampler pos ≠ 0 exactly
   * where the input ≠ 0; a target at a padding input is scored from the padding row (as in PyTorch).
   */
  buildTargets(pos: Int32Array, neg: Int32Array, negPerPos = 1): void {
    this.targets.build(pos, neg, this.batchSize, this.len, (b) => this.segPad[b], (b) => this.segStart[b], this.padRow, 'PackedBatch', negPerPos);
  }
}
