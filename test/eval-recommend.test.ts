/**
 * Every command that produces results refuses non-finite scores, and an empty or short
 * recommendation list says why (issue 23, finding 3).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { recommendTopK, shortfallNote } from '../src/eval/recommend.js';
import type { HistoryBatch, Scorer } from '../src/eval/types.js';
import { runCli } from './helpers/cli.js';
import { writeRingDataset } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';

class FnScorer implements Scorer {
  constructor(
    readonly itemNum: number,
    readonly maxlen: number,
    private readonly score: (item: number) => number,
  ) {}
  scoreCandidates(batch: HistoryBatch, candidates: Int32Array, n: number): Float32Array {
    const out = new Float32Array(batch.batchSize * n);
    for (let i = 0; i < out.length; i++) out[i] = this.score(candidates[i]);
    return out;
  }
  scoreAll(batch: HistoryBatch): Float32Array {
    const out = new Float32Array(batch.batchSize * (this.itemNum + 1));
    for (let i = 0; i < out.length; i++) out[i] = this.score(i % (this.itemNum + 1));
    return out;
  }
}

test('recommendTopK refuses NaN and +Infinity scores (not an empty list); −Infinity and the padding item are allowed', () => {
  for (const bad of [NaN, Infinity]) {
    for (const scorer of [new FnScorer(5, 3, () => bad), new FnScorer(5, 3, (i) => (i === 4 ? bad : i))]) {
      assert.throws(() => recommendTopK(scorer, { items: [1] }, 3), {
        name: 'UserError',
        message: new RegExp(`^recommend: the model scores ${bad} `),
      });
    }
  }
  const masked = new FnScorer(5, 3, (i) => (i === 0 ? NaN : i === 5 ? -Infinity : i));
  assert.deepEqual(
    recommendTopK(masked, { items: [1] }, 2).map((r) => r.item),
    [4, 3],
  );
});

test('a short or empty list says why: the history covers the catalogue', () => {
  const scorer = new FnScorer(4, 3, (i) => i);
  assert.equal(shortfallNote(scorer, { items: [1, 2] }, 2, 2), undefined);
  assert.equal(
    shortfallNote(scorer, { items: [1, 2, 3, 4, 4] }, 10, 0),
    "no items to recommend: the history holds 4 of the model's 4 items, and recommendations exclude the history",
  );
  assert.match(shortfallNote(scorer, { items: [1, 2, 3] }, 10, 1)!, /^only 1 of the 10 items asked for: the history holds 3/);
});

const dir = testTempDir('seqrec-recommend-');
const dataset = writeRingDataset(join(dir, 'ring.txt'), { users: 20 });

test('`seqrec recommend` with a whole-catalogue history prints nothing and says why on stderr', async () => {
  const run = join(dir, 'pop');
  const trained = await runCli(['train', '--model', 'pop', '--dataset', dataset, '--train_dir', run]);
  assert.equal(trained.code, 0, trained.stderr);
  const all = Array.from({ length: 30 }, (_, i) => 1000 + 10 * i).join(' ');
  const r = await runCli(['recommend', '--state_dict_path', join(run, 'poprec.json'), '--history', all]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /note: recommend: no items to recommend: the history holds 30 of the model's 30 items/);
});

test('`seqrec recommend` refuses a model that scores NaN or Infinity (exit 2, one line), as `eval` does', async () => {
  const run = join(dir, 'sasrec');
  const args = ['--model', 'sasrec', '--dataset', dataset, '--maxlen', '5', '--hidden_units', '8', '--num_blocks', '1', '--num_epochs', '1'];
  const trained = await runCli(['train', ...args, '--threads', '1', '--train_dir', run]);
  assert.equal(trained.code, 0, trained.stderr);
  // every float of the safetensors data section becomes 3e38: finite weights (the loader refuses NaN) whose scores overflow
  const file = join(run, 'sasrec.safetensors');
  const bytes = readFileSync(file);
  const start = 8 + Number(bytes.readBigUInt64LE(0));
  for (let o = start; o + 4 <= bytes.length; o += 4) bytes.writeFloatLE(3e38, o);
  writeFileSync(file, bytes);
  const r = await runCli(['recommend', '--state_dict_path', file, '--user', 'u1']);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^seqrec: recommend: the model scores (NaN|Infinity) for some items: its weights have diverged/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});
