/** `seqrec report RUN_DIR` renders offline in Chromium, with no console errors, curves, table and heatmaps. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { launchBrowser } from './helpers/browser.js';
import { runCli } from './helpers/cli.js';
import { writeRingDataset } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';

test('report: one self-contained page with the curves, the results table and the attention heatmaps', async () => {
  const dir = testTempDir('seqrec-report-');
  const dataset = writeRingDataset(join(dir, 'ring.txt'));
  const runDir = join(dir, 'run');
  const tiny = ['--maxlen', '8', '--hidden_units', '16', '--num_blocks', '2', '--num_heads', '2', '--batch_size', '16', '--eval_every', '1'];
  assert.equal((await runCli(['train', '--dataset', dataset, '--train_dir', runDir, '--num_epochs', '3', ...tiny])).code, 0);
  const e = await runCli([
    'explain',
    '--model_dir',
    runDir,
    '--window',
    '4',
    '--output',
    join(runDir, 'explain.json'),
    '--svg_dir',
    join(runDir, 'attention'),
  ]);
  assert.equal(e.code, 0, e.stderr);
  const r = await runCli(['report', runDir]);
  assert.equal(r.code, 0, r.stderr);
  const html = readFileSync(join(runDir, 'report.html'), 'utf8');
  assert.ok(!/(src|href)=["']?https?:/.test(html), 'no external resources');
  assert.ok(!html.includes('<script'), 'no scripts');

  const browser = await launchBrowser();
  try {
    const tab = await browser.newPage();
    const errors: string[] = [];
    tab.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    tab.on('pageerror', (err) => errors.push(err.message));
    await tab.setContent(html);
    assert.deepEqual(errors, []);
    // 2 curves + 2 recency heatmaps, all laid out with a size
    const svgs = await tab.$$eval('svg', (els) => els.map((el) => el.getBoundingClientRect().width));
    assert.equal(svgs.length, 4);
    for (const w of svgs) assert.ok(w > 100);
    const rows = await tab.$$eval('table tbody tr', (els) => els.length);
    assert.ok(rows >= 2, 'valid and test rows');
    assert.match(await tab.$eval('body', (b) => b.textContent ?? ''), /layer 2: \d+% of the last query's weight/);
    // the loss curve has one point per epoch
    const path = await tab.$eval('svg path', (p) => p.getAttribute('d') ?? '');
    assert.equal(path.split(/[ML]/).filter(Boolean).length, 3);
    const png = await tab.screenshot({ fullPage: true });
    assert.ok(png.length > 5000);
  } finally {
    await browser.close();
  }
});
