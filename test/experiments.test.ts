import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { writeRingDataset } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';
import { mean, std } from '../src/train/experiments.js';

const dir = testTempDir('seqrec-experiments-');

// a ring of 30 items walked by 60 users, with timestamps (so TiSASRec runs too)
writeRingDataset(join(dir, 'ring.txt'), { users: 60, length: (u) => 6 + (u % 5), timed: true });
const gridPath = join(dir, 'grid.yaml');
writeFileSync(
  gridPath,
  [
    'datasets: [ring.txt]',
    'models: [sasrec, tisasrec]',
    'flags: { num_epochs: 2, eval_every: 1, maxlen: 8, hidden_units: 8, num_blocks: 1, batch_size: 16, lr: 0.01 }',
    'seeds: [1, 2]',
    'out: exp',
  ].join('\n') + '\n',
);
const out = join(dir, 'exp');

test('mean and sample standard deviation', () => {
  assert.equal(mean([1, 2, 3]), 2);
  assert.equal(std([1, 2, 3]), 1);
  assert.equal(std([5]), 0);
});

test('a grid of 2 models × 2 seeds runs, writes results.csv / results.md / report.html, and a rerun skips finished runs', async () => {
  const r = await runCli(['experiments', gridPath]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /4 runs trained, 0 skipped/);
  for (const m of ['sasrec', 'tisasrec']) for (const s of [1, 2]) {
    const runDir = join(out, 'runs', 'ring', m, 'default', `seed-${s}`);
    assert.ok(existsSync(join(runDir, 'results.json')), runDir);
    assert.equal(readFileSync(join(runDir, 'log.jsonl'), 'utf8').trim().split('\n').length, 2);
  }
  const csv = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 5, 'header + 4 runs');
  assert.match(csv[0], /^dataset,model,config,seed,epochs,train_seconds,.*test sampled NDCG@10/);
  const md = readFileSync(join(out, 'results.md'), 'utf8');
  const rows = md.split('\n').filter((l) => /^\| ring \|/.test(l));
  assert.equal(rows.length, 2, md);
  assert.match(rows[0], /^\| ring \| sasrec \| default \| 2 \| \d\.\d{4} ± \d\.\d{4} \|/);
  assert.match(rows[1], /^\| ring \| tisasrec \| default \| 2 \|/);
  // the mean ± std in the table is that of the two runs' results.json
  const testNdcg = (m: string, s: number) =>
    JSON.parse(readFileSync(join(out, 'runs', 'ring', m, 'default', `seed-${s}`, 'results.json'), 'utf8')).results.find((x: { split: string }) => x.split === 'test').metrics['NDCG@10'];
  const xs = [testNdcg('sasrec', 1), testNdcg('sasrec', 2)];
  assert.ok(rows[0].includes(`${mean(xs).toFixed(4)} ± ${std(xs).toFixed(4)}`), rows[0]);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.match(html, /<canvas|createElement\('canvas'\)/);
  assert.match(html, /Chart\.js v4/, 'chart.js is inlined');
  assert.ok(!/<script[^>]+src=/.test(html), 'no external scripts');

  const before = statSync(join(out, 'runs', 'ring', 'sasrec', 'default', 'seed-1', 'results.json')).mtimeMs;
  const again = await runCli(['experiments', gridPath]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /0 runs trained, 4 skipped/);
  assert.match(again.stderr, /done already, skipped/);
  assert.equal(statSync(join(out, 'runs', 'ring', 'sasrec', 'default', 'seed-1', 'results.json')).mtimeMs, before);

  // a run interrupted after its last checkpoint (no results.json) is resumed, not retrained
  const run2 = join(out, 'runs', 'ring', 'tisasrec', 'default', 'seed-2');
  const metrics = readFileSync(join(run2, 'results.json'), 'utf8').match(/"metrics": \{[^}]*\}/g);
  rmSync(join(run2, 'results.json'));
  const third = await runCli(['experiments', gridPath]);
  assert.equal(third.code, 0, third.stderr);
  assert.match(third.stdout, /1 runs trained, 3 skipped/);
  assert.match(third.stderr, /tisasrec default seed 2: resuming/);
  assert.match(third.stderr, /already finished/);
  assert.deepEqual(readFileSync(join(run2, 'results.json'), 'utf8').match(/"metrics": \{[^}]*\}/g), metrics);
});

test('report.html draws its charts in headless Chromium', async (t) => {
  const chromium = '/usr/bin/chromium';
  if (!existsSync(chromium)) return t.skip('/usr/bin/chromium is not installed');
  // playwright-core is an optional devDependency: loaded by name so the suite runs without it
  type Page = {
    goto(url: string): Promise<unknown>;
    locator(sel: string): { count(): Promise<number> };
    evaluate<T>(fn: () => T): Promise<T>;
    screenshot(o: { path: string; fullPage: boolean }): Promise<unknown>;
  };
  type Browser = { newPage(): Promise<Page>; close(): Promise<void> };
  let pw: { chromium: { launch(o: { executablePath: string; args: string[] }): Promise<Browser> } };
  try {
    const name = 'playwright-core';
    pw = (await import(name)) as typeof pw;
  } catch {
    return t.skip('playwright-core is not installed');
  }
  const report = join(out, 'report.html');
  if (!existsSync(report)) return t.skip('the grid test did not produce report.html');
  const browser = await pw.chromium.launch({
    executablePath: chromium,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`file://${report}`);
    const canvases = await page.locator('canvas').count();
    assert.equal(canvases, 4, '2 configs × (loss, NDCG)');
    // non-blank pixels: the line charts drew something
    const inked = await page.evaluate(() =>
      Array.from(document.querySelectorAll('canvas')).map((c) => {
        const d = (c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++;
        return n;
      }),
    );
    for (const n of inked) assert.ok(n > 500, `canvas has ${n} drawn pixels`);
    await page.screenshot({ path: join(dir, 'report.png'), fullPage: true });
  } finally {
    await browser.close();
  }
});

test('a failing run does not stop the grid; bad grid files are refused in one line', async () => {
  const untimed = join(dir, 'untimed.txt');
  writeFileSync(untimed, readFileSync(join(dir, 'ring.txt'), 'utf8').replace(/ \d+\n/g, '\n'));
  const g = join(dir, 'mixed.json');
  writeFileSync(g, JSON.stringify({ datasets: ['untimed.txt'], models: ['tisasrec', 'pop'], seeds: [3], out: 'mixed' }));
  const r = await runCli(['experiments', g]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /tisasrec default seed 3: FAILED: .*timestamps/);
  assert.match(r.stderr, /seqrec: 1 of 2 runs failed/);
  const csv = readFileSync(join(dir, 'mixed', 'results.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 2);
  assert.match(csv[1], /^untimed,pop,default,3,/);

  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'datasets: [ring.txt]\nmodels: [sasrec]\nflag: { lr: 1 }\n');
  const rb = await runCli(['experiments', bad]);
  assert.equal(rb.code, 2);
  assert.equal(rb.stderr.trim().split('\n').length, 1, rb.stderr);
  assert.match(rb.stderr, /bad\.yaml: .*flag/);
  writeFileSync(bad, 'datasets: [ring.txt]\nmodels: [sasrec]\nflags: { seed: 1 }\n');
  const rs = await runCli(['experiments', bad]);
  assert.equal(rs.code, 2);
  assert.match(rs.stderr, /"seed" is set by the experiment/);
});
