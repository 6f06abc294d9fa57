/**
 * Paired comparison of two models evaluated on the same users: the per-user metric difference, a
 * bootstrap confidence interval of its mean (users resampled with replacement, percentile interval) and
 * a two-sided sign-flip permutation p-value (under "no difference" each user's difference is as likely
 * negated). Pairing removes what the users themselves contribute (who was held out, how hard their
 * item is), which dominates a between-seeds spread when few users are evaluated.
 */
import { UserError } from '../core/errors.js';
import { Rng } from '../engine/rng.js';
import { hitAt, ndcgAt, reciprocalRank } from './metrics.js';

/** The per-user value of a metric named as in the results tables (HR@K, NDCG@K, MRR) from a 0-based rank. */
export function perUserMetric(name: string): (rank: number) => number {
  const m = /^(HR|NDCG)@([1-9]\d*)$/.exec(name);
  if (m) {
    const k = Number(m[2]);
    return m[1] === 'HR' ? (r) => hitAt(r, k) : (r) => ndcgAt(r, k);
  }
  if (name === 'MRR') return reciprocalRank;
  throw new UserError(`--metric ${name}: expected HR@K, NDCG@K (K a positive integer) or MRR`);
}

/** How `pairedComparison` resamples. */
export interface PairedOptions {
  /** bootstrap resamples and sign-flip permutations (default 10000) */
  readonly resamples?: number;
  /** confidence level of the interval (default 0.95) */
  readonly confidence?: number;
  /** seed of the resampling (default 1) */
  readonly seed?: number;
}

/** What `pairedComparison` finds. */
export interface PairedSummary {
  /** users compared */
  readonly users: number;
  /** mean of the baseline's values */
  readonly baseline: number;
  /** mean of the candidate's values */
  readonly candidate: number;
  /** mean of candidate − baseline over the users */
  readonly diff: number;
  /** lower end of the bootstrap interval of `diff` */
  readonly ciLow: number;
  /** upper end of the bootstrap interval of `diff` */
  readonly ciHigh: number;
  /** two-sided sign-flip permutation p-value, (count + 1) / (resamples + 1) */
  readonly p: number;
  /** users where the candidate is above the baseline */
  readonly wins: number;
  /** users where the two are equal */
  readonly ties: number;
  /** users where the candidate is below the baseline */
  readonly losses: number;
}

/** Compares per-user values `candidate[i]` against `baseline[i]` (the same user at the same i). */
export function pairedComparison(baseline: Float64Array, candidate: Float64Array, options: PairedOptions = {}): PairedSummary {
  const n = baseline.length;
  if (candidate.length !== n) throw new Error(`paired comparison: ${n} baseline values against ${candidate.length} candidate values`);
  if (n === 0) throw new UserError('paired comparison: no users to compare');
  const resamples = options.resamples ?? 10_000;
  const confidence = options.confidence ?? 0.95;
  const rng = new Rng(options.seed ?? 1);
  const d = new Float64Array(n);
  let sumA = 0;
  let sumB = 0;
  let wins = 0;
  let losses = 0;
  for (let i = 0; i < n; i++) {
    d[i] = candidate[i] - baseline[i];
    sumA += baseline[i];
    sumB += candidate[i];
    if (d[i] > 0) wins++;
    else if (d[i] < 0) losses++;
  }
  const diff = mean(d);

  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += d[rng.nextInt(n)];
    means[r] = s / n;
  }
  means.sort();
  const tail = (1 - confidence) / 2;

  // |mean| of a sign-flipped sample at least the observed one (a relative tolerance for float sums)
  const observed = Math.abs(diff) * (1 - 1e-12);
  let extreme = 0;
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += rng.nextU32() & 1 ? d[i] : -d[i];
    if (Math.abs(s / n) >= observed) extreme++;
  }
  return {
    users: n,
    baseline: sumA / n,
    candidate: sumB / n,
    diff,
    ciLow: quantile(means, tail),
    ciHigh: quantile(means, 1 - tail),
    p: (extreme + 1) / (resamples + 1),
    wins,
    ties: n - wins - losses,
    losses,
  };
}

function mean(x: Float64Array): number {
  let s = 0;
  for (const v of x) s += v;
  return s / x.length;
}

/** The q-quantile of sorted values, linearly interpolated (numpy's default). */
export function quantile(sorted: Float64Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}
