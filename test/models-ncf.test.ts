/**
 * The pointwise factor models of issue 18: `mf` (the biased dot product) and `neumf` (He et al. 2017),
 * both trained by NCF's log loss with K sampled negatives per positive: the loss by hand, gradient
 * checks, NeuMF's catalogue path against its pair path, learns-something, model-file round trips,
 * and the CLI's errors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../src/engine/rng.js';
import { fromEvents, train } from '../src/index.js';
import { BiasedMF } from '../src/models/common/biased-mf.js';
import type { FactorConfig } from '../src/models/common/factor-network.js';
import { NeuMF } from '../src/models/neumf/neumf.js';
import { getModel } from '../src/models/registry.js';
import { runCli } from './helpers/cli.js';
import { gradCheck } from './helpers/gradcheck.js';
import { groupEvents, testNdcg } from './helpers/tastes.js';
import { testTempDir } from './helpers/tmp.js';

const dir = testTempDir('seqrec-ncf-');
const K = 3;
const CONFIG: FactorConfig = { itemNum: 7, userNum: 3, maxlen: 4, hiddenUnits: 4, l2Reg: 0.05, negatives: K };
// two rows of 4 positions: user 1 (3 real positions), user 3 (4); K negatives per position
const BATCH = {
  batchSize: 2,
  maxlen: 4,
  users: Int32Array.from([1, 3]),
  seqs: Int32Array.from([0, 1, 2, 3, 4, 5, 6, 1]),
  pos: Int32Array.from([0, 2, 3, 4, 5, 6, 1, 2]),
  neg: Int32Array.from([0, 0, 0, 5, 6, 7, 6, 1, 2, 7, 5, 1, 3, 4, 7, 1, 2, 3, 2, 3, 4, 3, 4, 5]),
  negatives: K,
};

function jitter<T extends BiasedMF | NeuMF>(net: T): T {
  const rng = new Rng(7);
  for (const p of net.parameters()) for (let i = 0; i < p.size; i++) p.data[i] += 0.2 * rng.normal();
  return net;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

test('pointwise log loss: 1/(M(1+K)) Σ [−ln σ(s⁺) − Σ_k ln(1 − σ(s⁻_k))] + λ/M Σ_m ‖rows of m‖², by hand (MF)', () => {
  const net = jitter(new BiasedMF('MF', CONFIG, { seed: 1 }));
  const d = CONFIG.hiddenUnits;
  const P = net.userFactors.data;
  const Q = net.itemFactors.data;
  const beta = net.itemBias.data;
  const score = (u: number, i: number) => {
    let s = beta[i];
    for (let k = 0; k < d; k++) s += P[u * d + k] * Q[i * d + k];
    return s;
  };
  const rows = (u: number, i: number) => {
    let r = beta[i] ** 2;
    for (let k = 0; k < d; k++) r += P[u * d + k] ** 2 + Q[i * d + k] ** 2;
    return r;
  };
  let bce = 0;
  let l2 = 0;
  let M = 0;
  for (let p = 0; p < 8; p++) {
    if (BATCH.pos[p] === 0) continue;
    M++;
    const u = BATCH.users[Math.floor(p / 4)];
    bce -= Math.log(sigmoid(score(u, BATCH.pos[p])));
    l2 += rows(u, BATCH.pos[p]);
    for (let k = 0; k < K; k++) {
      const j = BATCH.neg[p * K + k];
      bce -= Math.log(1 - sigmoid(score(u, j)));
      let r = beta[j] ** 2;
      for (let x = 0; x < d; x++) r += Q[j * d + x] ** 2;
      l2 += r;
    }
  }
  const want = bce / (M * (1 + K)) + (CONFIG.l2Reg * l2) / M;
  const got = net.loss(BATCH).item();
  assert.ok(Math.abs(got - want) < 1e-5, `${got} vs ${want}`);
  assert.throws(() => net.loss({ ...BATCH, negatives: 1, neg: BATCH.neg.subarray(0, 8) }), /3 negatives per position, got 1/);
});

test('MF and NeuMF pointwise loss gradients match finite differences', () => {
  for (const net of [jitter(new BiasedMF('MF', CONFIG, { seed: 2 })), jitter(new NeuMF(CONFIG, [6, 5, 3], { seed: 3 }))]) {
    const named = net.namedParameters();
    const res = gradCheck(
      () => net.loss(BATCH),
      named.map(([, p]) => p),
      { eps: 1e-3, rtol: 2e-2, atol: 1e-3 },
    );
    assert.ok(res.ok, `${net.constructor.name}: ratio ${res.worstRatio}: ${res.worst}`);
    for (const [i, g] of res.analytic.entries())
      assert.ok(
        g.some((v) => v !== 0),
        `${named[i][0]} has no gradient`,
      );
  }
});

test('MF and NeuMF read the user alone (historyFree): the same scores after any history', () => {
  for (const net of [jitter(new BiasedMF('MF', CONFIG)), jitter(new NeuMF(CONFIG, [6, 5, 3], { seed: 4 }))]) {
    assert.equal(net.historyFree, true);
    const a = net.scoreAll({ batchSize: 2, maxlen: 2, users: Int32Array.from([2, 3]), seqs: Int32Array.from([1, 2, 0, 4]) });
    const b = net.scoreAll({ batchSize: 2, maxlen: 2, users: Int32Array.from([2, 3]), seqs: Int32Array.from([5, 7, 6, 1]) });
    assert.deepEqual(Array.from(a), Array.from(b));
    const other = net.scoreAll({ batchSize: 2, maxlen: 2, users: Int32Array.from([1, 2]), seqs: Int32Array.from([1, 2, 0, 4]) });
    assert.notDeepEqual(Array.from(a), Array.from(other));
  }
});

test("NeuMF: scoring the whole catalogue (the item half as a GEMM) equals scoring each pair, and the paper's formula by hand", () => {
  const net = jitter(new NeuMF({ ...CONFIG, negatives: 0 }, [6, 5, 3], { seed: 4 }));
  const n = CONFIG.itemNum + 1;
  const batch = { batchSize: 2, maxlen: 2, users: Int32Array.from([2, 3]), seqs: Int32Array.from([1, 2, 0, 4]) };
  const all = net.scoreAll(batch);
  const candidates = Int32Array.from({ length: 2 * n }, (_, k) => k % n);
  const pairs = net.scoreCandidates(batch, candidates, n);
  for (let x = 0; x < 2 * n; x++) assert.ok(Math.abs(all[x] - pairs[x]) < 1e-5, `${x}: ${all[x]} vs ${pairs[x]}`);
  // ŷ = hᵀ[p^G ⊙ q^G; MLP([p^M; q^M])] + b for user 2, item 5
  const [u, i, d, e] = [2, 5, CONFIG.hiddenUnits, 3];
  const row = (t: Float32Array, r: number, w: number) => Array.from(t.subarray(r * w, (r + 1) * w));
  const matvec = (w: Float32Array, out: number, x: number[], b?: Float32Array) =>
    Array.from({ length: out }, (_, o) => x.reduce((s, v, k) => s + v * w[o * x.length + k], b ? b[o] : 0));
  const relu = (v: number[]) => v.map((x) => Math.max(0, x));
  const gmf = row(net.userGmf.data, u, d).map((p, k) => p * net.itemGmf.data[i * d + k]);
  const first = matvec(net.firstUser.data, 5, row(net.userMlp.data, u, e), net.firstBias.data).map(
    (v, o) => v + matvec(net.firstItem.data, 5, row(net.itemMlp.data, i, e))[o],
  );
  const top = relu(matvec(net.tower[0].weight.data, 3, relu(first), net.tower[0].bias.data));
  const want = matvec(net.outGmf.data, 1, gmf)[0] + matvec(net.outMlp.data, 1, top)[0] + net.outBias.data[0];
  assert.ok(Math.abs(all[i] - want) < 1e-5, `${all[i]} vs ${want}`);
});

test('mf and neumf learn stable per-user tastes: far above PopRec; their model files score the same after a round trip', async () => {
  const data = fromEvents(groupEvents());
  const pop = await testNdcg(await train(data, { model: 'pop' }), data);
  for (const [name, extra] of [
    ['mf', {}],
    ['neumf', { mlpLayers: '16,8,4' }],
  ] as const) {
    const model = await train(data, { model: name, numEpochs: 40, evalEvery: 40, lr: 0.01, batchSize: 16, evalProtocol: 'full', seed: 1, ...extra });
    try {
      const ndcg = await testNdcg(model, data);
      assert.ok(ndcg > pop + 0.3, `${name}: full test NDCG@10 ${ndcg}, PopRec ${pop}`);
      const bytes = model.serialize();
      const spec = getModel(name);
      assert.equal(spec?.sniff(bytes), true);
      assert.equal(getModel(name === 'mf' ? 'bpr' : 'mf')?.sniff(bytes), false, 'the file names its model');
      const back = await spec!.load(bytes);
      assert.equal(await testNdcg(back, data), ndcg);
      const batch = { batchSize: 1, maxlen: 3, users: Int32Array.of(5), seqs: Int32Array.from([1, 2, 3]) };
      assert.deepEqual(Array.from(back.scorer.scoreAll(batch)), Array.from(model.scorer.scoreAll(batch)));
      back.dispose();
    } finally {
      model.dispose();
    }
  }
});

test('seqrec train --model neumf: --mlp_layers is checked before training; the run directory holds a file eval reads', async () => {
  const ring = join(dir, 'tastes.txt');
  writeFileSync(
    ring,
    groupEvents()
      .map((e) => `${e.user} ${e.item}`)
      .join('\n'),
  );
  const bad = await runCli(['train', '--model', 'neumf', '--dataset', ring, '--mlp_layers', '63,8', '--train_dir', join(dir, 'bad')]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr.trim(), /^seqrec: --mlp_layers: expected at least two positive integers, the first even/);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  const run = join(dir, 'ok');
  const ok = await runCli([
    'train',
    '--model',
    'neumf',
    '--dataset',
    ring,
    '--mlp_layers',
    '8,4',
    '--num_epochs',
    '2',
    '--train_dir',
    run,
    '--threads',
    '1',
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(readFileSync(join(run, 'neumf.safetensors')).subarray(0, 4000).toString('latin1'), /\\"mlp_layers\\":\\"8,4\\"/);
  const ev = await runCli(['eval', '--dataset', ring, '--state_dict_path', join(run, 'neumf.safetensors')]);
  assert.equal(ev.code, 0, ev.stderr);
  assert.match(ev.stdout, /NDCG@10/);
});
