/**
 * SASRec's prediction runs the last block's row-wise layers on the last positions only
 * (log2featsPacked with keepRows): its features equal the full packed forward's rows there within
 * 1e-6, for post-LN, pre-LN, no_residual, no blocks and the mHC variant, on left-padded histories of
 * several lengths (an empty one included); scoreAll gives those features' scores.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PackedBatch } from '../src/engine/packing.js';
import { withInferenceTape } from '../src/engine/tape.js';
import { SASRec, type SASRecConfig } from '../src/models/sasrec/sasrec.js';

const base = { itemNum: 30, maxlen: 7, hiddenUnits: 8, numBlocks: 2, numHeads: 2, dropoutRate: 0.2 };
const seqs = Int32Array.from([0, 0, 0, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6, 7, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11, 12, 13, 14, 15]);
const B = seqs.length / base.maxlen;

function check(config: SASRecConfig, what: string): void {
  const net = new SASRec(config, { seed: 7 });
  net.eval();
  const layout = new PackedBatch();
  assert.ok(layout.build(seqs, B));
  const d = config.hiddenUnits;
  const { full, kept } = withInferenceTape(() => {
    const all = net.log2featsPacked(layout).data;
    const full = new Float32Array(B * d);
    for (let b = 0; b < B; b++) full.set(all.subarray(layout.lastRow[b] * d, (layout.lastRow[b] + 1) * d), b * d);
    return { full, kept: net.log2featsPacked(layout, layout.lastRow).data.slice() };
  });
  assert.equal(kept.length, B * d, what);
  let worst = 0;
  for (let i = 0; i < full.length; i++) worst = Math.max(worst, Math.abs(full[i] - kept[i]));
  assert.ok(worst <= 1e-6, `${what}: max |kept − full| = ${worst}`);
  assert.ok(full.some((v) => v !== 0));

  const n = config.itemNum + 1;
  const scores = net.scoreAll({ batchSize: B, maxlen: config.maxlen, users: new Int32Array(B), seqs });
  const emb = net.itemEmb.weight.data;
  let worstScore = 0;
  for (let b = 0; b < B; b++)
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += full[b * d + k] * emb[i * d + k];
      worstScore = Math.max(worstScore, Math.abs(s - scores[b * n + i]));
    }
  assert.ok(worstScore <= 1e-5, `${what}: scoreAll vs the full forward's features: ${worstScore}`);
  net.dispose();
}

test('the last block on the last positions only equals the full packed forward there (post-LN, pre-LN, no_residual, 0 blocks, mHC)', () => {
  check(base, 'post-LN');
  check({ ...base, normFirst: true }, 'pre-LN');
  check({ ...base, noResidual: true }, 'no_residual');
  check({ ...base, numBlocks: 1 }, 'one block');
  check({ ...base, numBlocks: 0 }, 'no blocks');
  check({ ...base, mhc: { expansionRate: 2, sinkhornIter: 6, initGate: 0.5 } }, 'mHC');
});
