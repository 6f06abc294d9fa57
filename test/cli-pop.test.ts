import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyPopLog } from './helpers/datasets.js';

/** Runs the CLI from the repo root: `node --import tsx src/cli/run.ts ...args`. */
function cli(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

// TINY_POP_LOG (test/helpers/datasets.ts): sparse ids, PopRec's ranks computed by hand below

const dir = mkdtempSync(join(tmpdir(), 'seqrec-cli-pop-'));
const dataset = join(dir, 'tiny.txt');
writeTinyPopLog(dataset);
const runDir = join(dir, 'run');
const model = join(runDir, 'poprec.json');

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('train --model pop: table on stdout, results.json with hand-computed full-ranking figures, model file', async () => {
  const r = await cli([
    'train',
    '--model',
    'pop',
    '--dataset',
    dataset,
    '--train_dir',
    runDir,
    '--eval_protocol',
    'both',
    '--ks',
    '1,10',
    '--seed',
    '7',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], /^protocol\s+split\s+users\s+HR@1\s+NDCG@1\s+HR@10\s+NDCG@10\s+MRR$/);
  assert.equal(lines.length, 5);
  assert.match(lines[1], /^sampled\s+valid\s+4\s/);
  assert.match(lines[4], /^full\s+test\s+4\s/);
  assert.deepEqual(readdirSync(runDir).sort(), ['args.txt', 'config.json', 'poprec.json', 'results.json', 'summary.txt']); // no temp files left
  const res = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8'));
  assert.equal(res.model, 'pop');
  assert.equal(res.dataset.users, 5);
  assert.equal(res.dataset.items, 7);
  assert.equal(res.dataset.evaluableUsers, 4);
  assert.equal(res.evaluation.seed, 7);
  const row = (p: string, s: string) => res.results.find((x: { protocol: string; split: string }) => x.protocol === p && x.split === s);
  // full, valid: ranks [1, 0, 3, 1] (user 20's valid 105 ties with 140 and stays above it)
  const fv = row('full', 'valid');
  assert.equal(fv.users, 4);
  close(fv.metrics['HR@1'], 0.25);
  close(fv.metrics.MRR, (1 / 2 + 1 + 1 / 4 + 1 / 2) / 4);
  close(fv.metrics['NDCG@10'], (2 / Math.log2(3) + 1 + 1 / Math.log2(5)) / 4);
  // full, test (history = train + valid, both excluded): ranks [2, 2, 1, 0]
  const ft = row('full', 'test');
  close(ft.metrics['HR@1'], 0.25);
  close(ft.metrics['HR@10'], 1);
  close(ft.metrics.MRR, (1 / 3 + 1 / 3 + 1 / 2 + 1) / 4);
  close(ft.metrics['NDCG@10'], (2 / Math.log2(4) + 1 / Math.log2(3) + 1) / 4);
  assert.ok(existsSync(model));
});

test("eval on the saved model reproduces train's numbers (same seed) and writes --output", async () => {
  const out = join(dir, 'eval.json');
  const r = await cli([
    'eval',
    '--state_dict_path',
    model,
    '--dataset',
    dataset,
    '--eval_protocol',
    'both',
    '--ks',
    '1,10',
    '--seed',
    '7',
    '--output',
    out,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const a = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')).results;
  const b = JSON.parse(readFileSync(out, 'utf8')).results;
  assert.deepEqual(
    b.map((x: { metrics: unknown }) => x.metrics),
    a.map((x: { metrics: unknown }) => x.metrics),
  );
  // the reference's spelling: train --state_dict_path F --inference_only evaluates F without training
  const dir2 = join(dir, 'inference');
  const r3 = await cli([
    'train',
    '--model',
    'pop',
    '--dataset',
    dataset,
    '--state_dict_path',
    model,
    '--inference_only',
    'true',
    '--train_dir',
    dir2,
    '--eval_protocol',
    'both',
    '--ks',
    '1,10',
    '--seed',
    '7',
  ]);
  assert.equal(r3.code, 0, r3.stderr);
  assert.deepEqual(readdirSync(dir2).sort(), ['args.txt', 'results.json']);
  assert.deepEqual(
    JSON.parse(readFileSync(join(dir2, 'results.json'), 'utf8')).results.map((x: { metrics: unknown }) => x.metrics),
    a.map((x: { metrics: unknown }) => x.metrics),
  );
  // another seed changes only the sampled rows (different negatives)
  const r2 = await cli(['eval', '--model', 'pop', '--state_dict_path', model, '--dataset', dataset, '--seed', '8', '--json']);
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal(JSON.parse(r2.stdout).results.length, 2);
});

test('recommend: --user, --history and --history - (stdin), original ids, history excluded', async () => {
  // user 10 knows 101 105 110 120 → left: 140 (2), 150 (1), 130 (0)
  const u = await cli(['recommend', '--state_dict_path', model, '--user', '10', '--k', '3']);
  assert.equal(u.code, 0, u.stderr);
  assert.equal(u.stdout, '140\t2\n150\t1\n130\t0\n');
  // history 101 140 → 105 (2), then 110 and 150 tie at 1: the lower dense id (110) first
  const h = await cli(['recommend', '--state_dict_path', model, '--history', '101 140', '--k', '2']);
  assert.equal(h.code, 0, h.stderr);
  assert.equal(h.stdout, '105\t2\n110\t1\n');
  const s = await cli(['recommend', '--state_dict_path', model, '--history', '-', '--k', '2', '--json'], '150\n105\n');
  assert.equal(s.code, 0, s.stderr);
  assert.deepEqual(JSON.parse(s.stdout), {
    user: null,
    history: ['150', '105'],
    items: [
      { item: '101', score: 5 },
      { item: '140', score: 2 },
    ],
  });
});

test('user errors are one line on stderr with exit code 2', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['recommend', '--state_dict_path', model, '--user', '99'], /--user: unknown user id "99"/],
    [['recommend', '--state_dict_path', model, '--history', '101 999'], /--history: unknown item id "999"/],
    [['train', '--model', 'nope', '--dataset', dataset], /--model: unknown model "nope"/],
    [['eval', '--state_dict_path', join(dir, 'missing.json'), '--dataset', dataset], /cannot read .*missing\.json/],
    [['train', '--model', 'pop', '--dataset', dataset, '--ks', '10,x'], /--ks/],
  ];
  const results = await Promise.all(cases.map(([args]) => cli(args)));
  results.forEach((r, j) => {
    assert.equal(r.code, 2, `${cases[j][0].join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, cases[j][1]);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(r.stdout, '');
  });
  // a dataset whose items differ from the model's is refused
  const other = join(dir, 'other.txt');
  writeFileSync(other, '1 1\n1 2\n1 3\n2 2\n2 3\n2 4\n');
  const m = await cli(['eval', '--state_dict_path', model, '--dataset', other]);
  assert.equal(m.code, 2);
  assert.match(m.stderr, /--dataset .*other\.txt: 4 items, the model was trained on 7/);
});
