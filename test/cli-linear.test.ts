/**
 * `seqrec train --model ease|slim` end to end: train (sampled and full evaluation), the model file
 * in the run directory, `eval` of the saved file (the same figures), `recommend` (original ids, the
 * history excluded, the same ranking as the weights give), and the memory refusal (exit 2, one line).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from './helpers/cli.js';
import { writeRingDataset } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';

const dir = testTempDir('seqrec-cli-linear-');
const dataset = writeRingDataset(join(dir, 'ring.txt'), { users: 60, items: 20 });

for (const [model, file, flags] of [
  ['ease', 'ease.safetensors', ['--l2', '5']],
  ['slim', 'slim.safetensors', ['--l1', '0.5', '--l2', '2', '--max_iter', '200']],
] as const) {
  test(`train --model ${model}: results for both protocols, a model file that eval and recommend read`, async () => {
    const runDir = join(dir, `run-${model}`);
    const r = await runCli(['train', '--model', model, '--dataset', dataset, '--train_dir', runDir, '--eval_protocol', 'both', ...flags]);
    assert.equal(r.code, 0, r.stderr);
    const results = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8'));
    const rows = results.results as Array<{ protocol: string; split: string; metrics: Record<string, number> }>;
    assert.deepEqual(rows.map((x) => `${x.protocol}/${x.split}`).sort(), ['full/test', 'full/valid', 'sampled/test', 'sampled/valid']);
    const fullTest = rows.find((x) => x.protocol === 'full' && x.split === 'test')!.metrics['NDCG@10'];
    // the ring's next item co-occurs with the user's items: well above chance (10 of 20 items → ~0.3 at random)
    assert.ok(fullTest > 0.4, `${model}: full test NDCG@10 ${fullTest}`);

    const modelPath = join(runDir, file);
    const e = await runCli(['eval', '--state_dict_path', modelPath, '--dataset', dataset, '--eval_protocol', 'full', '--json']);
    assert.equal(e.code, 0, e.stderr);
    const again = (JSON.parse(e.stdout).results as typeof rows).find((x) => x.split === 'test')!.metrics['NDCG@10'];
    assert.ok(Math.abs(again - fullTest) < 1e-9, `${again} vs ${fullTest}`);

    // u1's 7 items: ring positions 7..13 (items 1070 … 1130); recommendations exclude them
    const rec = await runCli(['recommend', '--state_dict_path', modelPath, '--user', 'u1', '--k', '3', '--json']);
    assert.equal(rec.code, 0, rec.stderr);
    const out = JSON.parse(rec.stdout) as { items: Array<{ item: string; score: number }> };
    assert.equal(out.items.length, 3);
    const history = new Set(['1070', '1080', '1090', '1100', '1110', '1120', '1130']);
    for (const x of out.items) assert.ok(!history.has(x.item), `recommended ${x.item} from the history`);
    assert.ok(out.items[0].score >= out.items[1].score && out.items[1].score >= out.items[2].score);
    // the ring's neighbours of the history rank first
    assert.ok(['1060', '1140'].includes(out.items[0].item), JSON.stringify(out.items));
  });

  test(`train --model ${model} refuses a fit above --memory_gb: exit 2, one line naming the flags`, async () => {
    const r = await runCli(['train', '--model', model, '--dataset', dataset, '--train_dir', join(dir, `big-${model}`), '--memory_gb', '0.0000001']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`--model ${model} would need about .*--memory_gb.*--min_item_count`));
    assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('seqrec:')).length, 1, r.stderr);
    assert.match(r.stderr, /^seqrec: --model .*memory\n/m);
  });
}

test("train --help gives --l2 each model's meaning: Caser's weight decay, EASE's λ and SLIM's β", async () => {
  const r = await runCli(['train', '--help']);
  assert.equal(r.code, 0, r.stderr);
  const help = r.stdout.replace(/\s+/g, ' ');
  assert.match(help, /--l2 <x> Caser: L2 penalty λ on every parameter.*; ease: L2 penalty λ of ‖B‖²_F .*; slim: L2 penalty β of \(β\/2\)‖W‖²_F/);
  assert.match(help, /\(default: caser 0\.000001, ease 500, slim 10\) \[caser, ease, slim\]/);
});
