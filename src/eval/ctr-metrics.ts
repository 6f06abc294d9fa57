/**
 * Click-through metrics over labelled examples (the `--task ctr` protocol, docs/metrics.md): AUC as the
 * Mann–Whitney statistic (tied scores count one half) and log-loss on clipped probabilities.
 */

/** Probabilities are clipped to [LOG_LOSS_EPS, 1 − LOG_LOSS_EPS] before the log (scikit-learn's and RecBole's 1e-15 is below float32's resolution). */
export const LOG_LOSS_EPS = 1e-7;

function checkLengths(scores: ArrayLike<number>, labels: ArrayLike<number>, what: string): void {
  if (scores.length !== labels.length) throw new Error(`${what}: ${scores.length} scores for ${labels.length} labels`);
}

/**
 * AUC = P(score of a random positive > score of a random negative) + ½ P(tie), over every
 * (positive, negative) pair; computed from the ranks after one sort (O(n log n)): with tied scores
 * given their average rank, AUC = (Σ ranks of positives − P(P+1)/2) / (P·N). NaN when one class is absent.
 */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkLengths(scores, labels, 'auc');
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let positives = 0;
  let rankSum = 0;
  for (let lo = 0; lo < n; ) {
    let hi = lo + 1;
    while (hi < n && scores[order[hi]] === scores[order[lo]]) hi++;
    const rank = (lo + 1 + hi) / 2; // the average of the 1-based ranks lo+1 .. hi
    for (let k = lo; k < hi; k++) {
      if (labels[order[k]] === 1) {
        positives++;
        rankSum += rank;
      }
    }
    lo = hi;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** σ(x), computed without overflow for large |x|. */
export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** Mean −[y ln p + (1 − y) ln(1 − p)] with p = σ(logit) clipped to [LOG_LOSS_EPS, 1 − LOG_LOSS_EPS]. */
export function logLoss(logits: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkLengths(logits, labels, 'logLoss');
  if (logits.length === 0) return Number.NaN;
  let sum = 0;
  for (let m = 0; m < logits.length; m++) {
    const p = Math.min(1 - LOG_LOSS_EPS, Math.max(LOG_LOSS_EPS, sigmoid(logits[m])));
    sum -= labels[m] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return sum / logits.length;
}

/** AUC and LogLoss of logits against 0/1 labels, as results.json names them. */
export function ctrMetrics(logits: ArrayLike<number>, labels: ArrayLike<number>): { AUC: number; LogLoss: number } {
  return { AUC: auc(logits, labels), LogLoss: logLoss(logits, labels) };
}
