/**
 * Dynamic batching: the queries for one model that arrive within `maxWaitMs` of the first (at most
 * `maxBatch`) are scored in one call, one GEMM for the whole batch; each gets its own top-K, the same
 * as if it had been scored alone (the rows of a batch do not interact).
 */
import { fillHistoryRow } from '../eval/history.js';
import { assertFiniteScores, topK } from '../eval/protocols.js';
import type { HistoryBatch, Scorer } from '../eval/types.js';
import type { ServedQuery } from './queries.js';

export interface Ranked {
  readonly items: Array<{ item: number; score: number }>;
}

/** Scores `queries` with one scoreAll over a batch of their histories; the top-K of each. */
export function scoreQueries(scorer: Scorer, queries: readonly ServedQuery[]): Ranked[] {
  const B = queries.length;
  const L = scorer.maxlen;
  const seqs = new Int32Array(B * L);
  const users = new Int32Array(B);
  const timed = queries.some((q) => q.query.times !== undefined);
  const times = timed ? new Float64Array(B * L) : undefined;
  queries.forEach((q, b) => {
    users[b] = q.query.user ?? 0;
    fillHistoryRow(seqs, b, L, q.query.items, 0, times, q.query.times ?? (times ? new Float64Array(q.query.items.length) : undefined));
  });
  const batch: HistoryBatch = times ? { batchSize: B, maxlen: L, users, seqs, times } : { batchSize: B, maxlen: L, users, seqs };
  const N1 = scorer.itemNum + 1;
  const scores = scorer.scoreAll(batch);
  assertFiniteScores(scores, B, N1, 1, 'recommend');
  return queries.map((q, b) => ({ items: topK(scores, b * N1, scorer.itemNum, q.k, q.exclude) }));
}

interface Pending {
  query: ServedQuery;
  resolve(r: Ranked): void;
  reject(e: unknown): void;
}

export class Batcher {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly scorer: Scorer,
    private readonly maxBatch: number,
    private readonly maxWaitMs: number,
    private readonly onBatch?: (size: number) => void,
  ) {}

  submit(query: ServedQuery): Promise<Ranked> {
    if (this.maxBatch <= 1) {
      this.onBatch?.(1);
      return Promise.resolve(scoreQueries(this.scorer, [query])[0]);
    }
    return new Promise<Ranked>((resolve, reject) => {
      this.pending.push({ query, resolve, reject });
      if (this.pending.length >= this.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.maxWaitMs);
    });
  }

  /** Scores what is waiting now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    this.onBatch?.(batch.length);
    try {
      const ranked = scoreQueries(
        this.scorer,
        batch.map((p) => p.query),
      );
      for (const [i, p] of batch.entries()) p.resolve(ranked[i]);
    } catch (e) {
      for (const p of batch) p.reject(e);
    }
  }
}
