/**
 * Limits that depend on the data are checked before training (issue 23, finding 7): a user with every
 * item in train (no negatives to draw) is refused up front naming the flag to change, and a large
 * --num_negatives scores in bounded slices instead of exhausting memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromEvents } from '../src/data/events.js';
import { leaveOneOut } from '../src/data/split.js';
import { Rng } from '../src/engine/rng.js';
import { evaluateSampled, SAMPLED_SLOTS_PER_CALL } from '../src/eval/protocols.js';
import type { HistoryBatch, Scorer } from '../src/eval/types.js';
import { runCli } from './helpers/cli.js';
import { testTempDir } from './helpers/tmp.js';

const dir = testTempDir('seqrec-limits-');

test('a user with every item in train is refused before training, naming --eval_protocol full', async () => {
  const items = ['a', 'b', 'c', 'd', 'e'];
  const lines = ['u0 a', 'u0 b', 'u0 c', 'u0 d', 'u0 e', 'u0 a', 'u0 b'];
  for (let u = 1; u <= 12; u++) for (let t = 0; t < 4; t++) lines.push(`u${u} ${items[(u + t) % 5]}`);
  const file = join(dir, 'full.txt');
  writeFileSync(file, `${lines.join('\n')}\n`);
  const run = join(dir, 'run');
  const args = ['--model', 'sasrec', '--dataset', file, '--maxlen', '4', '--hidden_units', '8', '--num_blocks', '1', '--num_epochs', '3'];
  const r = await runCli(['train', ...args, '--threads', '1', '--train_dir', run]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /seqrec: user "u0" has all 5 items in train, so the sampled protocol has no negatives to draw for them: .*--eval_protocol full --select_protocol full/,
  );
  assert.doesNotMatch(r.stderr, /epoch/, 'nothing was trained');
  assert.ok(!existsSync(run), 'nothing was written');
});

class CountingScorer implements Scorer {
  maxSlots = 0;
  constructor(
    readonly itemNum: number,
    readonly maxlen: number,
  ) {}
  scoreCandidates(batch: HistoryBatch, candidates: Int32Array, n: number): Float32Array {
    this.maxSlots = Math.max(this.maxSlots, batch.batchSize * n);
    const out = new Float32Array(batch.batchSize * n);
    for (let i = 0; i < out.length; i++) out[i] = (candidates[i] * 7919) % 13;
    return out;
  }
  scoreAll(): Float32Array {
    throw new Error('not used');
  }
}

test('--num_negatives 100000 scores in slices of bounded size, with the same results as one user at a time', async () => {
  const events = [];
  for (let u = 0; u < 12; u++) for (let t = 0; t < 5; t++) events.push({ user: `u${u}`, item: `i${(u * 3 + t) % 40}`, time: t });
  const split = leaveOneOut(fromEvents(events));
  const big = new CountingScorer(split.data.itemNum, 5);
  const r = await evaluateSampled(big, split, { which: 'test', rng: new Rng(5), numNegatives: 100_000, batchSize: 256 });
  assert.ok(big.maxSlots <= SAMPLED_SLOTS_PER_CALL, `${big.maxSlots} candidate slots in one call`);
  const one = await evaluateSampled(new CountingScorer(split.data.itemNum, 5), split, {
    which: 'test',
    rng: new Rng(5),
    numNegatives: 100_000,
    batchSize: 1,
  });
  assert.deepEqual(r.metrics, one.metrics);
});
