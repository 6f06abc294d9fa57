/**
 * Evaluation on the cold-start splits (issue 19 item 3): the histories a held-out user is scored after,
 * the exclusions; content on held-out items and FM on held-out users beat chance and PopRec where the
 * features predict the target; `seqrec train --cold`'s one-line refusals and results.json's record.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { coldItemsSplit, coldUsersSplit } from '../src/data/cold.js';
import type { FeatureRecords } from '../src/data/feature-files.js';
import { featureMatrix } from '../src/data/features.js';
import type { IdMap, Interactions, Split } from '../src/data/types.js';
import { Rng } from '../src/engine/rng.js';
import { parseSafetensors } from '../src/engine/safetensors.js';
import { evaluateFullRanking, evaluateSampled } from '../src/eval/protocols.js';
import type { HistoryBatch, Scorer } from '../src/eval/types.js';
import { evaluate, fromEvents, train, type Event } from '../src/index.js';
import { ContentModel } from '../src/models/content/content.js';
import { PopRecModel } from '../src/models/pop/pop.js';
import { runCli } from './helpers/cli.js';
import { testTempDir } from './helpers/tmp.js';

const dir = testTempDir('seqrec-cold-');

const GROUPS = 5;
const PER_GROUP = 12;

/** 400 users; user u likes group u mod 5 of 12 items and touches 6–8 of them in a random order. */
function tasteEvents(): Event[] {
  const rng = new Rng(5);
  const events: Event[] = [];
  for (let u = 1; u <= 400; u++) {
    const g = u % GROUPS;
    const pool = Array.from({ length: PER_GROUP }, (_, k) => `i${g}-${k}`);
    rng.shuffle(pool);
    for (const item of pool.slice(0, 6 + rng.nextInt(3))) events.push({ user: `u${u}`, item });
  }
  return events;
}

const groupOfUser = (raw: string) => `g${Number(raw.slice(1)) % GROUPS}`;
const groupOfItem = (raw: string) => `g${raw.slice(1, raw.indexOf('-'))}`;

/** One categorical feature, the group, for every id of `ids`. */
function groupFeatures(ids: IdMap, groupOf: (raw: string) => string): FeatureRecords {
  return {
    source: 'features.csv',
    layout: 'csv',
    columns: [{ name: 'group', kind: 'categorical' }],
    records: ids.toRaw.slice(1).map((id, k) => ({ id, line: k + 2, values: [groupOf(id)] })),
  };
}

/** Scores every item uniformly at random. */
function randomScorer(itemNum: number, seed: number): Scorer {
  const rng = new Rng(seed);
  const fill = (n: number) => Float32Array.from({ length: n }, () => rng.nextFloat());
  return {
    maxlen: 50,
    itemNum,
    scoreAll: (batch: HistoryBatch) => fill(batch.batchSize * (itemNum + 1)),
    scoreCandidates: (batch: HistoryBatch, _c: Int32Array, C: number) => fill(batch.batchSize * C),
  };
}

async function ndcg(scorer: Scorer, split: Split, protocol: 'full' | 'sampled'): Promise<number> {
  const res =
    protocol === 'full'
      ? await evaluateFullRanking(scorer, split, { which: 'test' })
      : await evaluateSampled(scorer, split, { which: 'test', rng: new Rng(3), numNegatives: 20 });
  return res.metrics['NDCG@10'];
}

test('a held-out user is scored after their input history alone, even an empty one; it is excluded from the ranking', async () => {
  const data = fromEvents(tasteEvents());
  for (const history of [0, 2]) {
    const split = coldUsersSplit(data, 0.2, history, 4);
    const seen: HistoryBatch[] = [];
    // scores item i as i, but the history's items highest: they must be excluded, else the target ranks lower
    const scorer: Scorer = {
      maxlen: 5,
      itemNum: data.itemNum,
      scoreAll(batch) {
        seen.push(batch);
        const N1 = data.itemNum + 1;
        const out = new Float32Array(batch.batchSize * N1);
        for (let b = 0; b < batch.batchSize; b++) {
          for (let i = 1; i < N1; i++) out[b * N1 + i] = i;
          for (let t = 0; t < 5; t++) if (batch.seqs[b * 5 + t] !== 0) out[b * N1 + batch.seqs[b * 5 + t]] = 1e6;
        }
        return out;
      },
      scoreCandidates: () => new Float32Array(0),
    };
    const res = await evaluateFullRanking(scorer, split, { which: 'test', keepRanks: true });
    const testUsers = Array.from(split.test.keys()).filter((u) => split.test[u] !== 0);
    assert.equal(res.users, testUsers.length, 'every held-out test user with a target is evaluated');
    assert.ok(res.users > 30);
    for (const batch of seen) {
      for (let b = 0; b < batch.batchSize; b++) {
        const u = batch.users[b];
        const row = Array.from(batch.seqs.subarray(b * 5, b * 5 + 5)).filter((i) => i !== 0);
        assert.deepEqual(row, Array.from(data.seqs[u].subarray(0, history)), `user ${u}: the first ${history} events, nothing appended`);
      }
    }
    // rank = items above the target by id, the history not counted
    res.evaluated!.forEach((u, k) => {
      const target = split.test[u];
      const above = data.itemNum - target - Array.from(data.seqs[u].subarray(0, history)).filter((i) => i > target && i !== target).length;
      assert.equal(res.ranks![k], above, `user ${u}`);
    });
  }
});

test('content scores held-out items from their features: far above a random scorer and PopRec, sampled and full', async () => {
  const data: Interactions = fromEvents(tasteEvents());
  const split = coldItemsSplit(data, 0.25, 8);
  const items = featureMatrix(groupFeatures(data.items, groupOfItem), data.items);
  const content = ContentModel.fit({ ...split, features: { items } }, { fields: [] });
  const pop = PopRecModel.fit(split, 'train');
  for (const protocol of ['full', 'sampled'] as const) {
    const [c, r, p] = [
      await ndcg(content.scorer, split, protocol),
      await ndcg(randomScorer(data.itemNum, 1), split, protocol),
      await ndcg(pop.scorer, split, protocol),
    ];
    assert.ok(c > r + 0.2, `${protocol}: content NDCG@10 ${c.toFixed(3)} vs random ${r.toFixed(3)}`);
    assert.ok(c > p + 0.2, `${protocol}: content NDCG@10 ${c.toFixed(3)} vs PopRec ${p.toFixed(3)}`);
  }
});

test('FM scores held-out users from their features: above PopRec on the same cold split', async () => {
  const data = fromEvents(tasteEvents());
  const users = featureMatrix(groupFeatures(data.users, groupOfUser), data.users);
  const options = { cold: 'users:0.2', seed: 2 };
  const fm = await train(data, { model: 'fm', numEpochs: 40, evalEvery: 40, lr: 0.02, features: { users }, ...options });
  const pop = await train(data, { model: 'pop', ...options });
  const full = async (m: typeof fm) => (await evaluate(m, data, { evalProtocol: 'full', ...options })).find((r) => r.split === 'test')!;
  const [f, p] = [await full(fm), await full(pop)];
  assert.equal(f.users, p.users);
  assert.ok(f.users >= 35, `${f.users} held-out test users`);
  assert.ok(f.metrics['NDCG@10'] > p.metrics['NDCG@10'] + 0.15, `FM ${f.metrics['NDCG@10'].toFixed(3)} vs PopRec ${p.metrics['NDCG@10'].toFixed(3)}`);
  // the held-out users' id vectors (never trained) are one vector, the trained users' mean as of the
  // last step (one Adam step away from the final mean), not zero; the others differ from it
  const factors = parseSafetensors(fm.serialize()).tensors.get('user_factors')!;
  const d = factors.shape[1];
  const held = coldUsersSplit(data, 0.2, 0, 2).cold!.held;
  const row = (u: number) => Array.from(factors.data.subarray(u * d, (u + 1) * d));
  const heldOut = Array.from({ length: data.userNum }, (_, k) => k + 1).filter((u) => held[u] !== 0);
  const trained = Array.from({ length: data.userNum }, (_, k) => k + 1).filter((u) => held[u] === 0);
  const mean = row(0).map((_, k) => trained.reduce((a, u) => a + row(u)[k], 0) / trained.length);
  assert.ok(Math.hypot(...mean) > 0.05, `the trained users share a component (|mean| = ${Math.hypot(...mean)})`);
  for (const u of heldOut) {
    assert.deepEqual(row(u), row(heldOut[0]), `user ${u}`);
    const off = Math.hypot(...row(u).map((x, k) => x - mean[k]));
    assert.ok(off < 0.5 * Math.hypot(...mean), `user ${u}: ${off} from the mean (|mean| = ${Math.hypot(...mean)})`);
  }
  for (const u of trained) assert.notDeepEqual(row(u), row(heldOut[0]), `user ${u}`);
  fm.dispose();
  pop.dispose();
});

test('seqrec train --cold: refuses id-only models and missing features in one line, before any folder; records the split', async () => {
  const data = join(dir, 'log.csv');
  writeFileSync(
    data,
    `user_id,item_id,timestamp\n${tasteEvents()
      .map((e, k) => `${e.user},${e.item},${k}`)
      .join('\n')}\n`,
  );
  const run = (args: string[]) => runCli(['train', '--dataset', data, ...args]);
  const sasrec = await run(['--model', 'sasrec', '--cold', 'users:0.1', '--train_dir', join(dir, 'sasrec')]);
  assert.equal(sasrec.code, 2);
  assert.match(
    sasrec.stderr,
    /^seqrec: --cold users:0\.1: --model sasrec cannot score users held out of training \(models that can: pop, content, fm, ffm, two_tower\)$/m,
  );
  const noFeatures = await run(['--model', 'fm', '--cold', 'items:0.1', '--train_dir', join(dir, 'fm')]);
  assert.equal(noFeatures.code, 2);
  assert.match(noFeatures.stderr, /^seqrec: --cold items:0\.1: --model fm scores held-out items from their features: give --item_features$/m);
  const bad = await run(['--model', 'pop', '--cold', 'users:1.2', '--train_dir', join(dir, 'bad')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^seqrec: --cold: needs users:F or items:F with 0 < F < 1/m);
  for (const d of ['sasrec', 'fm', 'bad']) assert.ok(!existsSync(join(dir, d)), `the refused run left no ${d} folder`);

  const ok = await run(['--model', 'pop', '--cold', 'users:0.1', '--cold_history', '1', '--train_dir', join(dir, 'pop')]);
  assert.equal(ok.code, 0, ok.stderr);
  const results = JSON.parse(readFileSync(join(dir, 'pop', 'results.json'), 'utf8'));
  assert.deepEqual(results.dataset.cold, {
    kind: 'users',
    fraction: 0.1,
    history: 1,
    heldOut: 40,
    heldOutValid: 20,
    heldOutTest: 20,
    validUsers: 20,
    testUsers: 20,
  });
  assert.equal(results.results.find((r: { split: string }) => r.split === 'test').users, 20);
});
