/**
 * SLIM: the KKT conditions of the solution on a small problem (checked in float64 from the data,
 * not from the solver's state), the top-k pre-selection, scoring as the history's indicator row
 * times W, the model file round trip, the memory refusal, and that it learns (far above PopRec).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromEvents, train, type Event } from '../src/index.js';
import { leaveOneOut } from '../src/data/split.js';
import { UserError } from '../src/core/errors.js';
import type { Split } from '../src/data/types.js';
import { fitSlim, type SlimScorer, SlimModel, type SlimSettings } from '../src/models/slim/slim.js';
import { slim } from '../src/models/slim/spec.js';
import { getModel } from '../src/models/registry.js';
import { TaskPool } from '../src/train/tasks.js';
import { groupEvents, testNdcg } from './helpers/tastes.js';

/** `users` users over `items` items with overlapping tastes: user u draws from a window of the catalogue around u. */
function tasteEvents(users: number, items: number, seed: number): Event[] {
  let s = seed;
  const next = (n: number) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s % n;
  };
  const events: Event[] = [];
  for (let u = 0; u < users; u++) {
    const center = (u * 7) % items;
    const len = 5 + next(6);
    for (let t = 0; t < len; t++) {
      const item = (center + next(8) + (next(5) === 0 ? next(items) : 0)) % items;
      events.push({ user: `u${u}`, item: `i${item}` });
    }
  }
  return events;
}

/** The KKT conditions of min ½‖a_j − A w‖² + (l2/2)‖w‖² + l1‖w‖₁, w ≥ 0, w_jj = 0, for every column j. */
function assertKkt(split: Split, scorer: SlimScorer, s: SlimSettings, eps: number): void {
  const n = split.data.itemNum;
  // A as 0/1 rows of the users' distinct train items; G = AᵀA in float64
  const G = new Float64Array((n + 1) * (n + 1));
  for (let u = 1; u <= split.data.userNum; u++) {
    const set = [...new Set(split.train[u])];
    for (const i of set) for (const j of set) G[i * (n + 1) + j] += 1;
  }
  let positives = 0;
  let zeros = 0;
  for (let j = 1; j <= n; j++) {
    assert.equal(scorer.weight(j, j), 0, `w_${j}${j} must be 0`);
    for (let i = 1; i <= n; i++) {
      if (i === j) continue;
      const w = scorer.weight(i, j);
      assert.ok(w >= 0, `w_${i},${j} = ${w} < 0`);
      // ρ_i = (Aᵀ(a_j − A w_j))_i = G_ij − Σ_k G_ik w_kj
      let rho = G[i * (n + 1) + j];
      for (let k = 1; k <= n; k++) rho -= G[i * (n + 1) + k] * scorer.weight(k, j);
      if (w > 0) {
        positives++;
        // stationarity: −ρ_i + l2·w + l1 = 0
        assert.ok(Math.abs(rho - s.l2 * w - s.l1) <= eps, `column ${j}, w_${i} = ${w} > 0: ρ − l2·w − l1 = ${rho - s.l2 * w - s.l1}`);
      } else {
        zeros++;
        // at the bound: the gradient −ρ_i + l1 ≥ 0
        assert.ok(rho <= s.l1 + eps, `column ${j}, w_${i} = 0: ρ = ${rho} > l1 ${s.l1}`);
      }
    }
  }
  assert.ok(positives > n && zeros > n, `a non-trivial solution: ${positives} positive, ${zeros} zero weights`);
}

const settings: SlimSettings = { l1: 0.5, l2: 2, maxIter: 100_000, tol: 1e-9, topk: 0 };

test('SLIM: the solution satisfies the KKT conditions (non-negativity, zero diagonal, stationarity, bounds)', async () => {
  const split = leaveOneOut(fromEvents(tasteEvents(120, 30, 11)), 3);
  const scorer = await fitSlim(split, settings);
  assertKkt(split, scorer, settings, 1e-3);
  // and a loose solve does not (the test can fail)
  const loose = await fitSlim(split, { ...settings, maxIter: 1 });
  assert.throws(() => assertKkt(split, loose, settings, 1e-3), assert.AssertionError);
});

test('SLIM: --slim_topk keeps at most k non-zero weights per column; scoring is the indicator row times W', async () => {
  const split = leaveOneOut(fromEvents(tasteEvents(120, 30, 11)), 3);
  const scorer = await fitSlim(split, { ...settings, topk: 3 });
  const n = split.data.itemNum;
  for (let j = 1; j <= n; j++) {
    let nz = 0;
    for (let i = 1; i <= n; i++) if (scorer.weight(i, j) > 0) nz++;
    assert.ok(nz <= 3, `column ${j}: ${nz} non-zeros`);
  }
  const seqs = Int32Array.from([0, 4, 2, 4, 0, 0, 0, 7]);
  const batch = { batchSize: 2, maxlen: 4, users: new Int32Array(2), seqs };
  const all = scorer.scoreAll(batch);
  for (let j = 1; j <= n; j++) {
    assert.ok(Math.abs(all[j] - (scorer.weight(4, j) + scorer.weight(2, j))) < 1e-6);
    assert.ok(Math.abs(all[n + 1 + j] - scorer.weight(7, j)) < 1e-6);
  }
  const cand = scorer.scoreCandidates(batch, Int32Array.from([1, 5, 9, 3]), 2);
  assert.deepEqual(Array.from(cand), [all[1], all[5], all[n + 1 + 9], all[n + 1 + 3]]);
});

test('SLIM model file: save and load give the same W, settings and catalogue; the registry detects it', async () => {
  const split = leaveOneOut(fromEvents(tasteEvents(60, 20, 5)), 3);
  const model = await SlimModel.fit(split, { ...settings, maxIter: 50, tol: 1e-4 });
  const bytes = model.serialize();
  assert.equal(getModel('slim')?.sniff(bytes), true);
  assert.equal(getModel('ease')?.sniff(bytes), false);
  const back = SlimModel.parse(bytes);
  const n = split.data.itemNum;
  for (let i = 1; i <= n; i++) for (let j = 1; j <= n; j++) assert.equal(back.scorer.weight(i, j), model.scorer.weight(i, j));
  assert.ok(model.scorer.nonZeros > 0);
  assert.deepEqual(back.settings, model.settings);
  assert.deepEqual(back.items.toRaw, model.items.toRaw);
  assert.deepEqual(
    back.histories?.map((h) => Array.from(h)),
    model.histories?.map((h) => Array.from(h)),
  );
  assert.throws(() => SlimModel.parse(bytes.subarray(0, 40)), UserError);
});

test('SLIM refuses a fit above --memory_gb with one line naming the flags that help', () => {
  const split = leaveOneOut(fromEvents(tasteEvents(60, 20, 5)), 3);
  const check = slim.learning.kind === 'fit' ? slim.learning.check : undefined;
  assert.ok(check);
  assert.throws(
    () => check(split, slim.options.parse({ memory_gb: 1e-7 })),
    (e: unknown) => e instanceof UserError && /--model slim would need about .*--memory_gb .*--min_item_count/.test(e.message),
  );
  check(split, slim.options.parse({}));
});

test('SLIM learns item-item tastes: far above PopRec (full-ranking test NDCG@10)', async () => {
  const data = fromEvents(groupEvents());
  const pop = await train(data, { model: 'pop' });
  const popNdcg = await testNdcg(pop, data);
  const model = await train(data, { model: 'slim' });
  const ndcg = await testNdcg(model, data);
  assert.ok(popNdcg < 0.3, `PopRec ${popNdcg}`);
  assert.ok(ndcg > popNdcg + 0.25, `SLIM ${ndcg} vs PopRec ${popNdcg}`);
});

test('items a history scores equally (0: no co-occurrence) are ordered by training popularity, not tied', async () => {
  const split = leaveOneOut(fromEvents(tasteEvents(120, 30, 11)), 3);
  const scorer = await fitSlim(split, { ...settings, topk: 2 });
  const n = split.data.itemNum;
  const batch = { batchSize: 1, maxlen: 1, users: new Int32Array(1), seqs: Int32Array.from([1]) };
  const all = scorer.scoreAll(batch);
  const zero = [];
  for (let j = 1; j <= n; j++) if (scorer.weight(1, j) === 0) zero.push(j);
  let compared = 0;
  for (const a of zero) {
    for (const b of zero) {
      if (scorer.popularity[a] > scorer.popularity[b]) {
        assert.ok(all[a] > all[b], `items ${a} (popularity ${scorer.popularity[a]}) and ${b} (${scorer.popularity[b]}): ${all[a]} vs ${all[b]}`);
        compared++;
      }
    }
  }
  assert.ok(compared > 10, `${compared} pairs`);
});

test('SLIM on two threads (columns shared out by the task pool) gives exactly the one-thread W', async () => {
  const split = leaveOneOut(fromEvents(tasteEvents(200, 90, 13)), 3);
  const n = split.data.itemNum;
  assert.ok(n > 64, 'enough columns for several tasks');
  const one = await fitSlim(split, settings);
  const pool = new TaskPool(2);
  let progressLines = 0;
  try {
    const two = await fitSlim(split, settings, (l) => void (l.startsWith('SLIM: column') && progressLines++), pool);
    assert.deepEqual(Array.from(two.W.indptr), Array.from(one.W.indptr));
    assert.deepEqual(Array.from(two.W.cols), Array.from(one.W.cols));
    assert.deepEqual(Array.from(two.W.vals), Array.from(one.W.vals));
    assert.ok(progressLines >= 1, 'the threaded fit reports its progress');
  } finally {
    await pool.close();
  }
});
