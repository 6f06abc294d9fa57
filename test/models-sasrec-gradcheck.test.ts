/**
 * Whole-model gradient check of the SASRec loss with dropout on (masks fixed by rewinding the dropout
 * rng before every evaluation): covers the paths the dropout-free parity fixtures cannot.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../src/engine/rng.js';
import { SASRec } from '../src/models/sasrec/sasrec.js';
import { gradCheck } from './helpers/gradcheck.js';

for (const normFirst of [false, true]) {
  test(`SASRec loss gradient, dropout 0.3, ${normFirst ? 'pre' : 'post'}-LN`, () => {
    const model = new SASRec(
      { itemNum: 12, maxlen: 5, hiddenUnits: 4, numBlocks: 2, numHeads: 2, dropoutRate: 0.3, normFirst, l2Emb: 0.05 },
      { seed: 3 },
    );
    const batch = {
      batchSize: 3,
      maxlen: 5,
      seqs: Int32Array.from([0, 0, 3, 4, 5, 1, 2, 3, 4, 5, 0, 0, 0, 0, 7]),
      pos: Int32Array.from([0, 0, 4, 5, 6, 2, 3, 4, 5, 6, 0, 0, 0, 0, 8]),
      neg: Int32Array.from([0, 0, 9, 10, 11, 12, 11, 10, 9, 8, 0, 0, 0, 0, 1]),
    };
    const named = model.namedParameters();
    // Perturb the 1-D parameters as the PyTorch fixtures do. At the reference's initialisation the
    // attention biases are 0, so a post-LN padding row enters LayerNorm as an exact zero vector
    // (rstd = 1/sqrt(1e-8)): its gradient is then huge and finite differences are meaningless.
    const init = new Rng(17);
    for (const [, p] of named) if (p.shape.length === 1) for (let i = 0; i < p.size; i++) p.data[i] += 0.2 * init.normal();
    const params = named.map(([, p]) => p);
    const state = model.dropoutRng.getState();
    // dropout must actually fire: two evaluations with different masks differ
    const a = model.loss(batch).item();
    const b = model.loss(batch).item();
    assert.notEqual(a, b);
    const res = gradCheck(() => model.loss(batch), params, {
      eps: 3e-3,
      rtol: 2e-2,
      atol: 2e-3,
      maxPerInput: 12,
      beforeEach: () => model.dropoutRng.setState(state),
      // padding rows: no gradient by definition (padding_idx), though the loss depends on pos_emb row 0
      skip: (i, e) => (named[i][0] === 'item_emb.weight' || named[i][0] === 'pos_emb.weight') && e < 4,
    });
    assert.ok(res.checked > 150, `checked ${res.checked}`);
    assert.ok(res.ok, `ratio ${res.worstRatio}: ${named[Number(res.worst.split(' ')[1])][0]} ${res.worst}`);
  });
}
