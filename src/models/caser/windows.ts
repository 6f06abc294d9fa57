/**
 * Caser's training and scoring examples, as index arrays: windows of the last L items (left-padded
 * with 0) with their user, and the (window, target) pairs the loss scores. Buffers grow and are
 * reused; the arrays (exact-length views) are valid until the next build.
 *
 * From a training batch (data/sampler.ts: row b holds the user's train items left-padded, seqs[b, t] an
 * input and pos[b, t] the item after it, `negatives` = T·K sampled items per position): every position
 * t whose input is an item (the row's items after its padding) makes a window, its inputs seqs[b, t−L+1 … t] (0 before the row's start or on
 * padding) and its targets pos[b, t … t+T−1], those inside the row (the last T − 1 windows of a row
 * have fewer than T). Target j of the window at t is position p = t + j; its K negatives are slot j of
 * that position's T·K, neg[(b·len + p)·T·K + j·K …], so that every (window, target) pair has negatives
 * of its own. A row without padding may have been cut (the user's earlier items did not fit): its first
 * L − 1 positions make no window, since their true inputs are unknown.
 */
import type { TrainBatch } from '../../data/types.js';
import type { HistoryBatch } from '../../eval/types.js';

export class CaserWindows {
  /** W: the windows */
  count = 0;
  /** [W·L] the window's items, oldest first, 0 = padding */
  items = new Int32Array(0);
  /** [W] the window's user (0: none) */
  users = new Int32Array(0);
  /** M: the (window, target) pairs */
  pairs = 0;
  /** [M] the window of each pair */
  pairWindow = new Int32Array(0);
  /** [M] its target item */
  pairPos = new Int32Array(0);
  /** [M·K] its K negatives */
  pairNeg = new Int32Array(0);

  constructor(
    /** L: the items a window holds */
    readonly L: number,
  ) {}

  /** The windows and pairs of a training batch (see above) for T targets and K negatives per target. */
  fromTrainBatch(batch: Pick<TrainBatch, 'batchSize' | 'maxlen' | 'seqs' | 'pos' | 'neg' | 'users' | 'negatives'>, T: number, K: number): this {
    const { batchSize: B, maxlen: len, seqs, pos, neg, users } = batch;
    const L = this.L;
    const perPos = T * K;
    if ((batch.negatives ?? 1) !== perPos || neg.length !== B * len * perPos) {
      throw new Error(`Caser: a training batch needs ${perPos} negatives per position (T ${T} × K ${K}), got ${batch.negatives ?? 1}`);
    }
    let W = 0;
    let M = 0;
    for (let b = 0; b < B; b++) {
      for (let t = this.firstWindow(seqs, b, len); t < len; t++) {
        W++;
        M += Math.min(T, len - t);
      }
    }
    this.reserve(W, M, K);
    let w = 0;
    let m = 0;
    for (let b = 0; b < B; b++) {
      const row = b * len;
      for (let t = this.firstWindow(seqs, b, len); t < len; t++) {
        for (let i = 0; i < L; i++) {
          const s = t - L + 1 + i;
          this.items[w * L + i] = s >= 0 ? seqs[row + s] : 0;
        }
        this.users[w] = users[b];
        for (let j = 0; j < T && t + j < len; j++) {
          const p = row + t + j;
          this.pairWindow[m] = w;
          this.pairPos[m] = pos[p];
          this.pairNeg.set(neg.subarray(p * perPos + j * K, p * perPos + (j + 1) * K), m * K);
          m++;
        }
        w++;
      }
    }
    this.count = W;
    this.pairs = M;
    return this;
  }

  /**
   * One window per history: its last L items (left-padded), and its user, or 0 (unknown) for an id
   * outside 1..userNum. No pairs.
   */
  fromHistories(batch: Pick<HistoryBatch, 'batchSize' | 'seqs' | 'users'>, userNum: number): this {
    const { batchSize: B, seqs, users } = batch;
    const len = seqs.length / B;
    if (!Number.isInteger(len)) throw new Error(`Caser: ${seqs.length} history ids for batch ${B}`);
    const L = this.L;
    this.reserve(B, 0, 0);
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < L; i++) {
        const s = len - L + i;
        this.items[b * L + i] = s >= 0 ? seqs[b * len + s] : 0;
      }
      const u = users[b];
      this.users[b] = u >= 1 && u <= userNum ? u : 0;
    }
    this.count = B;
    this.pairs = 0;
    return this;
  }

  /**
   * The first position of left-padded row b that ends a window: its first item's (found from the row's
   * end, so a long row of padding costs nothing), or L − 1 when the row is full (maybe cut).
   */
  private firstWindow(seqs: Int32Array, b: number, len: number): number {
    let t = len;
    while (t > 0 && seqs[b * len + t - 1] !== 0) t--;
    return t === 0 ? Math.min(this.L - 1, len) : t;
  }

  /** Exact-length views of the grown buffers for W windows and M pairs of K negatives. */
  private reserve(W: number, M: number, K: number): void {
    const L = this.L;
    if (this.buf.items.length < W * L) this.buf.items = new Int32Array(W * L);
    if (this.buf.users.length < W) this.buf.users = new Int32Array(W);
    if (this.buf.pairWindow.length < M) {
      this.buf.pairWindow = new Int32Array(M);
      this.buf.pairPos = new Int32Array(M);
    }
    if (this.buf.pairNeg.length < M * K) this.buf.pairNeg = new Int32Array(M * K);
    this.items = this.buf.items.subarray(0, W * L);
    this.users = this.buf.users.subarray(0, W);
    this.pairWindow = this.buf.pairWindow.subarray(0, M);
    this.pairPos = this.buf.pairPos.subarray(0, M);
    this.pairNeg = this.buf.pairNeg.subarray(0, M * K);
  }

  private readonly buf = {
    items: new Int32Array(0),
    users: new Int32Array(0),
    pairWindow: new Int32Array(0),
    pairPos: new Int32Array(0),
    pairNeg: new Int32Array(0),
  };
}
