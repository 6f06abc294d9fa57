import { UserError } from '../core/errors.js';
import { Rng } from '../engine/rng.js';
import type { Split, TrainBatch } from './types.js';

/**
 * Which user each batch row trains on.
 * - 'shuffle' (default): a random order, redrawn for every pass over the users (each user once per pass).
 * - 'cycle': SASRec.pytorch's sample_function, which tests `counter % usernum == 0` once per batch:
 *   only a batch that starts exactly on a pass boundary redraws the order, so with a batch size coprime
 *   to the user count one order is cycled through for batchSize passes (Games: ≈ 128 epochs), each
 *   epoch starting where the last one stopped.
 * - 'uniform': TiSASRec.pytorch's sample_function: every row an independent uniformly random user.
 */
export type UserSampling = 'shuffle' | 'cycle' | 'uniform';
export const USER_SAMPLING_MODES: readonly UserSampling[] = ['shuffle', 'cycle', 'uniform'];

export interface SamplerOptions {
  batchSize: number;
  maxlen: number;
  /** which user each row trains on (default 'shuffle') */
  userSampling?: UserSampling;
  /** seed for a private Rng (default 0); ignored when `rng` is given */
  seed?: number;
  /** draw from this generator instead (it is advanced by the sampler) */
  rng?: Rng;
  /**
   * Negatives K (default 1; 0 draws none): per position, K items outside the user's train items, each
   * drawn as the single one is; with sharedNegatives, K uniform items once per batch for every position.
   */
  negatives?: number;
  sharedNegatives?: boolean;
  /** Cloze batches (BERT4Rec's masked-item training) instead of next-item ones; see ClozeOptions */
  cloze?: ClozeOptions;
  /**
   * Items never drawn as negatives (non-zero entries, by item id): a cold-items split's held-out items,
   * which training must not see at all (default: split.cold's when it holds out items)
   */
  heldOutItems?: Uint8Array;
}

/**
 * Cloze batches (BERT4Rec): row = the user's last maxlen TRAIN items left-padded (all of them, not
 * train[:-1]); each item is replaced by `maskToken` with probability `maskProb` (when none is, the last
 * one is), pos = the original item at the masked positions and 0 elsewhere, negatives (K per masked
 * position, or shared) drawn as in the next-item mode. Draws per row, oldest column first: one uniform
 * per item (masked when u < maskProb), then that position's K negatives when it is masked; the forced
 * last mask's negatives after them.
 */
export interface ClozeOptions {
  /** ρ: the probability that an item is masked, in (0, 1] */
  readonly maskProb: number;
  /** the id of the [mask] token: above every item id (BERT4Rec: itemNum + 1) */
  readonly maskToken: number;
}

/** Everything needed to resume the sample stream exactly: RNG words and the position in the current pass. */
export interface SamplerState {
  rng: number[];
  /** RNG state just before the current order's shuffle, to rebuild it */
  passRng: number[];
  /** index in the current order of the next user; 0 = a pass boundary (userNum, from older versions, reads as 0) */
  position: number;
}

/**
 * What the training loop draws its batches from: a stream of batches whose state can be saved after
 * any batch and restored exactly (resume). TrainSampler is the one every sequence model uses; a model
 * with another batching (session-parallel GRU4Rec) brings its own.
 */
export interface BatchSource {
  /** optimizer steps per epoch */
  readonly batchesPerEpoch: number;
  /** how batches are drawn, for the training log ('' when there is nothing to say beyond the defaults) */
  describe(): string;
  /** the next batch; a previous batch of the same shape may be refilled instead of allocating */
  nextBatch(out?: TrainBatch): TrainBatch;
  getState(): SamplerState;
  setState(state: SamplerState): void;
}

/** A sampler's train data and shape in a few flat arrays (see TrainSampler.flatTrainData). */
export interface FlatTrainData {
  userNum: number;
  itemNum: number;
  batchSize: number;
  maxlen: number;
  userSampling: UserSampling;
  negatives: number;
  sharedNegatives: boolean;
  cloze?: ClozeOptions;
  offsets: Int32Array;
  items: Int32Array;
  times?: Float64Array;
  heldOutItems?: Uint8Array;
}

/**
 * Training batches with the reference's `sample_function` semantics: users are visited in a random
 * order (or at random, as `userSampling` says); a user with ≤ 1 train items is replaced by a uniformly random user
 * (redrawn until one has ≥ 2); inputs = train[:-1] right-aligned in maxlen, pos = the next item,
 * neg = a uniform item in 1..itemNum outside the user's TRAIN items (and never a held-out item of a
 * cold-items split, which training does not see). As in the reference, only train
 * items are excluded, so the user's valid/test items can be drawn as negatives. With `cloze`, the
 * same users make BERT4Rec's masked-item rows instead (ClozeOptions).
 */
export class TrainSampler implements BatchSource {
  readonly batchSize: number;
  readonly maxlen: number;
  readonly userNum: number;
  readonly itemNum: number;
  readonly userSampling: UserSampling;
  /** negatives per position (or shared by the batch), see SamplerOptions */
  readonly negatives: number;
  readonly sharedNegatives: boolean;
  /** the cloze settings, when the batches are cloze batches */
  readonly cloze: ClozeOptions | undefined;
  private readonly rng: Rng;
  private readonly train: Int32Array[];
  private readonly trainTimes: Float64Array[] | undefined;
  /** CSR of each user's sorted distinct train items, for negative rejection by binary search */
  private readonly seenOffsets: Int32Array;
  private readonly seenItems: Int32Array;
  /** items never drawn as negatives (SamplerOptions.heldOutItems) */
  private readonly heldOutItems: Uint8Array | undefined;
  private readonly order: Int32Array;
  private position: number;
  private passRng: number[];

  constructor(split: Split, options: SamplerOptions) {
    const { batchSize, maxlen } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`TrainSampler: batchSize must be ≥ 1, got ${batchSize}`);
    if (!Number.isInteger(maxlen) || maxlen < 1) throw new RangeError(`TrainSampler: maxlen must be ≥ 1, got ${maxlen}`);
    this.batchSize = batchSize;
    this.maxlen = maxlen;
    this.userSampling = options.userSampling ?? 'shuffle';
    if (!USER_SAMPLING_MODES.includes(this.userSampling)) {
      throw new RangeError(`TrainSampler: userSampling must be ${USER_SAMPLING_MODES.join(', ')}, got ${String(this.userSampling)}`);
    }
    this.negatives = options.negatives ?? 1;
    this.sharedNegatives = options.sharedNegatives ?? false;
    if (!Number.isInteger(this.negatives) || this.negatives < 0)
      throw new RangeError(`TrainSampler: negatives must be an integer ≥ 0, got ${this.negatives}`);
    this.cloze = options.cloze ? { maskProb: options.cloze.maskProb, maskToken: options.cloze.maskToken } : undefined;
    if (this.cloze) {
      const { maskProb, maskToken } = this.cloze;
      if (!(maskProb > 0 && maskProb <= 1)) throw new RangeError(`TrainSampler: cloze maskProb must be in (0, 1], got ${maskProb}`);
      if (!(Number.isInteger(maskToken) && maskToken > split.data.itemNum)) {
        throw new RangeError(`TrainSampler: cloze maskToken must be an integer above the item ids 1..${split.data.itemNum}, got ${maskToken}`);
      }
    }
    this.userNum = split.data.userNum;
    this.itemNum = split.data.itemNum;
    this.train = split.train;
    this.trainTimes = split.trainTimes;
    this.rng = options.rng ?? new Rng(options.seed ?? 0);
    this.heldOutItems = options.heldOutItems ?? (split.cold?.kind === 'items' ? split.cold.held : undefined);
    let drawable = this.itemNum;
    if (this.heldOutItems) for (let i = 1; i <= this.itemNum; i++) if (this.heldOutItems[i] !== 0) drawable--;

    let total = 0;
    let trainable = 0;
    for (let u = 1; u <= this.userNum; u++) {
      total += split.train[u].length;
      if (split.train[u].length > 1) trainable++;
    }
    if (trainable === 0) throw new UserError('no user has 2 or more training items, so there is nothing to train on');
    this.seenOffsets = new Int32Array(this.userNum + 2);
    this.seenItems = new Int32Array(total);
    let p = 0;
    for (let u = 1; u <= this.userNum; u++) {
      this.seenOffsets[u] = p;
      const sorted = Int32Array.from(split.train[u]).sort();
      for (let k = 0; k < sorted.length; k++) if (k === 0 || sorted[k] !== sorted[k - 1]) this.seenItems[p++] = sorted[k];
      if (p - this.seenOffsets[u] >= drawable && split.train[u].length > 1) {
        throw new UserError(`user ${split.data.users.toRaw[u]} interacted with every item, so no negative can be sampled`);
      }
    }
    this.seenOffsets[this.userNum + 1] = p;
    this.order = new Int32Array(this.userNum);
    this.position = 0;
    this.passRng = this.rng.getState();
  }

  /**
   * The train sequences this sampler draws from, in flat arrays for a sampler worker (data/sampler-worker.ts):
   * fresh arrays (CSR: user u's items are items[offsets[u]..offsets[u+1]]), safe to transfer.
   */
  flatTrainData(): FlatTrainData {
    const offsets = new Int32Array(this.userNum + 2);
    let total = 0;
    for (let u = 1; u <= this.userNum; u++) {
      offsets[u] = total;
      total += this.train[u].length;
    }
    offsets[this.userNum + 1] = total;
    const items = new Int32Array(total);
    const times = this.trainTimes ? new Float64Array(total) : undefined;
    for (let u = 1; u <= this.userNum; u++) {
      items.set(this.train[u], offsets[u]);
      times?.set(this.trainTimes![u], offsets[u]);
    }
    return {
      userNum: this.userNum,
      itemNum: this.itemNum,
      batchSize: this.batchSize,
      maxlen: this.maxlen,
      userSampling: this.userSampling,
      negatives: this.negatives,
      sharedNegatives: this.sharedNegatives,
      ...(this.cloze ? { cloze: { ...this.cloze } } : {}),
      offsets,
      items,
      times,
      ...(this.heldOutItems ? { heldOutItems: this.heldOutItems.slice() } : {}),
    };
  }

  /** A sampler over flatTrainData()'s data in the given state: draws exactly what the original would from that state. */
  static fromFlat(p: FlatTrainData, state: SamplerState): TrainSampler {
    const train: Int32Array[] = [new Int32Array(0)];
    const trainTimes: Float64Array[] | undefined = p.times ? [new Float64Array(0)] : undefined;
    for (let u = 1; u <= p.userNum; u++) {
      train.push(p.items.subarray(p.offsets[u], p.offsets[u + 1]));
      trainTimes?.push(p.times!.subarray(p.offsets[u], p.offsets[u + 1]));
    }
    const noIds = { toIndex: new Map<string, number>(), toRaw: [] as string[] };
    const data = { userNum: p.userNum, itemNum: p.itemNum, seqs: train, users: noIds, items: noIds };
    const split = { data, train, trainTimes, valid: new Int32Array(p.userNum + 1), test: new Int32Array(p.userNum + 1) } as Split;
    const sampler = new TrainSampler(split, {
      batchSize: p.batchSize,
      maxlen: p.maxlen,
      userSampling: p.userSampling,
      negatives: p.negatives,
      sharedNegatives: p.sharedNegatives,
      ...(p.cloze ? { cloze: p.cloze } : {}),
      ...(p.heldOutItems ? { heldOutItems: p.heldOutItems } : {}),
      seed: 0,
    });
    sampler.setState(state);
    return sampler;
  }

  describe(): string {
    return this.userSampling !== 'shuffle' ? `user sampling ${this.userSampling}` : '';
  }

  /** Batches per epoch as the reference counts them: ceil(users / batchSize). */
  get batchesPerEpoch(): number {
    return Math.ceil(this.userNum / this.batchSize);
  }

  /** The next batch; pass a previous batch of the same shape as `out` to refill it instead of allocating. */
  nextBatch(out?: TrainBatch): TrainBatch {
    const B = this.batchSize;
    const L = this.maxlen;
    const withTimes = this.trainTimes !== undefined;
    const negLength = this.sharedNegatives ? this.negatives : B * L * this.negatives;
    let batch: TrainBatch;
    if (out) {
      if (out.batchSize !== B || out.maxlen !== L || out.neg.length !== negLength || (withTimes && !out.times)) {
        throw new RangeError('nextBatch: `out` has another shape');
      }
      batch = out;
      batch.seqs.fill(0);
      batch.pos.fill(0);
      batch.neg.fill(0);
      batch.times?.fill(0);
    } else {
      const base = {
        batchSize: B,
        maxlen: L,
        users: new Int32Array(B),
        seqs: new Int32Array(B * L),
        pos: new Int32Array(B * L),
        neg: new Int32Array(negLength),
        negatives: this.negatives,
        sharedNegatives: this.sharedNegatives,
      };
      batch = withTimes ? { ...base, times: new Float64Array(B * L) } : base;
    }
    for (let b = 0; b < B; b++) {
      let uid: number;
      if (this.userSampling === 'uniform') {
        uid = 1 + this.rng.nextInt(this.userNum);
      } else {
        if (this.position === 0 && (b === 0 || this.userSampling === 'shuffle')) {
          this.passRng = this.rng.getState();
          this.shuffleOrder();
        }
        uid = this.order[this.position];
        this.position = this.position + 1 === this.userNum ? 0 : this.position + 1;
      }
      while (this.train[uid].length <= 1) uid = 1 + this.rng.nextInt(this.userNum);
      batch.users[b] = uid;
      if (this.cloze) this.fillClozeRow(uid, b * L, batch, this.cloze);
      else this.fillRow(uid, b * L, batch);
    }
    if (this.sharedNegatives) for (let k = 0; k < this.negatives; k++) batch.neg[k] = this.anyItem();
    return batch;
  }

  // A fresh identity each time (not a reshuffle of the last order) so the order can be rebuilt from passRng.
  private shuffleOrder(): void {
    for (let k = 0; k < this.userNum; k++) this.order[k] = k + 1;
    this.rng.shuffle(this.order);
  }

  private fillRow(uid: number, off: number, batch: TrainBatch): void {
    const s = this.train[uid];
    const t = this.trainTimes?.[uid];
    const lo = this.seenOffsets[uid];
    const hi = this.seenOffsets[uid + 1];
    const L = this.maxlen;
    const K = this.sharedNegatives ? 0 : this.negatives;
    let nxt = s[s.length - 1];
    let idx = L - 1;
    for (let k = s.length - 2; k >= 0 && idx >= 0; k--, idx--) {
      batch.seqs[off + idx] = s[k];
      batch.pos[off + idx] = nxt;
      for (let j = 0; j < K; j++) batch.neg[(off + idx) * K + j] = this.negative(lo, hi);
      if (t) batch.times![off + idx] = t[k];
      nxt = s[k];
    }
  }

  /** A cloze row (see ClozeOptions) into the zeroed row at `off`. */
  private fillClozeRow(uid: number, off: number, batch: TrainBatch, cloze: ClozeOptions): void {
    const s = this.train[uid];
    const t = this.trainTimes?.[uid];
    const lo = this.seenOffsets[uid];
    const hi = this.seenOffsets[uid + 1];
    const L = this.maxlen;
    const K = this.sharedNegatives ? 0 : this.negatives;
    const n = Math.min(s.length, L);
    const first = s.length - n;
    const mask = (idx: number, item: number) => {
      batch.seqs[off + idx] = cloze.maskToken;
      batch.pos[off + idx] = item;
      for (let j = 0; j < K; j++) batch.neg[(off + idx) * K + j] = this.negative(lo, hi);
    };
    let masked = 0;
    for (let k = 0; k < n; k++) {
      const idx = L - n + k;
      const item = s[first + k];
      if (t) batch.times![off + idx] = t[first + k];
      if (this.rng.nextFloat() < cloze.maskProb) {
        mask(idx, item);
        masked++;
      } else batch.seqs[off + idx] = item;
    }
    if (masked === 0) mask(L - 1, s[s.length - 1]);
  }

  /** A uniform item of 1..itemNum, redrawn while held out. */
  private anyItem(): number {
    for (;;) {
      const c = 1 + this.rng.nextInt(this.itemNum);
      if (this.heldOutItems === undefined || this.heldOutItems[c] === 0) return c;
    }
  }

  private negative(lo: number, hi: number): number {
    const seen = this.seenItems;
    for (;;) {
      const c = this.anyItem();
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
    if (!Number.isInteger(state.position) || state.position < 0 || state.position > this.userNum) {
      throw new RangeError(`TrainSampler.setState: position ${state.position} out of range 0..${this.userNum}`);
    }
    this.passRng = state.passRng.slice();
    this.position = state.position === this.userNum ? 0 : state.position;
    // at 0 the next draw reshuffles (in 'cycle' mode only at a batch start, which is where states are taken)
    if (this.position > 0) {
      this.rng.setState(state.passRng);
      this.shuffleOrder();
    }
    this.rng.setState(state.rng);
  }
}

/** Right-aligns the last `maxlen` of `items` into a zero (left-)padded row. */
export function leftPad(items: ArrayLike<number>, maxlen: number, out: Int32Array = new Int32Array(maxlen)): Int32Array {
  out.fill(0);
  const n = Math.min(items.length, maxlen);
  for (let k = 0; k < n; k++) out[maxlen - n + k] = items[items.length - n + k];
  return out;
}

/**
 * The evaluation input of the reference's evaluate()/evaluate_valid(): the user's train items,
 * plus the valid item at the end when `forTest`, left-padded to maxlen.
 */
export function buildHistory(split: Split, user: number, maxlen: number, forTest: boolean, out: Int32Array = new Int32Array(maxlen)): Int32Array {
  out.fill(0);
  let idx = maxlen - 1;
  if (forTest && split.valid[user] !== 0 && idx >= 0) out[idx--] = split.valid[user];
  const s = split.train[user];
  for (let k = s.length - 1; k >= 0 && idx >= 0; k--) out[idx--] = s[k];
  return out;
}

/** Timestamps aligned with buildHistory (0 for padding); undefined when the split has no times. */
export function buildHistoryTimes(
  split: Split,
  user: number,
  maxlen: number,
  forTest: boolean,
  out: Float64Array = new Float64Array(maxlen),
): Float64Array | undefined {
  if (!split.trainTimes) return undefined;
  out.fill(0);
  let idx = maxlen - 1;
  if (forTest && split.valid[user] !== 0 && idx >= 0) out[idx--] = split.validTimes![user];
  const t = split.trainTimes[user];
  for (let k = t.length - 1; k >= 0 && idx >= 0; k--) out[idx--] = t[k];
  return out;
}
