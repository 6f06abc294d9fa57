/**
 * Caser's training and scoring examples (paper §3.4; the authors' train_caser.py).
 *
 * A window is a user's L successive items and the T items after them. Every position t of a train
 * sequence s_0 … s_{n−1} but the last makes one: its items s_{t−L+1} … s_t (left-padded with item 0
 * before s_0) and its targets s_{t+1} … s_{t+T}, those inside the sequence (the last T − 1 windows have
 * fewer). WindowSampler shuffles all windows once per pass and draws batches of them, each target with
 * K negatives outside the user's train items; CaserWindows turns a batch, or a batch of histories,
 * into the index arrays the network reads.
 *
 * A window travels in a TrainBatch as a row of R = L + T − 1 items, the window's L then the T − 1 after
 * it: seqs[b, i] = s_{t−L+1+i} (0 outside the sequence) and pos[b, i] = the item after it at the target
 * positions i = L − 1 … R − 1 (0 there past the sequence's end, and at every position before L − 1);
 * neg holds K negatives at each position with a target.
 */
import { UserError } from '../../core/errors.js';
import type { BatchSource, SamplerState } from '../../data/sampler.js';
import type { Split, TrainBatch } from '../../data/types.js';
import type { Rng } from '../../engine/rng.js';
import type { HistoryBatch } from '../../eval/types.js';

export interface WindowSamplerOptions {
  /** windows per batch */
  batchSize: number;
  /** L: the items of a window */
  L: number;
  /** T: the targets of a window */
  T: number;
  /** K: negatives per target */
  negatives: number;
  rng: Rng;
}

/**
 * Batches of windows, every window once per pass in a random order redrawn for each pass (the
 * authors shuffle their windows every epoch); a batch that ends a pass continues into the next one.
 * One epoch = ceil(windows / batchSize) batches. Negatives are drawn as TrainSampler draws them:
 * uniform items in 1..N, redrawn while the user has the item in train.
 */
export class WindowSampler implements BatchSource {
  readonly batchSize: number;
  readonly L: number;
  readonly T: number;
  readonly negatives: number;
  /** R = L + T − 1: a batch row's length */
  readonly rowLength: number;
  /** every user's windows */
  readonly windows: number;
  private readonly itemNum: number;
  private readonly train: readonly Int32Array[];
  /** firstWindow[u]: the windows of the users before u (window w is user u's position w − firstWindow[u]) */
  private readonly firstWindow: Float64Array;
  /** CSR of each user's sorted distinct train items, for negative rejection by binary search */
  private readonly seenOffsets: Int32Array;
  private readonly seenItems: Int32Array;
  private readonly order: Int32Array;
  private readonly rng: Rng;
  private position = 0;
  private passRng: number[];

  constructor(split: Split, options: WindowSamplerOptions) {
    const { batchSize, L, T, negatives, rng } = options;
    for (const [name, v] of [
      ['batchSize', batchSize],
      ['L', L],
      ['T', T],
      ['negatives', negatives],
    ] as const) {
      if (!(Number.isInteger(v) && v >= 1)) throw new RangeError(`WindowSampler: ${name} must be an integer ≥ 1, got ${v}`);
    }
    this.batchSize = batchSize;
    this.L = L;
    this.T = T;
    this.negatives = negatives;
    this.rowLength = L + T - 1;
    this.itemNum = split.data.itemNum;
    this.train = split.train;
    this.rng = rng;
    const U = split.data.userNum;
    this.firstWindow = new Float64Array(U + 2);
    let windows = 0;
    let total = 0;
    for (let u = 1; u <= U; u++) {
      this.firstWindow[u] = windows;
      windows += Math.max(0, split.train[u].length - 1);
      total += split.train[u].length;
    }
    this.firstWindow[U + 1] = windows;
    if (windows === 0) throw new UserError('no user has 2 or more training items, so there is nothing to train on');
    if (windows > 2 ** 31 - 1) throw new UserError(`${windows} training windows: more than Caser's sampler can index`);
    this.windows = windows;
    this.seenOffsets = new Int32Array(U + 2);
    this.seenItems = new Int32Array(total);
    let p = 0;
    for (let u = 1; u <= U; u++) {
      this.seenOffsets[u] = p;
      const sorted = Int32Array.from(split.train[u]).sort();
      for (let k = 0; k < sorted.length; k++) if (k === 0 || sorted[k] !== sorted[k - 1]) this.seenItems[p++] = sorted[k];
      if (p - this.seenOffsets[u] >= this.itemNum && split.train[u].length > 1) {
        throw new UserError(`user ${split.data.users.toRaw[u]} interacted with every item, so no negative can be sampled`);
      }
    }
    this.seenOffsets[U + 1] = p;
    this.order = new Int32Array(windows);
    this.passRng = rng.getState();
  }

  get batchesPerEpoch(): number {
    return Math.ceil(this.windows / this.batchSize);
  }

  describe(): string {
    return `${this.windows} windows, ${this.batchSize} per batch`;
  }

  nextBatch(out?: TrainBatch): TrainBatch {
    const B = this.batchSize;
    const R = this.rowLength;
    const K = this.negatives;
    let batch: TrainBatch;
    if (out) {
      if (out.batchSize !== B || out.maxlen !== R || out.neg.length !== B * R * K) throw new RangeError('nextBatch: `out` has another shape');
      batch = out;
    } else {
      batch = {
        batchSize: B,
        maxlen: R,
        users: new Int32Array(B),
        seqs: new Int32Array(B * R),
        pos: new Int32Array(B * R),
        neg: new Int32Array(B * R * K),
        negatives: K,
      };
    }
    batch.pos.fill(0);
    batch.neg.fill(0);
    for (let b = 0; b < B; b++) {
      if (this.position === 0) {
        this.passRng = this.rng.getState();
        this.shuffleOrder();
      }
      this.fillRow(this.order[this.position], b, batch);
      this.position = this.position + 1 === this.windows ? 0 : this.position + 1;
    }
    return batch;
  }

  /** Window w into row b (whose pos and neg are zero). */
  private fillRow(w: number, b: number, batch: TrainBatch): void {
    const u = this.userOf(w);
    const s = this.train[u];
    const t = w - this.firstWindow[u];
    const { L, rowLength: R, negatives: K } = this;
    const lo = this.seenOffsets[u];
    const hi = this.seenOffsets[u + 1];
    const off = b * R;
    batch.users[b] = u;
    for (let i = 0; i < R; i++) {
      const k = t - L + 1 + i;
      batch.seqs[off + i] = k >= 0 && k < s.length ? s[k] : 0;
      if (i >= L - 1 && k + 1 < s.length) {
        batch.pos[off + i] = s[k + 1];
        for (let j = 0; j < K; j++) batch.neg[(off + i) * K + j] = this.negative(lo, hi);
      }
    }
  }

  /** The user of window w: the last u with firstWindow[u] ≤ w (a user without windows shares the next one's, so never is). */
  private userOf(w: number): number {
    let a = 1;
    let b = this.firstWindow.length - 2;
    while (a < b) {
      const m = (a + b + 1) >>> 1;
      if (this.firstWindow[m] <= w) a = m;
      else b = m - 1;
    }
    return a;
  }

  private shuffleOrder(): void {
    for (let k = 0; k < this.windows; k++) this.order[k] = k;
    this.rng.shuffle(this.order);
  }

  private negative(lo: number, hi: number): number {
    const seen = this.seenItems;
    for (;;) {
      const c = 1 + this.rng.nextInt(this.itemNum);
      let a = lo;
      let b = hi;
      while (a < b) {
        const m = (a + b) >>> 1;
        if (seen[m] < c) a = m + 1;
        else b = m;
      }
      if (a === hi || seen[a] !== c) return c;
    }
  }

  getState(): SamplerState {
    return { rng: this.rng.getState(), passRng: this.passRng.slice(), position: this.position };
  }

  setState(state: SamplerState): void {
    if (!Number.isInteger(state.position) || state.position < 0 || state.position >= this.windows) {
      throw new RangeError(`WindowSampler.setState: position ${state.position} out of range 0..${this.windows - 1}`);
    }
    this.passRng = state.passRng.slice();
    this.position = state.position;
    // at 0 the next draw reshuffles; elsewhere the current pass's order is rebuilt from its RNG state
    if (this.position > 0) {
      this.rng.setState(state.passRng);
      this.shuffleOrder();
    }
    this.rng.setState(state.rng);
  }
}

/**
 * The index arrays of a batch of windows: each window's L items (oldest first, 0 = padding) and user,
 * and its (window, target) pairs with their K negatives. Buffers grow and are reused; the arrays
 * (exact-length views) are valid until the next build.
 */
export class CaserWindows {
  /** W: the windows */
  count = 0;
  /** [W·L] the windows' items */
  items = new Int32Array(0);
  /** [W] the windows' users (0: the unknown user) */
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

  /** The windows of a WindowSampler batch (rows of L + T − 1, K negatives per target; see above). */
  fromTrainBatch(batch: Pick<TrainBatch, 'batchSize' | 'maxlen' | 'seqs' | 'pos' | 'neg' | 'users' | 'negatives'>, T: number, K: number): this {
    const { batchSize: B, maxlen: R, seqs, pos, neg, users } = batch;
    const L = this.L;
    if (R !== L + T - 1) throw new Error(`Caser: a training batch needs rows of L + T − 1 = ${L + T - 1} items, got ${R}`);
    if ((batch.negatives ?? 1) !== K || neg.length !== B * R * K) {
      throw new Error(`Caser: a training batch needs ${K} negatives per target, got ${batch.negatives ?? 1}`);
    }
    let M = 0;
    for (let b = 0; b < B; b++) for (let i = L - 1; i < R; i++) if (pos[b * R + i] !== 0) M++;
    this.reserve(B, M, K);
    let m = 0;
    for (let b = 0; b < B; b++) {
      this.items.set(seqs.subarray(b * R, b * R + L), b * L);
      for (let i = L - 1; i < R; i++) {
        const p = b * R + i;
        if (pos[p] === 0) continue;
        this.pairWindow[m] = b;
        this.pairPos[m] = pos[p];
        this.pairNeg.set(neg.subarray(p * K, (p + 1) * K), m * K);
        m++;
      }
    }
    this.users.set(users.subarray(0, B));
    this.count = B;
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
