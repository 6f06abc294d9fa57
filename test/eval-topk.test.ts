/**
 * topK equals a brute-force stable sort (score descending, ties by lower id; NaN, padding and excluded
 * items left out, −∞ kept) on random rows with many ties, at several k and offsets, across repeated
 * calls (its reused exclusion marks never leak into the next call).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/engine/rng.js';
import { topK } from '../src/eval/protocols.js';

function bruteForce(scores: Float32Array, offset: number, itemNum: number, k: number, exclude: number[]): Array<{ item: number; score: number }> {
  const out: Array<{ item: number; score: number }> = [];
  for (let i = 1; i <= itemNum; i++) {
    const s = scores[offset + i];
    if (!Number.isNaN(s) && !exclude.includes(i)) out.push({ item: i, score: s });
  }
  out.sort((a, b) => b.score - a.score || a.item - b.item);
  return out.slice(0, k);
}

test('topK equals a brute-force sort: ties by lower id, NaN and excluded items out, −∞ in, marks cleared between calls', () => {
  const rng = new Rng(11);
  for (let trial = 0; trial < 400; trial++) {
    const itemNum = 1 + rng.nextInt(60);
    const offset = rng.nextInt(3) * (itemNum + 1);
    const scores = new Float32Array(offset + itemNum + 1);
    for (let i = 0; i < scores.length; i++) {
      const r = rng.nextInt(20);
      scores[i] = r === 0 ? Number.NaN : r === 1 ? Number.NEGATIVE_INFINITY : rng.nextInt(8) / 4;
    }
    const exclude = Array.from({ length: rng.nextInt(8) }, () => rng.nextInt(itemNum + 3) - 1);
    const k = 1 + rng.nextInt(itemNum + 4);
    const expected = bruteForce(scores, offset, itemNum, k, exclude);
    assert.deepEqual(topK(scores, offset, itemNum, k, exclude), expected, `trial ${trial} with exclusions`);
    assert.deepEqual(topK(scores, offset, itemNum, k), bruteForce(scores, offset, itemNum, k, []), `trial ${trial} without`);
  }
});
