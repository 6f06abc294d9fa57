/**
 * Dynamic batching: the queries that arrive within `maxWaitMs` (at most `maxBatch` of them) are
 * scored in one scoreAll call over one history batch, so one matrix product serves them all. Each
 * row's scores depend on its own history only, so a batched answer equals the unbatched one.
 */
import type { Query } from '../eval/recommend.js';
import { fillHistoryRow } from '../eval/history.js';
import { assertFiniteScores, topK } from '../eval/protocols.js';
import type { HistoryBatch, Scorer } from '../eval/types.js';

/** A query to score: the history (dense ids), the items to leave out besides it, and k. */
export interface ScoreRequest {
  readonly query: Query;
  readonly exclude: ArrayLike<number>;
  readonly k: number;
}

export type Ranked = Array<{ item: number; score: number }>;

interface Pending {
  readonly request: ScoreRequest;
  readonly resolve: (r: Ranked) => void;
  readonly reject: (e: unknown) => void;
}

export class Batcher {
  private readonly queues: { timed: Pending[]; untimed: Pending[] } = { timed: [], untimed: [] };
  private timer: NodeJS.Timeout | undefined;
  private readonly seqs: Int32Array;
  private readonly times: Float64Array;
  private readonly users: Int32Array;
  private scores: Float32Array | undefined;

  constructor(
    private readonly scorer: Scorer,
    private readonly maxBatch: number,
    private readonly maxWaitMs: number,
    private readonly onBatch: (size: number) => void = () => {},
  ) {
    this.seqs = new Int32Array(maxBatch * scorer.maxlen);
    this.times = new Float64Array(maxBatch * scorer.maxlen);
    this.users = new Int32Array(maxBatch);
  }

  score(request: ScoreRequest): Promise<Ranked> {
    return new Promise((resolve, reject) => {
      const queue = request.query.times ? this.queues.timed : this.queues.untimed;
      queue.push({ request, resolve, reject });
      if (queue.length >= this.maxBatch) this.flush(queue);
      else if (this.timer === undefined) this.timer = setTimeout(() => this.flushAll(), this.maxWaitMs);
    });
  }

  private flushAll(): void {
    this.timer = undefined;
    while (this.queues.timed.length > 0) this.flush(this.queues.timed);
    while (this.queues.untimed.length > 0) this.flush(this.queues.untimed);
  }

  /** Scores the first maxBatch queries of `queue`, all with times or all without. */
  private flush(queue: Pending[]): void {
    const group = queue.splice(0, this.maxBatch);
    if (group.length === 0) return;
    const { maxlen, itemNum } = this.scorer;
    const B = group.length;
    const withTimes = group[0].request.query.times !== undefined;
    for (let b = 0; b < B; b++) {
      const q = group[b].request.query;
      this.users[b] = q.user ?? 0;
      fillHistoryRow(this.seqs, b, maxlen, q.items, 0, withTimes ? this.times : undefined, q.times);
    }
    const batch: HistoryBatch = {
      batchSize: B,
      maxlen,
      users: this.users.subarray(0, B),
      seqs: this.seqs.subarray(0, B * maxlen),
      ...(withTimes ? { times: this.times.subarray(0, B * maxlen) } : {}),
    };
    this.onBatch(B);
    try {
      const width = itemNum + 1;
      if (this.scores === undefined) this.scores = new Float32Array(this.maxBatch * width);
      const scores = this.scorer.scoreAll(batch, this.scores);
      assertFiniteScores(scores, B, width, 1, 'recommend');
      for (let b = 0; b < B; b++) {
        const { query, exclude, k } = group[b].request;
        const skip = exclude.length === 0 ? query.items : [...Array.from(query.items), ...Array.from(exclude)];
        group[b].resolve(topK(scores, b * width, itemNum, k, skip));
      }
    } catch (err) {
      for (const p of group) p.reject(err);
    }
  }

  /** Scores what is still queued (before the model is disposed). */
  drain(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.flushAll();
  }
}
