/** Random training batches for model tests. */
import type { Rng } from '../../src/engine/rng.js';

/**
 * A sampler-like batch of `lengths.length` left-padded rows of `maxlen` columns, row b holding
 * lengths[b] real positions; at each real position (left to right) seqs, pos and neg items are drawn
 * in that order, each uniform in 1..items. Padding is 0.
 */
export function leftPaddedBatch(lengths: number[], rng: Rng, maxlen: number, items: number) {
  const B = lengths.length,
    L = maxlen;
  const seqs = new Int32Array(B * L),
    pos = new Int32Array(B * L),
    neg = new Int32Array(B * L);
  lengths.forEach((n, b) => {
    for (let t = L - n; t < L; t++) {
      seqs[b * L + t] = 1 + rng.nextInt(items);
      pos[b * L + t] = 1 + rng.nextInt(items);
      neg[b * L + t] = 1 + rng.nextInt(items);
    }
  });
  return { batchSize: B, maxlen: L, seqs, pos, neg };
}
