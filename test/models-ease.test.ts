/**
 * EASE: B against the closed form computed independently in float64 on a tiny matrix (several
 * blocks of the inverse, and one), scoring as the history's indicator row times B, the model file
 * round trip, the memory refusal, and that it learns (far above PopRec on synthetic tastes).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromEvents, train, type Event } from '../src/index.js';
import { leaveOneOut } from '../src/data/split.js';
import { UserError } from '../src/core/errors.js';
import type { Split } from '../src/data/types.js';
import { EaseModel, fitEase } from '../src/models/ease/ease.js';
import { ease } from '../src/models/ease/spec.js';
import { getModel } from '../src/models/registry.js';
import { inverse64 } from './helpers/linalg.js';
import { groupEvents, testNdcg } from './helpers/tastes.js';

// 6 users over 7 items; each user's last two are held out (valid, test)
const TINY: Event[] = [
  ['a', [1, 2, 3, 4, 5, 6]],
  ['b', [2, 3, 3, 7, 1]],
  ['c', [1, 4, 5, 2, 6]],
  ['d', [6, 7, 1, 2, 3, 4]],
  ['e', [3, 5, 7, 4, 1]],
  ['f', [2, 6, 5, 1, 3, 7, 4]],
].flatMap(([u, items]) => (items as number[]).map((i) => ({ user: u as string, item: `i${i}` })));

test('EASE: B = I − P·diag(1/diag P), P = (XᵀX + λI)⁻¹, against float64 on a tiny matrix', () => {
  const split = leaveOneOut(fromEvents(TINY), 3);
  const n = split.data.itemNum;
  assert.equal(n, 7);
  const lambda = 1.5;
  // X from the train split, independently: user rows of 0/1
  const G = new Float64Array(n * n);
  for (let u = 1; u <= split.data.userNum; u++) {
    const set = [...new Set(split.train[u])];
    for (const i of set) for (const j of set) G[(i - 1) * n + (j - 1)] += 1;
  }
  for (let i = 0; i < n; i++) G[i * n + i] += lambda;
  const P = inverse64(G, n);
  for (const block of [2, 3, 256]) {
    const scorer = fitEase(split, { l2: lambda }, undefined, block);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const want = i === j ? 0 : -P[i * n + j] / P[j * n + j];
        const got = scorer.weight(i + 1, j + 1);
        assert.ok(Math.abs(got - want) < 1e-5, `block ${block}: B[${i + 1}][${j + 1}] = ${got}, want ${want}`);
      }
    }
    // zero diagonal exactly; padding row and column zero
    for (let i = 0; i <= n; i++) {
      assert.equal(scorer.weight(i, i), 0);
      assert.equal(scorer.weight(0, i), 0);
      assert.equal(scorer.weight(i, 0), 0);
    }
    // a history scores as its indicator row times B (duplicates and padding ignored)
    const seqs = Int32Array.from([0, 0, 3, 1, 3, 0, 0, 0, 0, 5]);
    const batch = { batchSize: 2, maxlen: 5, users: new Int32Array(2), seqs };
    const all = scorer.scoreAll(batch);
    for (let j = 1; j <= n; j++) {
      assert.ok(Math.abs(all[j] - (scorer.weight(1, j) + scorer.weight(3, j))) < 1e-6);
      assert.ok(Math.abs(all[n + 1 + j] - scorer.weight(5, j)) < 1e-6);
    }
    const cand = scorer.scoreCandidates(batch, Int32Array.from([2, 7, 5, 1]), 2);
    assert.deepEqual(Array.from(cand), [all[2], all[7], all[n + 1 + 5], all[n + 1 + 1]]);
  }
});

test('EASE model file: save and load give the same B, settings and catalogue; the registry detects it', () => {
  const split = leaveOneOut(fromEvents(TINY), 3);
  const model = EaseModel.fit(split, { l2: 3 });
  const bytes = model.serialize();
  assert.equal(getModel('ease')?.sniff(bytes), true);
  assert.equal(getModel('pop')?.sniff(bytes), false);
  const back = EaseModel.parse(bytes);
  // the file holds B's lower triangle and diag P: the lower triangle comes back exactly, the upper
  // (B_ji = B_ij·P_jj/P_ii) to float32 rounding
  const n = model.scorer.itemNum;
  assert.deepEqual(Array.from(back.scorer.diagP), Array.from(model.scorer.diagP));
  for (let i = 0; i <= n; i++) {
    for (let j = 0; j <= n; j++) {
      const want = model.scorer.weight(i, j);
      const got = back.scorer.weight(i, j);
      if (i >= j) assert.equal(got, want, `B[${i}][${j}]`);
      else assert.ok(Math.abs(got - want) <= 1e-6 * Math.max(1, Math.abs(want)), `B[${i}][${j}] = ${got}, want ${want}`);
    }
  }
  assert.equal(back.settings.l2, 3);
  assert.equal(back.scorer.maxlen, model.scorer.maxlen);
  assert.deepEqual(back.items.toRaw, model.items.toRaw);
  assert.deepEqual(back.users?.toRaw, model.users?.toRaw);
  assert.deepEqual(
    back.histories?.map((h) => Array.from(h)),
    model.histories?.map((h) => Array.from(h)),
  );
  assert.throws(() => EaseModel.parse(bytes.subarray(0, 40)), UserError);
});

test('EASE refuses a fit above --memory_gb with one line naming the flags that help', () => {
  const split = leaveOneOut(fromEvents(TINY), 3);
  const check = ease.learning.kind === 'fit' ? ease.learning.check : undefined;
  assert.ok(check);
  assert.throws(
    () => check(split, ease.options.parse({ memory_gb: 1e-7 })),
    (e: unknown) =>
      e instanceof UserError && /--model ease would need about .* GB .*--memory_gb .*--min_item_count/.test(e.message) && !e.message.includes('\n'),
  );
  check(split, ease.options.parse({}));
  // 100,000 items: ≈ 100 GB with the file; refused by default, and by the file size with more memory
  const big = { data: { ...split.data, itemNum: 100_000 } } as unknown as Split;
  assert.throws(() => check(big, ease.options.parse({})), /--model ease would need about 100 GB .*--memory_gb 16/);
  assert.throws(
    () => check(big, ease.options.parse({ memory_gb: 1000 })),
    /100,000 items give a 20\.0 GB model file, above the 2 GiB .*--min_item_count/,
  );
});

test('EASE learns item-item tastes: far above PopRec (full-ranking test NDCG@10)', async () => {
  const data = fromEvents(groupEvents());
  const pop = await train(data, { model: 'pop' });
  const popNdcg = await testNdcg(pop, data);
  const model = await train(data, { model: 'ease', l2: 10 });
  const ndcg = await testNdcg(model, data);
  assert.ok(popNdcg < 0.3, `PopRec ${popNdcg}`);
  assert.ok(ndcg > popNdcg + 0.25, `EASE ${ndcg} vs PopRec ${popNdcg}`);
});
