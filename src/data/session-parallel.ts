/**
 * Session-parallel mini-batches (GRU4Rec: Hidasi et al., ICLR 2016, §3.1.1), with a user's training
 * sequence as the session. Each of the B slots of a batch runs through one user's sequence, one
 * transition per step: input s[k], target s[k + 1]. When a user's sequence ends, the next user in the
 * order takes the slot at the next step and the slot's hidden state is reset (`starts`). The order is
 * the authors' code's (time_sort): users by their first training event when the data has times, else by
 * id; it is the same every epoch, so an epoch has a fixed number of steps. Unlike the authors' code,
 * which ends an epoch as soon as a slot finds no further session, an epoch here runs until every
 * sequence has ended: slots whose users are done idle (all zeros) for the last steps, so that every
 * training transition is used exactly once per epoch and every slot starts afresh with the next epoch
 * (the network keeps no hidden state across an epoch boundary, so a checkpoint at an epoch's end needs
 * none).
 *
 * With `samples` K > 0, each batch also carries K items shared by the whole batch (GRU4Rec+: Hidasi &
 * Karatzoglou, CIKM 2018), drawn with probability ∝ supp_i^α, supp_i the item's number of training
 * events (α = 0: uniform over the items seen in training, α = 1: by popularity).
 */
import { UserError } from '../core/errors.js';
import type { Rng } from '../engine/rng.js';
import type { BatchSource, SamplerState } from './sampler.js';
import type { Split, TrainBatch } from './types.js';

/** A session-parallel batch: rows are slots (maxlen 1), plus which slots start a sequence. */
export interface SessionParallelBatch extends TrainBatch {
  /** [B]: 1 where the slot's sequence starts at this step, so its hidden state starts from zero (1 for an idle slot too) */
  readonly starts: Uint8Array;
}

/** Whether a batch is session-parallel (carries `starts`). */
export function isSessionParallelBatch(batch: TrainBatch): batch is SessionParallelBatch {
  return (batch as Partial<SessionParallelBatch>).starts instanceof Uint8Array;
}

/** How session-parallel batches are drawn. */
export interface SessionParallelOptions {
  /** B: parallel slots */
  readonly batchSize: number;
  /** the stream the shared samples are drawn from */
  readonly rng: Rng;
  /** K: items drawn per batch, shared by every slot (default 0) */
  readonly samples?: number;
  /** α: an item is drawn with probability ∝ supp^α (default 0.75, the authors' code's) */
  readonly sampleAlpha?: number;
}

/** The batches of session-parallel training over a split's training sequences (see the file's comment). */
export class SessionParallelSource implements BatchSource {
  readonly batchSize: number;
  readonly samples: number;
  readonly sampleAlpha: number;
  /** the steps of an epoch: until the last sequence has ended */
  readonly batchesPerEpoch: number;
  /** the users with ≥ 2 training items, in the order they take slots */
  readonly order: Int32Array;
  /** the training transitions of an epoch (Σ over the users of length − 1) */
  readonly transitions: number;
  private readonly train: Int32Array[];
  private readonly rng: Rng;
  /** per slot: its users, and the step at which each starts */
  private readonly slotUsers: Int32Array[];
  private readonly slotStarts: Int32Array[];
  /** per slot: the index in its list of the user it runs now (or will next) */
  private readonly cursor: Int32Array;
  /** cumulative distribution of the shared samples over items 0..itemNum (null when none are drawn) */
  private readonly cdf: Float64Array | null;
  private position = 0;

  constructor(split: Split, options: SessionParallelOptions) {
    const B = options.batchSize;
    if (!Number.isInteger(B) || B < 1) throw new RangeError(`SessionParallelSource: batchSize must be ≥ 1, got ${B}`);
    this.batchSize = B;
    this.samples = options.samples ?? 0;
    this.sampleAlpha = options.sampleAlpha ?? 0.75;
    if (!Number.isInteger(this.samples) || this.samples < 0)
      throw new RangeError(`SessionParallelSource: samples must be an integer ≥ 0, got ${this.samples}`);
    if (!(this.sampleAlpha >= 0)) throw new RangeError(`SessionParallelSource: sampleAlpha must be ≥ 0, got ${this.sampleAlpha}`);
    this.train = split.train;
    this.rng = options.rng;
    this.order = sessionOrder(split);
    if (this.order.length === 0) throw new UserError('no user has 2 or more training items, so there is nothing to train on');
    let transitions = 0;
    for (const u of this.order) transitions += split.train[u].length - 1;
    this.transitions = transitions;

    // Greedy filling, as the authors' code: at each step, the slots whose sequence has ended take the
    // next users of the order, lowest slot first.
    const users: number[][] = Array.from({ length: B }, () => []);
    const starts: number[][] = Array.from({ length: B }, () => []);
    const free = new Float64Array(B);
    let next = 0;
    for (let t = 0; next < this.order.length; t++) {
      for (let b = 0; b < B && next < this.order.length; b++) {
        if (free[b] > t) continue;
        const u = this.order[next++];
        users[b].push(u);
        starts[b].push(t);
        free[b] = t + split.train[u].length - 1;
      }
    }
    let steps = 0;
    for (let b = 0; b < B; b++) steps = Math.max(steps, free[b]);
    this.batchesPerEpoch = steps;
    this.slotUsers = users.map((l) => Int32Array.from(l));
    this.slotStarts = starts.map((l) => Int32Array.from(l));
    this.cursor = new Int32Array(B);
    this.cdf = this.samples > 0 ? supportCdf(split, this.sampleAlpha) : null;
  }

  describe(): string {
    const samples = this.samples > 0 ? `, ${this.samples} shared negatives ∝ support^${this.sampleAlpha}` : '';
    return `session-parallel: ${this.order.length} users, ${this.transitions} transitions in ${this.batchesPerEpoch} steps of ${this.batchSize} slots${samples}`;
  }

  /** The next step's batch; pass the previous batch as `out` to refill it. */
  nextBatch(out?: TrainBatch): SessionParallelBatch {
    const B = this.batchSize;
    const K = this.samples;
    let batch: SessionParallelBatch;
    if (out) {
      if (!isSessionParallelBatch(out) || out.batchSize !== B || out.maxlen !== 1 || out.neg.length !== K) {
        throw new RangeError('nextBatch: `out` has another shape');
      }
      batch = out;
    } else {
      batch = {
        batchSize: B,
        maxlen: 1,
        users: new Int32Array(B),
        seqs: new Int32Array(B),
        pos: new Int32Array(B),
        neg: new Int32Array(K),
        negatives: K,
        sharedNegatives: true,
        starts: new Uint8Array(B),
      };
    }
    const t = this.position;
    if (t === 0) this.cursor.fill(0);
    for (let b = 0; b < B; b++) {
      const list = this.slotUsers[b];
      const begun = this.slotStarts[b];
      let i = this.cursor[b];
      while (i < list.length && begun[i] + this.train[list[i]].length - 1 <= t) i++;
      this.cursor[b] = i;
      if (i === list.length || begun[i] > t) {
        batch.users[b] = 0;
        batch.seqs[b] = 0;
        batch.pos[b] = 0;
        batch.starts[b] = 1;
        continue;
      }
      const u = list[i];
      const k = t - begun[i];
      batch.users[b] = u;
      batch.seqs[b] = this.train[u][k];
      batch.pos[b] = this.train[u][k + 1];
      batch.starts[b] = k === 0 ? 1 : 0;
    }
    if (this.cdf) for (let j = 0; j < K; j++) batch.neg[j] = drawFrom(this.cdf, this.rng.nextFloat());
    this.position = t + 1 === this.batchesPerEpoch ? 0 : t + 1;
    return batch;
  }

  /** The random stream's words and the step in the epoch (passRng: the same words; the order has no randomness). */
  getState(): SamplerState {
    const rng = this.rng.getState();
    return { rng, passRng: rng.slice(), position: this.position };
  }

  setState(state: SamplerState): void {
    if (!Number.isInteger(state.position) || state.position < 0 || state.position > this.batchesPerEpoch) {
      throw new RangeError(`SessionParallelSource.setState: position ${state.position} out of range 0..${this.batchesPerEpoch}`);
    }
    this.rng.setState(state.rng);
    this.position = state.position === this.batchesPerEpoch ? 0 : state.position;
    this.cursor.fill(0); // the next batch walks each slot's list forward to the step
  }
}

/** The users with ≥ 2 training items, by their first training event's time (ties and untimed data: by id). */
function sessionOrder(split: Split): Int32Array {
  const users: number[] = [];
  for (let u = 1; u <= split.data.userNum; u++) if (split.train[u].length > 1) users.push(u);
  const times = split.trainTimes;
  if (times) users.sort((a, b) => times[a][0] - times[b][0] || a - b);
  return Int32Array.from(users);
}

/** The cumulative distribution over items 0..itemNum of supp^α (items without training events: 0). */
function supportCdf(split: Split, alpha: number): Float64Array {
  const n = split.data.itemNum;
  const support = new Float64Array(n + 1);
  for (let u = 1; u <= split.data.userNum; u++) for (const i of split.train[u]) support[i]++;
  const cdf = new Float64Array(n + 1);
  let total = 0;
  for (let i = 1; i <= n; i++) {
    total += support[i] > 0 ? support[i] ** alpha : 0;
    cdf[i] = total;
  }
  let last = n;
  while (support[last] === 0) last--;
  for (let i = 1; i <= n; i++) cdf[i] = i >= last ? 1 : cdf[i] / total;
  return cdf;
}

/** The first item whose cumulative probability exceeds u ∈ [0, 1) (never one of probability 0). */
function drawFrom(cdf: Float64Array, u: number): number {
  let lo = 1;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cdf[mid] > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
