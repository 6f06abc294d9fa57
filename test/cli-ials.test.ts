/**
 * `seqrec train --model ials` end to end: train with full evaluation, `eval` of the saved file (the
 * same figures), `recommend` for a known user (the history excluded, scores in order).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from './helpers/cli.js';
import { writeRingDataset } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';

const dir = testTempDir('seqrec-cli-ials-');
const dataset = writeRingDataset(join(dir, 'ring.txt'), { users: 60, items: 20 });

test('train --model ials: results, a model file that eval and recommend read', async () => {
  const runDir = join(dir, 'run');
  const r = await runCli([
    'train',
    '--model',
    'ials',
    '--dataset',
    dataset,
    '--train_dir',
    runDir,
    '--eval_protocol',
    'full',
    '--factors',
    '8',
    '--iters',
    '4',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout + r.stderr, /iALS: iteration 4\/4, loss/);
  const results = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8'));
  const rows = results.results as Array<{ protocol: string; split: string; metrics: Record<string, number> }>;
  const fullTest = rows.find((x) => x.protocol === 'full' && x.split === 'test')!.metrics['NDCG@10'];
  assert.ok(Number.isFinite(fullTest) && fullTest > 0, `full test NDCG@10 ${fullTest}`);

  const modelPath = join(runDir, 'ials.safetensors');
  const e = await runCli(['eval', '--state_dict_path', modelPath, '--dataset', dataset, '--eval_protocol', 'full', '--json']);
  assert.equal(e.code, 0, e.stderr);
  const again = (JSON.parse(e.stdout).results as typeof rows).find((x) => x.split === 'test')!.metrics['NDCG@10'];
  assert.ok(Math.abs(again - fullTest) < 1e-9, `${again} vs ${fullTest}`);

  const rec = await runCli(['recommend', '--state_dict_path', modelPath, '--user', 'u1', '--k', '3', '--json']);
  assert.equal(rec.code, 0, rec.stderr);
  const out = JSON.parse(rec.stdout) as { items: Array<{ item: string; score: number }> };
  assert.equal(out.items.length, 3);
  const history = new Set(['1070', '1080', '1090', '1100', '1110', '1120', '1130']);
  for (const x of out.items) assert.ok(!history.has(x.item), `recommended ${x.item} from the history`);
  assert.ok(out.items[0].score >= out.items[1].score && out.items[1].score >= out.items[2].score);
});
