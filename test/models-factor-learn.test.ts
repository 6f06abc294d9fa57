/**
 * The factor models learn (the library's train and evaluate, in-process): on small synthetic data each
 * ranks the held-out item far better than PopRec (full-ranking test NDCG@10).
 *
 * - FMC, FPMC and TransRec on the ring, a sequential pattern: each user walks a ring of items, so the
 *   next item follows from the previous one. FPMC and TransRec also continue it for users they do not
 *   know (scored as user 0: the transition term, the global translation), so they learned the sequence,
 *   not only each user's part of the ring.
 * - BPR-MF has no notion of order, so its pattern is one where per-user preference matters: stable
 *   tastes ("groups": each user's items come from one group, in a random order, so the previous item says
 *   nothing beyond the group). Without its users (user 0: the item bias alone) it falls to PopRec's level.
 *
 * And evaluating on a dataset whose users are numbered otherwise gives each user the model's row of it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { fromEvents, loadDataset, train, type Event, type Interactions } from '../src/index.js';
import { leaveOneOut } from '../src/data/split.js';
import { runEvaluations } from '../src/eval/run.js';
import { evalOptions } from '../src/eval/options.js';
import { writeRingDataset } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';
import { testNdcg } from './helpers/tastes.js';

const dir = testTempDir('seqrec-factor-learn-');

/** 60 users; user u likes group u mod 4 of 8 items (ids 2000 + 10k) and touches 5 + u mod 3 of them, shuffled per user. */
function groupEvents(rename: (user: string) => string = (u) => u): Event[] {
  const events: Event[] = [];
  let state = 12345;
  const next = (n: number) => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % n;
  };
  for (let u = 1; u <= 60; u++) {
    const g = u % 4;
    const pool = Array.from({ length: 8 }, (_, k) => 2000 + 10 * (g * 8 + k));
    for (let k = pool.length - 1; k > 0; k--) {
      const j = next(k + 1);
      [pool[k], pool[j]] = [pool[j], pool[k]];
    }
    for (const item of pool.slice(0, 5 + (u % 3))) events.push({ user: rename(`u${u}`), item });
  }
  return events;
}

/** The same interactions with other user ids. */
function renamed(data: Interactions, rename: (user: string) => string): Interactions {
  const events: Event[] = [];
  for (let u = 1; u <= data.userNum; u++) for (const i of data.seqs[u]) events.push({ user: rename(data.users.toRaw[u]), item: data.items.toRaw[i] });
  return fromEvents(events);
}

const ring = await loadDataset(writeRingDataset(join(dir, 'ring.txt')));
const groups = fromEvents(groupEvents());
const training = { numEpochs: 30, evalEvery: 10, lr: 0.01, batchSize: 16, evalProtocol: 'full' as const, seed: 1 };

const pop: Record<string, number> = {};
test('PopRec is far from a perfect ranking on the ring and on the groups', async () => {
  for (const [name, data] of [
    ['ring', ring],
    ['groups', groups],
  ] as const) {
    const model = await train(data, { model: 'pop' });
    pop[name] = await testNdcg(model, data);
  }
  assert.ok(pop.ring < 0.45 && pop.groups < 0.3, JSON.stringify(pop));
});

for (const name of ['fmc', 'fpmc', 'transrec']) {
  test(`${name} learns the ring: far above PopRec${name === 'fmc' ? '' : ', for known users and for users it does not know'}`, async () => {
    const model = await train(ring, { model: name, ...training });
    try {
      const known = await testNdcg(model, ring);
      assert.ok(known > 0.8 && known > pop.ring + 0.45, `${name}: full test NDCG@10 ${known}, PopRec ${pop.ring}`);
      // the same histories, none of whose users the model knows
      const strangers = await testNdcg(
        model,
        renamed(ring, (u) => `new-${u}`),
      );
      if (name === 'fmc') assert.equal(strangers, known, 'FMC reads no users');
      else assert.ok(strangers > pop.ring + 0.3, `${name}: unknown users' NDCG@10 ${strangers}, PopRec ${pop.ring}`);
    } finally {
      model.dispose();
    }
  });
}

test('bpr learns stable per-user tastes (not a sequence: BPR-MF has none): far above PopRec, and at its level without the users', async () => {
  const model = await train(groups, { model: 'bpr', ...training });
  try {
    const known = await testNdcg(model, groups);
    assert.ok(known > 0.6 && known > pop.groups + 0.35, `bpr: full test NDCG@10 ${known}, PopRec ${pop.groups}`);
    const strangers = await testNdcg(
      model,
      renamed(groups, (u) => `new-${u}`),
    );
    assert.ok(strangers < pop.groups + 0.15, `bpr without users: NDCG@10 ${strangers}, PopRec ${pop.groups}`);

    // u1 renamed: it sorts last, so every other user's dense id moves down by one
    const shifted = renamed(groups, (u) => (u === 'u1' ? 'w1' : u));
    assert.equal(shifted.users.toRaw[1], 'u10');
    // evaluation reads each user by the model's id of it: only w1 (now unknown) can score otherwise (1 user of 60)
    const remapped = await testNdcg(model, shifted);
    assert.ok(Math.abs(remapped - known) <= 1 / 60 + 1e-9, `${remapped} vs ${known}`);
    // the dataset's dense ids taken as the model's would give the users other users' tastes
    const options = evalOptions.parse({ eval_protocol: 'full' });
    const raw = (await runEvaluations(model.scorer, leaveOneOut(shifted, 3), options, 42)).find((r) => r.split === 'test')!;
    assert.ok(raw.metrics['NDCG@10'] < known - 0.3, `unmapped ${raw.metrics['NDCG@10']} vs ${known}`);
  } finally {
    model.dispose();
  }
});
