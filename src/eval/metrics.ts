/**
 * Ranking metrics for next-item evaluation: HR@K, NDCG@K and MRR, from the 0-based rank of the
 * held-out item.
 *
 * Rank convention (matches the reference's `(-scores).argsort().argsort()[0]` with the held-out item
 * at index 0, read as a stable sort): rank = the number of candidates scoring strictly higher than the
 * held-out item. Candidates that tie with it do NOT rank above it. NaN sorts last in numpy, so a NaN
 * candidate never ranks above the item, and a NaN held-out item ranks below every non-NaN candidate.
 *
 * (numpy's default argsort kind is an unstable quicksort, so the reference's tie order is formally
 * unspecified; the stable reading — ties go to the item listed first, the held-out one — is the one
 * seqrec implements and tests.)
 */

export const DEFAULT_KS: readonly number[] = [10];

/** 1 when the item is in the top K (rank < K), else 0. */
export function hitAt(rank: number, k: number): number {
  return rank < k ? 1 : 0;
}

/** NDCG@K with a single relevant item: 1/log2(rank+2) when rank < K, else 0. */
export function ndcgAt(rank: number, k: number): number {
  return rank < k ? 1 / Math.log2(rank + 2) : 0;
}

/** Reciprocal rank: 1/(rank+1). */
export function reciprocalRank(rank: number): number {
  return 1 / (rank + 1);
}

/**
 * Rank of the held-out item among `n` candidate scores starting at `offset`, where the held-out item's
 * score is `scores[offset]` and the other n-1 follow it (the reference's layout).
 */
export function rankFirst(scores: ArrayLike<number>, offset: number, n: number): number {
  const t = scores[offset];
  let rank = 0;
  if (Number.isNaN(t)) {
    // NaN target: every non-NaN candidate sorts before it
    for (let c = 1; c < n; c++) if (!Number.isNaN(scores[offset + c])) rank++;
    return rank;
  }
  for (let c = 1; c < n; c++) if (scores[offset + c] > t) rank++;
  return rank;
}

/** Metric names in output order for the given cut-offs: HR@k, NDCG@k for each k, then MRR. */
export function metricNames(ks: readonly number[]): string[] {
  const names: string[] = [];
  for (const k of ks) names.push(`HR@${k}`, `NDCG@${k}`);
  names.push('MRR');
  return names;
}

/** Validates cut-offs: positive integers, no duplicates. Throws RangeError otherwise. */
export function checkKs(ks: readonly number[]): void {
  if (ks.length === 0) throw new RangeError('at least one cut-off K is needed');
  const seen = new Set<number>();
  for (const k of ks) {
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`cut-off K must be a positive integer, got ${k}`);
    if (seen.has(k)) throw new RangeError(`cut-off K=${k} given twice`);
    seen.add(k);
  }
}

/** Accumulates ranks (one per evaluated user) and averages HR@K, NDCG@K, MRR. */
export class RankMetrics {
  readonly ks: readonly number[];
  private readonly hr: Float64Array;
  private readonly ndcg: Float64Array;
  private mrr = 0;
  private n = 0;

  constructor(ks: readonly number[] = DEFAULT_KS) {
    checkKs(ks);
    this.ks = [...ks];
    this.hr = new Float64Array(ks.length);
    this.ndcg = new Float64Array(ks.length);
  }

  add(rank: number): void {
    for (let j = 0; j < this.ks.length; j++) {
      const k = this.ks[j];
      if (rank < k) {
        this.hr[j] += 1;
        this.ndcg[j] += 1 / Math.log2(rank + 2);
      }
    }
    this.mrr += 1 / (rank + 1);
    this.n++;
  }

  get count(): number {
    return this.n;
  }

  /** Means over the added ranks ({ 'HR@10': …, 'NDCG@10': …, MRR: … }); all 0 when nothing was added. */
  summary(): Record<string, number> {
    const out: Record<string, number> = {};
    const d = this.n > 0 ? this.n : 1;
    for (let j = 0; j < this.ks.length; j++) {
      out[`HR@${this.ks[j]}`] = this.hr[j] / d;
      out[`NDCG@${this.ks[j]}`] = this.ndcg[j] / d;
    }
    out.MRR = this.mrr / d;
    return out;
  }
}

/** Metrics of a list of ranks. */
export function metricsFromRanks(ranks: ArrayLike<number>, ks: readonly number[] = DEFAULT_KS): Record<string, number> {
  const m = new RankMetrics(ks);
  for (let i = 0; i < ranks.length; i++) m.add(ranks[i]);
  return m.summary();
}
