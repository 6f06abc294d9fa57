import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auc, LOG_LOSS_EPS, logLoss, sigmoid } from '../src/eval/ctr-metrics.js';
import { Rng } from '../src/engine/rng.js';

const close = (a: number, b: number, what: string, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} != ${b}`);

/** The definition: over every (positive, negative) pair, 1 when the positive scores higher, ½ on a tie. */
function pairwiseAuc(s: number[], y: number[]): number {
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < s.length; i++) {
    for (let j = 0; j < s.length; j++) {
      if (y[i] !== 1 || y[j] !== 0) continue;
      pairs++;
      sum += s[i] > s[j] ? 1 : s[i] === s[j] ? 0.5 : 0;
    }
  }
  return sum / pairs;
}

test('AUC by hand: perfect, reversed, and one swapped pair of 2×2', () => {
  close(auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]), 1, 'perfect');
  close(auc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]), 0, 'reversed');
  // positives at 0.3 and 0.9, negatives at 0.1 and 0.5: pairs (0.3>0.1) (0.3<0.5) (0.9>0.1) (0.9>0.5) → 3/4
  close(auc([0.1, 0.3, 0.5, 0.9], [0, 1, 0, 1]), 3 / 4, 'one swapped pair');
});

test('AUC counts a tie as one half: every score equal gives 0.5; one tied pair of 2×1', () => {
  close(auc([0.4, 0.4, 0.4, 0.4], [1, 0, 1, 0]), 0.5, 'all tied');
  // positives 0.7 and 0.5, negative 0.5: pairs 1 + ½ → 3/4
  close(auc([0.7, 0.5, 0.5], [1, 1, 0]), 3 / 4, 'one tie');
  // a tie group spanning both classes and positions: pos {2, 2, 5}, neg {2, 1}; pairs: (2,2)=½ (2,1)=1 ×2, (5,2)=1 (5,1)=1 → 5/6
  close(auc([2, 2, 5, 2, 1], [1, 1, 1, 0, 0]), 5 / 6, 'tie group');
});

test('AUC equals the pairwise definition on random scores with many ties, whatever the order', () => {
  const rng = new Rng(7);
  for (let trial = 0; trial < 20; trial++) {
    const n = 5 + rng.nextInt(60);
    const s = Array.from({ length: n }, () => rng.nextInt(6) / 2); // few distinct values: ties everywhere
    const y = Array.from({ length: n }, (_, i) => (i < 2 ? i : rng.nextInt(2)));
    close(auc(s, y), pairwiseAuc(s, y), `trial ${trial}`);
  }
});

test('AUC is NaN when one class is missing', () => {
  assert.ok(Number.isNaN(auc([1, 2], [1, 1])));
  assert.ok(Number.isNaN(auc([1, 2], [0, 0])));
});

test('log-loss by hand on logits, and clipped at LOG_LOSS_EPS', () => {
  // logit 0 → p = ½ either way: ln 2
  close(logLoss([0, 0], [1, 0]), Math.LN2, 'p = 1/2');
  // logit ln 3 → p = 3/4: label 1 costs −ln(3/4), label 0 costs −ln(1/4)
  close(logLoss([Math.log(3), Math.log(3)], [1, 0]), (-Math.log(3 / 4) - Math.log(1 / 4)) / 2, 'p = 3/4', 1e-12);
  // a confident wrong answer costs −ln(ε), not ∞
  close(logLoss([-1000], [1]), -Math.log(LOG_LOSS_EPS), 'clipped wrong');
  close(logLoss([1000], [1]), -Math.log(1 - LOG_LOSS_EPS), 'clipped right');
  close(sigmoid(-800), 0, 'σ(−800) does not overflow');
});
