import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser } from './helpers/browser.js';
import { testTempDir } from './helpers/tmp.js';
import { buildDemoPage, demoModelPath } from './helpers/demo-page.js';
import { demoDir, startDemoServer } from '../src/cli/demo.js';
import { UserError } from '../src/core/errors.js';
import { loadModel } from '../src/api/model-file.js';
import { recommendTopK } from '../src/eval/recommend.js';
import { attentionSourceOf } from '../src/models/contract.js';
import { runCli } from './helpers/cli.js';
import { writeRingDataset } from './helpers/datasets.js';

const dir = testTempDir('seqrec-demo-');
const demoModel = demoModelPath;

const buildPage = () => buildDemoPage(join(dir, 'page'));

test('seqrec demo refuses to start without the built page and names the command that builds it', async () => {
  const empty = join(dir, 'empty');
  mkdirSync(empty, { recursive: true });
  await assert.rejects(startDemoServer(empty, 0, '127.0.0.1'), (e: Error) => e instanceof UserError && /npm run build:browser/.test(e.message));
});

test('seqrec demo serves the built page (dist/demo/) on loopback, nothing outside it, and stops on SIGTERM', async () => {
  assert.ok(existsSync(join(demoDir, 'index.html')), `${demoDir} is missing: npm test builds it (npm run build:browser)`);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', 'demo', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((ok, fail) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = /open (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) ok(m[1]);
      });
      child.on('close', (code) => fail(new Error(`seqrec demo exited ${code}`)));
    });
    const page = await fetch(url);
    assert.equal(page.status, 200);
    // cross-origin isolated: the page's kernels may run on a thread pool
    assert.equal(page.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(page.headers.get('cross-origin-embedder-policy'), 'require-corp');
    assert.match(await page.text(), /<script type="module" src="\.\/demo\.js">/);
    const model = await fetch(`${url}games-sasrec.safetensors`);
    assert.equal(Buffer.from(await model.arrayBuffer()).equals(readFileSync(demoModel)), true);
    for (const path of ['..%2F..%2Fpackage.json', 'nothing.js']) assert.equal((await fetch(`${url}${path}`)).status, 404, path);
  } finally {
    const exited = new Promise<number | null>((ok) => child.once('close', ok));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  }
});

test('the demo page loads the demo model; a history built by search and clicks gives the top-10 of Node (scores within 1e-5), renders the attention heatmaps, updates in < 50 ms, no console errors', async () => {
  const model = await loadModel(new Uint8Array(readFileSync(demoModel)));
  const nodeTop = (history: readonly string[]) =>
    recommendTopK(model.scorer, { items: history.map((id) => model.items.toIndex.get(id) as number) }, 10).map((r) => ({
      item: model.items.toRaw[r.item],
      score: r.score,
    }));
  const ids = model.items.toRaw;
  const clicked = [ids[123], ids[4567], ids[89]];
  const longHistory = ids.slice(1000, 1060);

  const { server, url } = await startDemoServer(await buildPage(), 0, '127.0.0.1');
  const browser = await launchBrowser();
  try {
    const tab = await browser.newPage();
    const errors: string[] = [];
    tab.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    tab.on('pageerror', (e) => errors.push(e.message));
    await tab.goto(url);
    await tab.evaluate(() => (window as unknown as { seqrecDemo: { ready: Promise<void> } }).seqrecDemo.ready);
    assert.match((await tab.textContent('#status')) ?? '', /^Ready/);
    const [isolated, cores] = await tab.evaluate(() => [crossOriginIsolated, navigator.hardwareConcurrency] as const);
    assert.equal(isolated, true, 'seqrec demo serves the page cross-origin isolated');
    const threads = Math.min(4, cores);
    assert.match(
      (await tab.textContent('#model-info')) ?? '',
      new RegExp(`· wasm-[a-z-]+ on ${threads === 1 ? 'one thread' : `${threads} threads`}$`),
    );
    for (const name of ['Model file', 'Item names', 'Search items by id or name']) assert.equal(await tab.getByLabel(name).count(), 1, name);
    assert.equal(await tab.locator('#top li').count(), 10, 'the empty history is ranked too');

    for (const id of clicked) {
      await tab.fill('#search', id);
      await tab.click(`#results button[data-item="${id}"]`);
    }
    assert.deepEqual(await tab.$$eval('#history button', (bs) => bs.map((b) => (b as HTMLElement).dataset.item)), clicked);
    const shown = await tab.$$eval('#top li', (lis) =>
      lis.map((li) => ({ item: (li.querySelector('button') as HTMLElement).dataset.item, score: Number((li as HTMLElement).dataset.score) })),
    );
    const expected = nodeTop(clicked);
    assert.deepEqual(
      shown.map((r) => r.item),
      expected.map((r) => r.item),
    );
    for (let j = 0; j < 10; j++)
      assert.ok(Math.abs(shown[j].score - expected[j].score) <= 1e-5, `rank ${j}: ${shown[j].score} vs ${expected[j].score}`);

    // the heatmaps: one per layer and head, the causal cells of the clicked history, Node's weights
    const source = attentionSourceOf(model);
    const [nodeMap] = source.attentionWeights([Int32Array.from(clicked.map((id) => model.items.toIndex.get(id) as number))]);
    const figures = await tab.$$eval('#heatmaps figure', (fs) =>
      fs.map((f) => ({
        caption: f.querySelector('figcaption')?.textContent,
        cells: Array.from(f.querySelectorAll('rect title')).map((t) => Number(t.textContent?.split(': ').at(-1))),
      })),
    );
    assert.equal(figures.length, source.numLayers * source.numHeads);
    assert.equal(figures[0].caption, 'Layer 1, head 1');
    figures.forEach((f, k) => {
      const weights = nodeMap.items[Math.floor(k / source.numHeads)][k % source.numHeads];
      const causal = [0, 3, 4, 6, 7, 8].map((i) => weights[i]);
      assert.equal(f.cells.length, causal.length, `map ${k}`);
      for (const [i, w] of f.cells.entries()) assert.ok(Math.abs(w - causal[i]) <= 1e-4, `map ${k} cell ${i}: ${w} vs ${causal[i]}`);
    });

    const updates = await tab.evaluate((h) => {
      const demo = (
        window as unknown as {
          seqrecDemo: { setHistory(h: string[]): { item: string; score: number }[]; lastUpdateMs: number; lastAttentionMs: number };
        }
      ).seqrecDemo;
      const times: number[] = [];
      const attentionTimes: number[] = [];
      let top: { item: string; score: number }[] = [];
      for (let n = 1; n <= h.length; n++) {
        top = demo.setHistory(h.slice(0, n));
        times.push(demo.lastUpdateMs);
        attentionTimes.push(demo.lastAttentionMs);
      }
      return { top, times, attentionTimes };
    }, longHistory);
    const expectedLong = nodeTop(longHistory);
    assert.deepEqual(
      updates.top.map((r) => r.item),
      expectedLong.map((r) => r.item),
    );
    for (let j = 0; j < 10; j++) assert.ok(Math.abs(updates.top[j].score - expectedLong[j].score) <= 1e-5, `long history rank ${j}`);
    const sorted = [...updates.times].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    const attention = [...updates.attentionTimes].sort((a, b) => a - b);
    console.log(
      `demo update on Games: top-10 median ${median.toFixed(1)} ms, max ${sorted.at(-1)?.toFixed(1)} ms; ` +
        `attention maps after it median ${attention[attention.length >> 1].toFixed(1)} ms, max ${attention.at(-1)?.toFixed(1)} ms; ${sorted.length} updates`,
    );
    assert.ok(median < 50, `median update ${median} ms`);
    assert.ok((sorted.at(-1) as number) < 50, `slowest update ${sorted.at(-1)} ms`);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    server.close();
  }
});

test('the demo page trains SASRec on a chosen interaction file in a Web Worker: progress bar, loss curve, valid NDCG@10, then recommends with it and downloads the model file Node trains the same', async () => {
  const ring = writeRingDataset(join(dir, 'ring.txt'), { users: 40 });
  // Node's run of the same training (the CLI installs the kernels as Chromium has them: relaxed SIMD)
  const run = join(dir, 'ring-run');
  const r = await runCli([
    'train',
    '--model',
    'sasrec',
    '--dataset',
    ring,
    '--train_dir',
    run,
    '--num_epochs',
    '2',
    '--eval_every',
    '1',
    '--threads',
    '1',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const nodeBytes = new Uint8Array(readFileSync(join(run, 'sasrec.safetensors')));
  const nodeLog = readFileSync(join(run, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { valid: Record<string, number> });
  const { server, url } = await startDemoServer(await buildPage(), 0, '127.0.0.1');
  const browser = await launchBrowser();
  try {
    const tab = await browser.newPage();
    const errors: string[] = [];
    tab.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    tab.on('pageerror', (e) => errors.push(e.message));
    await tab.goto(url);
    await tab.evaluate(() => (window as unknown as { seqrecDemo: { ready: Promise<void> } }).seqrecDemo.ready);
    for (const name of ['Epochs', 'Interaction file to train on', 'Training progress', 'Training loss by step'])
      assert.equal(await tab.getByLabel(name).count(), 1, name);
    await tab.getByLabel('Epochs').fill('2');
    await tab.getByLabel('Interaction file to train on').setInputFiles(ring);
    await tab.waitForSelector('#train-download:not([hidden])', { timeout: 60_000 });
    await tab.waitForFunction(() => /SASRec trained here on ring\.txt/.test(document.getElementById('status')?.textContent ?? ''));

    assert.equal(await tab.$eval('#train-progress', (p) => (p as HTMLProgressElement).value), 1);
    const ndcg = nodeLog[1].valid['NDCG@10'];
    assert.equal(await tab.textContent('#train-ndcg'), `Valid NDCG@10 after epoch 2: ${ndcg.toFixed(4)}`);
    const points = ((await tab.getAttribute('#loss-curve polyline', 'points')) ?? '').trim().split(' ');
    assert.ok(points.length >= 2, `loss curve: ${points.length} points`);
    for (const p of points) assert.match(p, /^\d+(\.\d+)?,\d+(\.\d+)?$/);

    // the page now recommends with the trained model: Node's top-10 for the empty history
    const trained = await loadModel(nodeBytes);
    const expected = recommendTopK(trained.scorer, { items: [] }, 10).map((r) => trained.items.toRaw[r.item]);
    assert.deepEqual(await tab.$$eval('#top li button', (bs) => bs.map((b) => (b as HTMLElement).dataset.item)), expected);

    const [download] = await Promise.all([tab.waitForEvent('download'), tab.click('#train-download')]);
    assert.equal(download.suggestedFilename(), 'ring-sasrec.safetensors');
    assert.deepEqual(readFileSync(await download.path()), Buffer.from(nodeBytes));
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    server.close();
  }
});
