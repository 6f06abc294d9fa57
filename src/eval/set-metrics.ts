/**
 * Top-K metrics for several ground-truth items per user, as RecBole defines them
 * (recbole/evaluator/metrics.py), from the 0-based positions the truth items take in the user's
 * ranked list (history excluded):
 *
 * - Hit@K = 1 when any truth item is in the top K.
 * - Recall@K = (truth items in the top K) / |truth|.
 * - Precision@K = (truth items in the top K) / K.
 * - MRR@K = 1/(p+1) for the first (best-placed) truth item p when p < K, else 0.
 * - NDCG@K = DCG/IDCG, DCG = Σ over truth positions p < K of 1/log2(p+2), IDCG = Σ_{i < min(|truth|, K)} 1/log2(i+2).
 *
 * Each is averaged over the evaluated users.
 */

/** Metric names in output order for the given cut-offs. */
export function setMetricNames(ks: readonly number[]): string[] {
  const names: string[] = [];
  for (const k of ks) names.push(`Recall@${k}`, `NDCG@${k}`, `Hit@${k}`, `MRR@${k}`, `Precision@${k}`);
  return names;
}

/** Accumulates one user at a time (the sorted positions of their truth items) and averages. */
export class SetMetrics {
  readonly ks: readonly number[];
  private readonly sums = new Map<string, number>();
  private n = 0;

  constructor(ks: readonly number[]) {
    this.ks = [...ks];
    for (const name of setMetricNames(ks)) this.sums.set(name, 0);
  }

  /** `positions`: 0-based places of the user's distinct truth items in their ranked list. */
  add(positions: ArrayLike<number>): void {
    const sorted = Float64Array.from(positions).sort();
    const truth = sorted.length;
    if (truth === 0) throw new RangeError('SetMetrics.add: a user needs at least one truth item');
    for (const k of this.ks) {
      let hits = 0;
      let dcg = 0;
      for (const p of sorted) {
        if (p >= k) break;
        hits++;
        dcg += 1 / Math.log2(p + 2);
      }
      let idcg = 0;
      for (let i = 0; i < Math.min(truth, k); i++) idcg += 1 / Math.log2(i + 2);
      this.bump(`Recall@${k}`, hits / truth);
      this.bump(`NDCG@${k}`, dcg / idcg);
      this.bump(`Hit@${k}`, hits > 0 ? 1 : 0);
      this.bump(`MRR@${k}`, sorted[0] < k ? 1 / (sorted[0] + 1) : 0);
      this.bump(`Precision@${k}`, hits / k);
    }
    this.n++;
  }

  private bump(name: string, v: number): void {
    this.sums.set(name, (this.sums.get(name) ?? 0) + v);
  }

  get count(): number {
    return this.n;
  }

  /** Means over the added users; all 0 when none was added. */
  summary(): Record<string, number> {
    const out: Record<string, number> = {};
    const d = this.n > 0 ? this.n : 1;
    for (const [name, s] of this.sums) out[name] = s / d;
    return out;
  }
}
