/**
 * The click-through task (--task ctr, issue 19 item 4): labels from ratings and the seeded row split,
 * ratings kept by the reader, the pointwise FM's logit against the naive FM sum and its BCE gradient,
 * and FM/FFM learning labels on a synthetic file (AUC well above 0.5); a model without a pointwise
 * network is refused.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { UserError } from '../src/core/errors.js';
import { ctrSplit, labelledRows, parseCtrLabels } from '../src/data/ctr.js';
import { EventLog } from '../src/data/eventlog.js';
import { readInteractions } from '../src/data/readers.js';
import type { Interactions, TrainBatch } from '../src/data/types.js';
import { Rng } from '../src/engine/rng.js';
import { withInferenceTape } from '../src/engine/tape.js';
import type { FeatureRows } from '../src/models/common/feature-rows.js';
import { PointwiseFactorNetwork } from '../src/models/common/pointwise-factor-network.js';
import { FactorizationMachine } from '../src/models/fm/fm.js';
import { getModel } from '../src/models/registry.js';
import { trainCtr, pointwiseOf } from '../src/train/ctr.js';
import { trainingOptions } from '../src/learn/options.js';
import { gradCheck } from './helpers/gradcheck.js';
import { testTempDir } from './helpers/tmp.js';

/** Interactions with ratings from (user, item, rating) triples, in the given order. */
function rated(triples: ReadonlyArray<readonly [string, string, number]>): Interactions {
  const log = new EventLog(false, true);
  for (const [u, i, r] of triples) log.push(u, i, 0, r);
  return log.finish();
}

test('labels: rating ≥ 4 → 1, ≤ 2 → 0, 3 dropped; other thresholds by --ctr_labels', () => {
  const data = rated([
    ['a', 'x', 5],
    ['a', 'y', 3],
    ['a', 'z', 2],
    ['b', 'x', 4],
    ['b', 'y', 1],
    ['b', 'z', 3.5],
  ]);
  const rows = labelledRows(data, parseCtrLabels('4,2')!);
  assert.deepEqual(Array.from(rows.labels), [1, 0, 1, 0]);
  assert.deepEqual(Array.from(rows.items), [1, 3, 1, 2]);
  assert.equal(rows.dropped, 2);
  const loose = labelledRows(data, parseCtrLabels('3.5,3')!);
  assert.deepEqual(Array.from(loose.labels), [1, 0, 0, 1, 0, 1]);
  assert.equal(loose.dropped, 0);
  assert.equal(parseCtrLabels('2,4'), undefined);
  assert.equal(parseCtrLabels('4'), undefined);
});

test('the ctr split: 8:1:1 of the labelled rows over all users, disjoint, seeded', () => {
  const triples: Array<[string, string, number]> = [];
  const rng = new Rng(3);
  for (let u = 0; u < 20; u++) for (let i = 0; i < 10; i++) triples.push([`u${u}`, `i${i}`, 1 + rng.nextInt(5)]);
  const data = rated(triples);
  const t = parseCtrLabels('4,2')!;
  const all = labelledRows(data, t);
  const n = all.labels.length;
  const s = ctrSplit(data, t, [0.8, 0.1, 0.1], 42);
  assert.equal(s.valid.labels.length, Math.floor(0.1 * n));
  assert.equal(s.test.labels.length, Math.floor(0.1 * n));
  assert.equal(s.train.labels.length, n - 2 * Math.floor(0.1 * n));
  const key = (p: typeof s.train) => Array.from(p.users, (u, m) => `${u}:${p.items[m]}:${p.labels[m]}`);
  const union = [...key(s.train), ...key(s.valid), ...key(s.test)].sort();
  assert.deepEqual(union, key(all).sort(), 'the parts are the labelled rows, each once');
  assert.deepEqual(key(ctrSplit(data, t, [0.8, 0.1, 0.1], 42).test), key(s.test), 'same seed, same split');
  assert.notDeepEqual(key(ctrSplit(data, t, [0.8, 0.1, 0.1], 43).test), key(s.test), 'another seed, another split');
  // not per user: some user's rows are not cut 8:1:1 (a per-user split would give each user ≥ 1 valid row when it has 10)
  assert.ok(data.seqs.slice(1).some((_, u) => !s.valid.users.includes(u + 1)));
});

test('the reader keeps the ratings of u.data when asked, and a file without ratings is refused in one line', async () => {
  const dir = testTempDir('ctr-reader');
  const udata = join(dir, 'u.data');
  writeFileSync(udata, '1\t10\t5\t100\n1\t11\t2\t50\n2\t10\t3\t70\n');
  const data = await readInteractions(udata, { ratings: true });
  assert.deepEqual(Array.from(data.ratings![1]), [2, 5], 'user 1 in time order: item 11 (rated 2) then item 10 (rated 5)');
  assert.deepEqual(Array.from(data.ratings![2]), [3]);
  assert.equal((await readInteractions(udata)).ratings, undefined, 'not kept unless asked');
  const csv = join(dir, 'r.csv');
  writeFileSync(csv, 'user_id,item_id,rating\na,x,4.5\nb,y,1\n');
  assert.deepEqual(
    (await readInteractions(csv, { ratings: true })).ratings!.slice(1).map((r) => r[0]),
    [4.5, 1],
  );
  const plain = join(dir, 'plain.txt');
  writeFileSync(plain, '1 10\n1 11\n');
  await assert.rejects(readInteractions(plain, { ratings: true }), (e: Error) => e instanceof UserError && /--task ctr needs/.test(e.message));
  const noRating = join(dir, 'n.csv');
  writeFileSync(noRating, 'user_id,item_id\na,x\n');
  await assert.rejects(
    readInteractions(noRating, { ratings: true }),
    (e: Error) => e instanceof UserError && /its header has no rating column/.test(e.message),
  );
  const badRating = join(dir, 'b.csv');
  writeFileSync(badRating, 'user_id,item_id,rating\na,x,good\n');
  await assert.rejects(
    readInteractions(badRating, { ratings: true }),
    (e: Error) => e instanceof UserError && /b\.csv:2: the rating "good"/.test(e.message),
  );
});

/** A small FM with user and item features, every parameter random (biases too). */
function smallFm() {
  const users: FeatureRows = {
    featureNum: 3,
    fieldOf: Int32Array.from([0, 0, 1]),
    fieldNum: 2,
    rowPtr: Int32Array.from([0, 0, 2, 3, 4]),
    idx: Int32Array.from([0, 2, 1, 2]),
    val: Float32Array.from([1, 0.5, 1, 2]),
  };
  const items: FeatureRows = {
    featureNum: 2,
    fieldOf: Int32Array.from([0, 1]),
    fieldNum: 2,
    rowPtr: Int32Array.from([0, 0, 1, 3, 3, 4]),
    idx: Int32Array.from([0, 0, 1, 1]),
    val: Float32Array.from([1, 1, 0.7, 1.5]),
  };
  const base = new FactorizationMachine({ itemNum: 5, userNum: 4, maxlen: 1, hiddenUnits: 3, l2Reg: 0.01 }, { users, items }, { seed: 2 });
  const net = new PointwiseFactorNetwork(base, users, 'FM');
  const rng = new Rng(9);
  for (const p of net.parameters())
    for (let k = 0; k < p.size; k++) if (p.data[k] === 0 && p.shape[0] !== 5 + 1 && p.shape[0] !== 4 + 1) p.data[k] = rng.normal() * 0.3;
  for (const p of [net.userBias, base.itemBias]) for (let k = 1; k < p.size; k++) p.data[k] = rng.normal() * 0.3;
  return { net, base, users, items };
}

test('the pointwise FM logit is the full FM sum: w0 + Σ w_f x_f + Σ_{f<g} ⟨v_f, v_g⟩ x_f x_g over user id, user features, item id, item features', () => {
  const { net, base, users, items } = smallFm();
  const d = 3;
  const row = (t: Float32Array, r: number) => Array.from(t.subarray(r * d, (r + 1) * d));
  for (const [u, i] of [
    [1, 2],
    [3, 4],
    [2, 5],
    [4, 1],
  ]) {
    // x as (weight, vector, bias) terms
    const x: Array<{ v: number[]; w: number; x: number }> = [];
    x.push({ v: row(base.userFactors.data, u), w: net.userBias.data[u], x: 1 });
    for (let k = users.rowPtr[u]; k < users.rowPtr[u + 1]; k++)
      x.push({ v: row(base.userFeatureFactors!.data, users.idx[k]), w: net.userFeatureBias!.data[users.idx[k]], x: users.val[k] });
    x.push({ v: row(base.itemFactors.data, i), w: base.itemBias.data[i], x: 1 });
    for (let k = items.rowPtr[i]; k < items.rowPtr[i + 1]; k++)
      x.push({ v: row(base.itemFeatureFactors!.data, items.idx[k]), w: base.itemFeatureBias!.data[items.idx[k]], x: items.val[k] });
    let want = net.globalBias.data[0];
    for (let f = 0; f < x.length; f++) {
      want += x[f].w * x[f].x;
      for (let g = f + 1; g < x.length; g++) want += x[f].v.reduce((a, vk, k) => a + vk * x[g].v[k], 0) * x[f].x * x[g].x;
    }
    const got = net.predict(Int32Array.of(u), Int32Array.of(i))[0];
    assert.ok(Math.abs(got - want) < 1e-4, `(${u}, ${i}): ${got} != ${want}`);
  }
  assert.notEqual(net.globalBias.data[0], 0, 'the check reads a non-zero global bias');
});

test('the pointwise BCE loss (with the per-example L2 term): gradient against finite differences', () => {
  const { net, base } = smallFm();
  const batch: TrainBatch = {
    batchSize: 5,
    maxlen: 1,
    users: Int32Array.from([1, 2, 3, 4, 1]),
    seqs: new Int32Array(5),
    pos: Int32Array.from([2, 3, 1, 5, 4]),
    neg: new Int32Array(0),
    negatives: 0,
    labels: Float32Array.from([1, 0, 1, 0, 0]),
  };
  const r = gradCheck(() => net.loss(batch), net.parameters(), { eps: 1e-2, rtol: 2e-2, atol: 2e-3 });
  assert.ok(r.ok, r.worst);
  assert.ok(r.checked > 40);
  // the loss value: mean BCE + L2, by hand from the logits
  const logits = withInferenceTape(() => net.logits(batch.users, batch.pos).data.slice());
  const bce = Array.from(logits).reduce((a, z, m) => a + (batch.labels![m] === 1 ? Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))), 0) / 5;
  const total = withInferenceTape(() => net.loss(batch).item());
  const sq = (t: Float32Array, r: number, d: number) => t.subarray(r * d, (r + 1) * d).reduce((a, x) => a + x * x, 0);
  let l2 = 0;
  for (let m = 0; m < 5; m++) {
    const [u, i] = [batch.users[m], batch.pos[m]];
    l2 += sq(base.userFactors.data, u, 3) + sq(base.itemFactors.data, i, 3) + base.itemBias.data[i] ** 2 + net.userBias.data[u] ** 2;
  }
  assert.ok(Math.abs(total - (bce + (0.01 / 5) * l2)) < 1e-5, `loss ${total} = BCE ${bce} + λ/M · ${l2}`);
  const noL2 = new PointwiseFactorNetwork(
    new FactorizationMachine({ itemNum: 5, userNum: 4, maxlen: 1, hiddenUnits: 3, l2Reg: 0 }, {}, { seed: 2 }),
    undefined,
    'FM',
  );
  const z2 = withInferenceTape(() => noL2.logits(batch.users, batch.pos).data.slice());
  const bce2 = Array.from(z2).reduce((a, z, m) => a + (batch.labels![m] === 1 ? Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))), 0) / 5;
  assert.ok(Math.abs(withInferenceTape(() => noL2.loss(batch).item()) - bce2) < 1e-5, 'without L2 the loss is the mean BCE');
});

/** Users and items in two groups; a user likes (5) the items of its group and dislikes (1) the others, 10% flipped; some 3s. */
function tasteData(): Interactions {
  const rng = new Rng(11);
  const triples: Array<[string, string, number]> = [];
  for (let u = 0; u < 80; u++) {
    for (let k = 0; k < 25; k++) {
      const i = rng.nextInt(60);
      const like = u % 2 === i % 2 ? rng.nextFloat() > 0.1 : rng.nextFloat() < 0.1;
      triples.push([`u${u}`, `i${i}`, rng.nextFloat() < 0.1 ? 3 : like ? 5 : 1]);
    }
  }
  return rated(triples);
}

for (const name of ['fm', 'ffm']) {
  test(`${name} learns the labels of a synthetic file: test AUC well above 0.5, log-loss below the constant predictor's`, () => {
    const split = ctrSplit(tasteData(), parseCtrLabels('4,2')!, [0.8, 0.1, 0.1], 1);
    const spec = getModel(name)!;
    const training = trainingOptions.parse({ numEpochs: 30, evalEvery: 5, batchSize: 64, lr: 0.01 });
    const run = trainCtr(spec, split, undefined, spec.options.parse({ hiddenUnits: 8 }), training, 1);
    const test = run.rows.find((r) => r.split === 'test')!;
    const p = split.train.labels.reduce((a, b) => a + b, 0) / split.train.labels.length;
    const y = split.test.labels;
    const constant = -Array.from(y).reduce((a, l) => a + (l === 1 ? Math.log(p) : Math.log(1 - p)), 0) / y.length;
    assert.ok(test.metrics.AUC > 0.8, `test AUC ${test.metrics.AUC}`);
    assert.ok(test.metrics.LogLoss < constant - 0.05, `test LogLoss ${test.metrics.LogLoss} vs constant ${constant}`);
    assert.equal(test.examples, y.length);
    run.network.dispose();
  });
}

test('--task ctr with a model that has no pointwise network is refused in one line', () => {
  assert.throws(
    () => pointwiseOf(getModel('sasrec')!),
    (e: Error) => e instanceof UserError && /--model sasrec cannot predict labels/.test(e.message),
  );
});

test('the ranking split refuses task ctr (the library, seqrec eval): only seqrec train runs it', async () => {
  const { splitData, splitOptions } = await import('../src/data/options.js');
  const data = rated([
    ['a', 'x', 5],
    ['a', 'y', 1],
    ['a', 'z', 4],
  ]);
  assert.throws(
    () => splitData(data, splitOptions.parse({ task: 'ctr' }), 1),
    (e: Error) => e instanceof UserError && /--task ctr is run by seqrec train/.test(e.message),
  );
});

test('fm --task ctr refuses the options only ranking reads (--history_bag, --id_dropout) in one line', () => {
  const split = ctrSplit(tasteData(), parseCtrLabels('4,2')!, [0.8, 0.1, 0.1], 1);
  const spec = getModel('fm')!;
  const training = trainingOptions.parse({ numEpochs: 1, evalEvery: 1, batchSize: 64, lr: 0.01 });
  for (const [given, flag] of [
    [{ historyBag: true }, 'history_bag'],
    [{ idDropout: 0.2 }, 'id_dropout'],
  ] as const) {
    assert.throws(
      () => trainCtr(spec, split, undefined, spec.options.parse({ hiddenUnits: 8, ...given }), training, 1),
      (e: Error) => e instanceof UserError && e.message === `--${flag}: not with --task ctr (it is read by ranking only)`,
    );
  }
});
