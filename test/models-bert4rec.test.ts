/**
 * BERT4Rec's network: gradient checks of its loss (dense and packed, ce and a sampled loss with the
 * output bias, dropout with fixed masks), the two paths agree, it is bidirectional and
 * padding-invariant, prediction scores the [mask] appended to the history and never the mask token,
 * its model file round-trips (also as a foreign state_dict), and the wasm backend follows the
 * reference one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ops from '../src/engine/ops.js';
import type { PackedBatch } from '../src/engine/packing.js';
import { Rng } from '../src/engine/rng.js';
import { serializeSafetensors } from '../src/engine/safetensors.js';
import { getTape } from '../src/engine/tape.js';
import type { Tensor } from '../src/engine/tensor.js';
import { buildSingleBatch } from '../src/eval/history.js';
import { recommendTopK } from '../src/eval/recommend.js';
import { bceK } from '../src/losses/bce.js';
import { lossFor } from '../src/losses/index.js';
import { BERT4Rec, type BERT4RecConfig } from '../src/models/bert4rec/bert4rec.js';
import { bert4recMetadata } from '../src/models/bert4rec/checkpoint.js';
import { bert4recOptions } from '../src/models/bert4rec/options.js';
import { bert4rec } from '../src/models/bert4rec/spec.js';
import { NetworkModel } from '../src/models/common/network-model.js';
import { detectModel } from '../src/models/registry.js';
import { Adam } from '../src/optim/adam.js';
import { trainStep } from '../src/learn/step.js';
import { gradCheck } from './helpers/gradcheck.js';
import { assertWasmFollowsReference } from './helpers/wasm.js';
import { DEFAULT_TRAINING_RECORD } from '../src/models/contract.js';

const N = 10; // items 1..10, mask 11
const M = N + 1;
const tiny: BERT4RecConfig = { itemNum: N, maxlen: 5, hiddenUnits: 4, numBlocks: 2, numHeads: 2, dropoutRate: 0.3 };

/** Three cloze rows: padding, masks with their targets. */
const cloze = {
  batchSize: 3,
  maxlen: 5,
  seqs: Int32Array.from([0, 0, 3, M, 5, 1, M, 3, M, 5, 0, 0, 0, 0, M]),
  pos: Int32Array.from([0, 0, 0, 4, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 8]),
  neg: new Int32Array(0),
  negatives: 0,
};

/** Moves the 1-D parameters off their initial 0 / 1, so that every bias and LayerNorm gain matters. */
function perturb(model: BERT4Rec, seed: number): void {
  const rng = new Rng(seed);
  for (const p of model.parameters()) if (p.shape.length === 1) for (let i = 0; i < p.size; i++) p.data[i] += 0.2 * rng.normal();
}

/** Feature rows of a [B·L, d] tensor as arrays. */
function rowsOf(t: Tensor, rows: number[]): number[][] {
  const d = t.lastDim;
  return rows.map((r) => Array.from(t.data.subarray(r * d, (r + 1) * d)));
}

function closeRows(a: number[][], b: number[][], tol: number, what: string): void {
  for (const [r, row] of a.entries()) {
    for (const [c, v] of row.entries()) assert.ok(Math.abs(v - b[r][c]) <= tol, `${what} row ${r} col ${c}: ${v} vs ${b[r][c]}`);
  }
}

for (const packed of [false, true]) {
  for (const lossName of ['ce', 'bce_k'] as const) {
    test(`BERT4Rec loss gradient (${packed ? 'packed' : 'dense'}, ${lossName}, dropout 0.3 with fixed masks)`, () => {
      const loss = lossName === 'ce' ? lossFor(bert4recOptions.parse({}), N) : bceK(2);
      const model = new BERT4Rec(tiny, { seed: 3, packed, loss });
      perturb(model, 17);
      const batch =
        lossName === 'ce'
          ? cloze
          : { ...cloze, negatives: 2, neg: Int32Array.from({ length: 30 }, (_, i) => (cloze.pos[i >> 1] ? 1 + ((i * 7) % N) : 0)) };
      const named = model.namedParameters();
      const state = model.dropoutRng.getState();
      const a = model.loss(batch).item();
      const b = model.loss(batch).item();
      getTape().reset();
      assert.notEqual(a, b, 'dropout fires');
      // (a small step: with d = 4 the LayerNorms make the loss curve within a few 1e-3)
      const res = gradCheck(
        () => model.loss(batch),
        named.map(([, p]) => p),
        {
          eps: 1e-3,
          rtol: 2e-2,
          atol: 2e-3,
          maxPerInput: 12,
          beforeEach: () => model.dropoutRng.setState(state),
        },
      );
      assert.ok(res.checked > 200, `checked ${res.checked}`);
      assert.ok(res.ok, `ratio ${res.worstRatio}: ${named[Number(res.worst.split(' ')[1])][0]} ${res.worst}`);
      const grad = (name: string) => res.analytic[named.findIndex(([n]) => n === name)];
      // every parameter takes part: the output bias at the targets, the mask token's input row
      assert.ok(grad('output_bias')[4] !== 0 && grad('output_bias')[8] !== 0);
      assert.ok(
        grad('item_embedding.weight')
          .subarray(M * 4, M * 4 + 4)
          .some((v) => v !== 0),
        'the [mask] row learns from the input side',
      );
      if (lossName === 'ce') assert.equal(grad('output_bias')[0], 0, 'the padding item is no candidate');
    });
  }
}

test('dense and packed paths agree (loss and every gradient) without dropout', () => {
  const results = [false, true].map((packed) => {
    const model = new BERT4Rec({ ...tiny, dropoutRate: 0 }, { seed: 4, packed, loss: lossFor(bert4recOptions.parse({}), N) });
    perturb(model, 5);
    model.zeroGrad();
    const loss = model.loss(cloze);
    getTape().backward(loss);
    const grads = model.namedParameters().map(([n, p]) => [n, Array.from(p.grad ?? new Float32Array(p.size))] as const);
    getTape().reset();
    return { loss: loss.item(), grads };
  });
  assert.ok(Math.abs(results[0].loss - results[1].loss) < 1e-5, `${results[0].loss} vs ${results[1].loss}`);
  for (const [i, [name, g]] of results[0].grads.entries()) closeRows([g], [results[1].grads[i][1] as number[]], 1e-5, name);
});

test('BERT4Rec is bidirectional: an early position depends on a later item (and SASRec-style causality is absent)', () => {
  const model = new BERT4Rec(tiny, { seed: 6 }).eval();
  perturb(model, 7);
  const seqs = Int32Array.from([0, 2, 3, 4, 5]);
  const other = Int32Array.from([0, 2, 3, 4, 9]);
  for (const packed of [false, true]) {
    model.packed = packed;
    const f = (s: Int32Array) => (packed ? rowsOf(packedFeats(model, s, 1), [0]) : rowsOf(model.log2feats(s, 1), [1]));
    const a = f(seqs);
    const b = f(other);
    getTape().reset();
    // (at BERT's small initial weights attention is nearly uniform: the effect is small, but far above
    // float32 rounding; a causal model would give exactly the same features)
    assert.ok(Math.max(...a[0].map((v, c) => Math.abs(v - b[0][c]))) > 1e-5, `${packed ? 'packed' : 'dense'}: position 1 moves with the item at 4`);
  }
});

/** The packed path's features of left-padded rows (through the model's own layout). */
function packedFeats(model: BERT4Rec, seqs: Int32Array, batchSize: number): Tensor {
  // a packed loss forward builds the layout; log2featsPacked reads it (the same code the loss runs)
  const layout = (model as unknown as { trainLayout: PackedBatch }).trainLayout;
  assert.ok(layout.build(seqs, batchSize));
  return model.log2featsPacked(layout);
}

test('BERT4Rec is padding-invariant: the outputs at real positions do not depend on the left padding', () => {
  const model = new BERT4Rec({ ...tiny, maxlen: 8 }, { seed: 8 }).eval();
  perturb(model, 9);
  const items = [3, 7, M, 2];
  // the same four items with 0, 2 and 4 padding positions (rows of length 4, 6 and 8), dense and packed
  const asRow = (len: number) => Int32Array.from([...new Array(len - items.length).fill(0), ...items]);
  const dense = [4, 6, 8].map((len) =>
    rowsOf(
      model.log2feats(asRow(len), 1),
      [0, 1, 2, 3].map((t) => len - 4 + t),
    ),
  );
  const packed = [4, 6, 8].map((len) => rowsOf(packedFeats(model, asRow(len), 1), [0, 1, 2, 3]));
  getTape().reset();
  for (const rows of [...dense.slice(1), ...packed]) closeRows(rows, dense[0], 1e-5, 'padding');
  // a batch of rows with different padding gives each row what it gets alone
  const batch = Int32Array.from([...asRow(8), 0, 0, 0, 0, 0, 0, 0, 5]);
  const both = rowsOf(model.log2feats(batch, 2), [4, 5, 6, 7, 15]);
  const alone = rowsOf(model.log2feats(Int32Array.from([0, 0, 0, 0, 0, 0, 0, 5]), 1), [7]);
  getTape().reset();
  closeRows(both.slice(0, 4), dense[0], 1e-5, 'in a batch');
  closeRows(both.slice(4), alone, 1e-5, 'the other row');
});

test('prediction: the history without its oldest position + [mask]; the scores are the logits at the mask, over items 0..N only', () => {
  const model = new BERT4Rec(tiny, { seed: 10 });
  perturb(model, 11);
  const hist = { batchSize: 2, maxlen: 5, users: Int32Array.of(0, 0), seqs: Int32Array.from([0, 0, 1, 2, 3, 6, 7, 8, 9, 10]) };
  const input = model.withMaskAppended(hist.seqs, 2);
  assert.deepEqual(Array.from(input), [0, 1, 2, 3, M, 7, 8, 9, 10, M]);
  const scores = model.scoreAll(hist);
  assert.equal(scores.length, 2 * (N + 1), 'entries 0..N: the mask token is never scored');
  assert.equal(model.training, true, 'scoring restores the mode');
  // by hand, on the dense path: head(features at the last column) · E[i] + b[i]
  model.eval();
  model.packed = false;
  const h = rowsOf(model.head(ops.embedding(model.log2feats(input, 2), Int32Array.of(4, 9))), [0, 1]);
  // scored at the last item instead of an appended mask, the scores would differ
  const noMask = rowsOf(model.head(ops.embedding(model.log2feats(hist.seqs, 2), Int32Array.of(4, 9))), [0, 1]);
  getTape().reset();
  model.train();
  const E = model.itemEmb.weight.data;
  const bias = model.outputBias.data;
  const logit = (row: number[], i: number) => row.reduce((acc, v, c) => acc + v * E[i * 4 + c], bias[i]);
  for (let b = 0; b < 2; b++) {
    for (let i = 0; i <= N; i++) {
      const s = logit(h[b], i);
      assert.ok(Math.abs(scores[b * (N + 1) + i] - s) < 1e-5, `row ${b} item ${i}: ${scores[b * (N + 1) + i]} vs ${s}`);
    }
    assert.ok(Math.abs(logit(noMask[b], 1) - logit(h[b], 1)) > 1e-4);
  }
  // the dense path scores the same as the packed one
  closeRows([Array.from(model.scoreAll(hist))], [Array.from(scores)], 1e-5, 'dense scores');
  model.packed = true;
  // the oldest position of a full history is dropped: changing it changes nothing
  assert.deepEqual(model.scoreAll({ ...hist, seqs: Int32Array.from([0, 0, 1, 2, 3, 1, 7, 8, 9, 10]) }), scores);
  // candidates: the same scores
  const cand = Int32Array.from([3, 1, 10, 5, 5, 2]);
  const cs = model.scoreCandidates(hist, cand, 3);
  for (const [k, it] of cand.entries()) assert.ok(Math.abs(cs[k] - scores[Math.floor(k / 3) * (N + 1) + it]) < 1e-5);
});

test('recommend never returns the mask token or a history item, even when the mask token would score best', () => {
  const model = new BERT4Rec(tiny, { seed: 12 });
  perturb(model, 13);
  const history = [2, 5, 7];
  const batch = buildSingleBatch(history, tiny.maxlen);
  // make the [mask] row the best possible output item: the head's own output at the mask, scaled up
  model.eval();
  const h = rowsOf(model.head(ops.embedding(model.log2feats(model.withMaskAppended(batch.seqs, 1), 1), Int32Array.of(4))), [0])[0];
  getTape().reset();
  for (const [c, v] of h.entries()) model.itemEmb.weight.data[M * 4 + c] = 100 * v;
  const top = recommendTopK(model, { items: history }, N);
  assert.equal(top.length, N - history.length);
  for (const { item } of top) assert.ok(item >= 1 && item <= N && !history.includes(item), `recommended ${item}`);
});

test('the model file: config metadata, the same scores after loading, found by sniffing; a foreign state_dict loads too', () => {
  const network = new BERT4Rec(tiny, { seed: 14 });
  perturb(network, 15);
  const options = bert4recOptions.parse({ hidden_units: 4, maxlen: 5, num_heads: 2, mask_prob: 0.4 });
  const record = { ...DEFAULT_TRAINING_RECORD, batchSize: 32, lr: 0.01, numEpochs: 3 };
  const items = { toIndex: new Map<string, number>(), toRaw: [''] };
  for (let i = 1; i <= N; i++) {
    items.toIndex.set(`i${i}`, i);
    items.toRaw.push(`i${i}`);
  }
  const users = { toIndex: new Map([['u1', 1]]), toRaw: ['', 'u1'] };
  const model = new NetworkModel('bert4rec', network, bert4recMetadata(tiny, options, record), {
    items,
    users,
    histories: [new Int32Array(0), Int32Array.of(3, 1)],
  });
  const bytes = model.serialize();
  assert.equal(detectModel(bytes), bert4rec);
  const loaded = bert4rec.load(bytes);
  const hist = { batchSize: 2, maxlen: 5, users: Int32Array.of(0, 0), seqs: Int32Array.from([0, 0, 1, 2, 3, 6, 7, 8, 9, 10]) };
  assert.deepEqual(loaded.scorer.scoreAll(hist), network.scoreAll(hist));
  const config = loaded.describe();
  assert.equal(config.model, 'bert4rec');
  assert.equal(config.mask_prob, 0.4);
  assert.equal(config.loss, 'ce');
  assert.equal(config.item_num, N);
  assert.deepEqual(loaded.items.toRaw, items.toRaw);
  assert.deepEqual(loaded.histories, [new Int32Array(0), Int32Array.of(3, 1)]);
  // the state_dict names and shapes
  const sd = network.stateDict();
  assert.deepEqual(sd.get('item_embedding.weight')?.shape, [N + 2, 4]);
  assert.deepEqual(sd.get('position_embedding.weight')?.shape, [5, 4]);
  assert.deepEqual(sd.get('output_bias')?.shape, [N + 1]);
  assert.deepEqual(sd.get('encoder.layers.1.self_attn.in_proj_weight')?.shape, [12, 4]);
  assert.deepEqual(sd.get('encoder.layers.0.linear1.weight')?.shape, [16, 4]);
  assert.deepEqual(sd.get('encoder.layers.0.linear2.weight')?.shape, [4, 16]);
  for (const name of [
    'embedding_layernorm.weight',
    'encoder.layers.0.norm1.bias',
    'encoder.layers.1.norm2.weight',
    'output_dense.weight',
    'output_layernorm.bias',
  ]) {
    assert.ok(sd.has(name), name);
  }
  // a bare state_dict (as PyTorch would save it): the sizes from the shapes, num_heads from the caller
  const foreign = serializeSafetensors(new Map([...sd].map(([n, t]) => [n, { dtype: 'F32' as const, shape: t.shape, data: t.data }])));
  assert.equal(detectModel(foreign), bert4rec);
  const fromForeign = bert4rec.load(foreign, { num_heads: 2 });
  assert.deepEqual(fromForeign.scorer.scoreAll(hist), network.scoreAll(hist));
  assert.equal(fromForeign.describe().num_blocks, 2);
  // a file with another head count reads as another network
  assert.notDeepEqual(bert4rec.load(foreign, { num_heads: 1 }).scorer.scoreAll(hist), network.scoreAll(hist));
});

test('BERT4Rec on the wasm kernels follows the reference kernels (dropout on, Adam steps, scores)', () => {
  assertWasmFollowsReference(() => {
    const cfg = { itemNum: 30, maxlen: 9, hiddenUnits: 8, numBlocks: 2, numHeads: 2, dropoutRate: 0.2 };
    const model = new BERT4Rec(cfg, { seed: 21, loss: lossFor(bert4recOptions.parse({}), 30) });
    const adam = new Adam(model.namedParameters(), { lr: 0.01 });
    const rng = new Rng(22);
    const losses: number[] = [];
    for (let step = 0; step < 4; step++) {
      const seqs = new Int32Array(6 * 9);
      const pos = new Int32Array(6 * 9);
      [9, 3, 1, 6, 9, 2].forEach((n, b) => {
        for (let t = 9 - n; t < 9; t++) {
          const item = 1 + rng.nextInt(30);
          const masked = t === 8 || rng.nextFloat() < 0.3;
          seqs[b * 9 + t] = masked ? 31 : item;
          pos[b * 9 + t] = masked ? item : 0;
        }
      });
      losses.push(trainStep(model, adam, { batchSize: 6, maxlen: 9, seqs, pos, neg: new Int32Array(0), negatives: 0 }));
    }
    const hist = {
      batchSize: 2,
      maxlen: 9,
      users: Int32Array.of(0, 0),
      seqs: Int32Array.from([0, 0, 0, 0, 0, 4, 5, 6, 7, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
    };
    const scores = Array.from(model.scoreAll(hist));
    const params = model.namedParameters().map(([n, p]) => [n, Array.from(p.data)] as const);
    model.dispose();
    return { losses, scores, params };
  });
});
