/**
 * GRU4Rec's network: a training step carries each slot's state to the next step (reset where a
 * sequence starts, dropped-out as the authors' code carries it), its loss is the ranking loss of the
 * GRU's features, scoring runs the GRU over the history with padding skipped (any padding, any mix of
 * lengths in a batch), the model file round-trips for both registry names, and the wasm backend
 * follows the reference one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SessionParallelBatch } from '../src/data/session-parallel.js';
import { gruCell } from '../src/engine/gru.js';
import * as ops from '../src/engine/ops.js';
import { Rng } from '../src/engine/rng.js';
import { getTape } from '../src/engine/tape.js';
import { Tensor } from '../src/engine/tensor.js';
import { sessionRankingLoss } from '../src/losses/session-ranking.js';
import { NetworkModel } from '../src/models/common/network-model.js';
import { gru4recMetadata } from '../src/models/gru4rec/checkpoint.js';
import { GRU4Rec, type GRU4RecConfig } from '../src/models/gru4rec/gru4rec.js';
import { gru4recOptions, gru4recPlusOptions, networkConfig } from '../src/models/gru4rec/options.js';
import { gru4rec, gru4recPlus } from '../src/models/gru4rec/spec.js';
import { detectModel } from '../src/models/registry.js';
import { Adam } from '../src/optim/adam.js';
import { trainStep } from '../src/learn/step.js';
import { gradCheck } from './helpers/gradcheck.js';
import { assertWasmFollowsReference } from './helpers/wasm.js';
import { DEFAULT_TRAINING_RECORD } from '../src/models/contract.js';

const N = 12;
const cfg: GRU4RecConfig = { itemNum: N, hiddenUnits: 5, maxlen: 6, dropoutRate: 0, tiedEmbedding: false };
const loss = sessionRankingLoss({ kind: 'bpr_max', samples: 3, activation: { kind: 'linear' }, bpreg: 0.5 });

/** A network whose biases are not 0, so that every parameter matters. */
function network(seed: number, c: GRU4RecConfig = cfg): GRU4Rec {
  const net = new GRU4Rec(c, { seed, loss });
  const rng = new Rng(seed + 1);
  for (const [name, p] of net.namedParameters())
    if (name === 'gru.b' || name === 'output_bias') for (let i = 0; i < p.size; i++) p.data[i] = 0.3 * rng.normal();
  return net;
}

function sessionBatch(seqs: number[], pos: number[], starts: number[], neg = [4, 9, 1]): SessionParallelBatch {
  const B = seqs.length;
  return {
    batchSize: B,
    maxlen: 1,
    users: Int32Array.from(seqs, (s) => (s === 0 ? 0 : 1)),
    seqs: Int32Array.from(seqs),
    pos: Int32Array.from(pos),
    neg: Int32Array.from(neg),
    negatives: neg.length,
    sharedNegatives: true,
    starts: Uint8Array.from(starts),
  };
}

const param = (net: GRU4Rec, name: string) => net.namedParameters().find(([n]) => n === name)![1];

/** The GRU's state after `items` from zero, by the op directly with the network's weights. */
function stateAfter(net: GRU4Rec, items: number[][]): Tensor {
  const B = items[0].length;
  let h = new Tensor(new Float32Array(B * cfg.hiddenUnits), [B, cfg.hiddenUnits]);
  for (const step of items) {
    h = gruCell(ops.embedding(param(net, 'gru.W'), Int32Array.from(step)), param(net, 'gru.b'), h, param(net, 'gru.U_rz'), param(net, 'gru.U'));
  }
  return h;
}

test('a training step carries each slot’s state to the next step and resets it where a sequence starts', () => {
  const net = network(1);
  net.train();
  // step 1: slots run items 3, 5, 7; step 2: slot 0 continues, slot 1 starts anew, slot 2 idles
  net.loss(sessionBatch([3, 5, 7], [6, 2, 8], [1, 1, 1]));
  getTape().reset();
  const step2 = sessionBatch([6, 11, 0], [10, 4, 0], [0, 1, 1]);
  const got = net.loss(step2).data[0];
  getTape().reset();
  // by hand: slot 0 from its step-1 state, slot 1 from zero (slot 2 has no target)
  const h1 = stateAfter(net, [[3, 5, 7]]);
  const h0 = new Tensor(new Float32Array(3 * 5), [3, 5]);
  h0.data.set(h1.data.subarray(0, 5), 0);
  const features = gruCell(ops.embedding(param(net, 'gru.W'), step2.seqs), param(net, 'gru.b'), h0, param(net, 'gru.U_rz'), param(net, 'gru.U'));
  const want = loss.compute({ features, pos: step2.pos, neg: step2.neg }, net.itemEmb, param(net, 'output_bias')).data[0];
  assert.ok(Math.abs(got - want) < 1e-6, `${got} vs ${want}`);
  // without the carried state the loss differs
  const fresh = network(1);
  const noCarry = fresh.loss(step2).data[0];
  assert.ok(Math.abs(noCarry - got) > 1e-4, 'the state carried over matters');
  getTape().reset();
});

test('with dropout, the carried state is the dropped-out output (as the authors’ code)', () => {
  const c = { ...cfg, dropoutRate: 0.5 };
  const net = network(2, c);
  net.train();
  const s1 = sessionBatch([3, 5], [6, 2], [1, 1]);
  const rngBefore = net.dropoutRng.getState();
  net.loss(s1);
  getTape().reset();
  const s2 = sessionBatch([6, 2], [10, 4], [0, 0]);
  const got = net.loss(s2).data[0];
  getTape().reset();
  // replay: the same masks from the same stream
  const rng = new Rng(0);
  rng.setState(rngBefore);
  const h1 = ops.dropout(stateAfter(net, [[3, 5]]), 0.5, rng, true);
  const out = gruCell(ops.embedding(param(net, 'gru.W'), s2.seqs), param(net, 'gru.b'), h1, param(net, 'gru.U_rz'), param(net, 'gru.U'));
  const features = ops.dropout(out, 0.5, rng, true);
  const want = loss.compute({ features, pos: s2.pos, neg: s2.neg }, net.itemEmb, param(net, 'output_bias')).data[0];
  assert.ok(Math.abs(got - want) < 1e-6, `${got} vs ${want}`);
  getTape().reset();
});

test('scoring runs the GRU over the history from zero, padding skipped, whatever the padding and the mix of lengths', () => {
  const net = network(3);
  const histories = [[4], [2, 9, 4], [1, 2, 3, 4, 5, 6], [7, 7]];
  const L = 6;
  const seqs = new Int32Array(histories.length * L);
  for (const [b, h] of histories.entries()) seqs.set(h, b * L + L - h.length);
  const batch = { batchSize: 4, maxlen: L, users: new Int32Array(4), seqs };
  const all = net.scoreAll(batch);
  const n = N + 1;
  histories.forEach((h, b) => {
    const state = stateAfter(
      net,
      h.map((i) => [i]),
    );
    const w = param(net, 'output.weight');
    const bias = param(net, 'output_bias');
    for (let i = 1; i <= N; i++) {
      let want = bias.data[i];
      for (let k = 0; k < 5; k++) want += state.data[k] * w.data[i * 5 + k];
      assert.ok(Math.abs(all[b * n + i] - want) < 1e-5, `history ${b}, item ${i}: ${all[b * n + i]} vs ${want}`);
    }
    // alone and with more padding: the same scores
    const wide = new Int32Array(10);
    wide.set(h, 10 - h.length);
    const alone = net.scoreAll({ batchSize: 1, maxlen: 10, users: new Int32Array(1), seqs: wide });
    for (let i = 1; i <= N; i++) assert.ok(Math.abs(alone[i] - all[b * n + i]) < 1e-5);
  });
  getTape().reset();
  const candidates = Int32Array.from([1, 5, 12, 3, 3, 4, 9, 2, 7, 8, 6, 10]);
  const some = net.scoreCandidates(batch, candidates, 3);
  for (let b = 0; b < 4; b++) for (let c = 0; c < 3; c++) assert.ok(Math.abs(some[b * 3 + c] - all[b * n + candidates[b * 3 + c]]) < 1e-5);
});

test('the model file: both registry names, their config, the same scores after loading, found by sniffing', () => {
  const net = network(4);
  const items = { toIndex: new Map<string, number>(), toRaw: [''] };
  for (let i = 1; i <= N; i++) {
    items.toIndex.set(`i${i}`, i);
    items.toRaw.push(`i${i}`);
  }
  const hist = { batchSize: 2, maxlen: 6, users: Int32Array.of(0, 0), seqs: Int32Array.from([0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) };
  for (const [spec, group] of [
    [gru4rec, gru4recOptions],
    [gru4recPlus, gru4recPlusOptions],
  ] as const) {
    const options = group.parse({ hidden_units: 5, maxlen: 6, dropout_rate: 0 });
    assert.deepEqual(networkConfig(options, N), cfg);
    const record = { ...DEFAULT_TRAINING_RECORD, batchSize: 16, lr: 0.01, numEpochs: 3 };
    const model = new NetworkModel(spec.name, net, gru4recMetadata(spec.name, cfg, options, record), { items });
    const bytes = model.serialize();
    assert.equal(detectModel(bytes), spec);
    const loaded = spec.load(bytes);
    assert.deepEqual(loaded.scorer.scoreAll(hist), net.scoreAll(hist));
    const config = loaded.describe();
    assert.equal(config.model, spec.name);
    assert.equal(config.gru_loss, spec === gru4rec ? 'top1' : 'bpr_max');
    assert.equal(config.n_sample, spec === gru4rec ? 0 : 2048);
    assert.equal(config.final_act, spec === gru4rec ? 'tanh' : 'elu-0.5');
    assert.equal(config.sample_alpha, 0);
    assert.equal(config.batch_size, 16);
    loaded.dispose();
  }
  const sd = net.stateDict();
  assert.deepEqual(Object.fromEntries([...sd].map(([name, t]) => [name, t.shape])), {
    'gru.W': [N + 1, 15],
    'gru.b': [15],
    'gru.U_rz': [5, 10],
    'gru.U': [5, 5],
    'output.weight': [N + 1, 5],
    output_bias: [N + 1],
  });
});

test('GRU4Rec on the wasm kernels follows the reference kernels (dropout on, Adam steps, scores)', () => {
  assertWasmFollowsReference(() => {
    const c = { itemNum: 30, hiddenUnits: 8, maxlen: 7, dropoutRate: 0.3 };
    const net = new GRU4Rec(c, { seed: 5, loss: sessionRankingLoss({ kind: 'top1', samples: 4, activation: { kind: 'tanh' }, bpreg: 1 }) });
    const adam = new Adam(net.namedParameters(), { lr: 0.01 });
    const rng = new Rng(6);
    const losses: number[] = [];
    for (let step = 0; step < 5; step++) {
      const item = () => 1 + rng.nextInt(30);
      const b = sessionBatch(
        [item(), item(), 0, item()],
        [item(), item(), 0, item()],
        [step === 0 ? 1 : 0, step % 2, 1, 0],
        [item(), item(), item(), item()],
      );
      losses.push(trainStep(net, adam, b));
    }
    const hist = { batchSize: 2, maxlen: 7, users: Int32Array.of(0, 0), seqs: Int32Array.from([0, 0, 0, 4, 5, 6, 7, 1, 2, 3, 4, 5, 6, 7]) };
    const scores = Array.from(net.scoreAll(hist));
    const params = net.namedParameters().map(([n, p]) => [n, Array.from(p.data)] as const);
    net.dispose();
    return { losses, scores, params };
  });
});

test('--tied_embedding: the input is W_in · W_y[i] (no one-hot table), by hand; the loss gradient of every weight; the file keeps it', () => {
  const tied = network(6, { ...cfg, tiedEmbedding: true });
  const names = tied.namedParameters().map(([n]) => n);
  assert.ok(names.includes('gru.W_in') && !names.includes('gru.W'), names.join(', '));
  // scoring: the state after the history from zero, with x_t = W_in · W_y[i_t], times W_y and the bias
  const hist = { batchSize: 1, maxlen: 6, users: Int32Array.of(0), seqs: Int32Array.from([0, 0, 3, 7, 1, 4]) };
  let h = new Tensor(new Float32Array(cfg.hiddenUnits), [1, cfg.hiddenUnits]);
  for (const i of [3, 7, 1, 4]) {
    const x = ops.linear(ops.embedding(param(tied, 'output.weight'), Int32Array.of(i)), param(tied, 'gru.W_in'), null);
    h = gruCell(x, param(tied, 'gru.b'), h, param(tied, 'gru.U_rz'), param(tied, 'gru.U'));
  }
  const byHand = ops.add(ops.linear(h, param(tied, 'output.weight'), null), ops.reshape(param(tied, 'output_bias'), [1, N + 1]));
  const scores = tied.scoreAll(hist);
  for (let i = 1; i <= N; i++) assert.ok(Math.abs(scores[i] - byHand.data[i]) < 1e-5, `item ${i}: ${scores[i]} vs ${byHand.data[i]}`);
  // one session-parallel step from fresh states: the loss's gradient reaches W_in and W_y through the input too
  const batch = sessionBatch([2, 5, 8, 11], [3, 6, 9, 12], [1, 1, 1, 1]);
  const named = tied.namedParameters();
  const res = gradCheck(
    () => tied.loss(batch),
    named.map(([, p]) => p),
    { eps: 1e-2, rtol: 3e-2, atol: 2e-3 },
  );
  assert.ok(res.ok, `ratio ${res.worstRatio}: ${res.worst}`);
  // (from zero states U_rz and U get none: h = 0)
  for (const name of ['gru.W_in', 'gru.b', 'output.weight', 'output_bias']) {
    assert.ok(
      res.analytic[named.findIndex(([n]) => n === name)].some((v) => v !== 0),
      `${name} has no gradient`,
    );
  }
  // the model file: gru.W_in instead of gru.W, tied_embedding in its config, the same scores after loading
  const items = { toIndex: new Map<string, number>(), toRaw: [''] };
  for (let i = 1; i <= N; i++) {
    items.toIndex.set(`i${i}`, i);
    items.toRaw.push(`i${i}`);
  }
  const options = gru4recPlusOptions.parse({ hidden_units: 5, maxlen: 6, dropout_rate: 0, tied_embedding: true });
  assert.deepEqual(networkConfig(options, N), { ...cfg, tiedEmbedding: true });
  const model = new NetworkModel(
    'gru4rec+',
    tied,
    gru4recMetadata('gru4rec+', { ...cfg, tiedEmbedding: true }, options, { ...DEFAULT_TRAINING_RECORD, batchSize: 16, lr: 0.01, numEpochs: 3 }),
    { items },
  );
  const loaded = gru4recPlus.load(model.serialize());
  assert.deepEqual(loaded.scorer.scoreAll(hist), scores);
  assert.equal(loaded.describe().tied_embedding, true);
  loaded.dispose();
});
