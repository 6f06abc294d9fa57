import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inTab } from './helpers/browser.js';
import { bundleForBrowser, type PageFile, servePage } from './helpers/page-server.js';
import { runCli } from './helpers/cli.js';
import { writeRingDataset } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';
import { loadModel } from '../src/api/model-file.js';
import { recommendTopK } from '../src/eval/recommend.js';

const dir = testTempDir('seqrec-browser-');

test('a model file recommends the same top-10 (ids and scores) in Chromium as in Node, with no console errors', async () => {
  const ring = writeRingDataset(join(dir, 'ring.txt'), { users: 40 });
  const trainDir = join(dir, 'run');
  const r = await runCli([
    'train',
    '--model',
    'sasrec',
    '--dataset',
    ring,
    '--train_dir',
    trainDir,
    '--num_epochs',
    '2',
    '--batch_size',
    '16',
    '--hidden_units',
    '16',
    '--maxlen',
    '10',
    '--threads',
    '1',
    '--seed',
    '3',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const bytes = readFileSync(join(trainDir, 'sasrec.safetensors'));

  const model = await loadModel(new Uint8Array(bytes));
  const ids = model.items.toRaw;
  const histories = [[ids[1]], [ids[3], ids[4], ids[5]], ids.slice(10, 22), [ids[30], ids[2]], []];
  const inNode = histories.map((h) =>
    recommendTopK(model.scorer, { items: h.map((id) => model.items.toIndex.get(id) as number) }, 10).map((x) => ({
      item: model.items.toRaw[x.item],
      score: x.score,
    })),
  );

  const bundle = await bundleForBrowser('src/browser/index.ts');
  const page = `<!doctype html><script type="module">
    import { loadModel, recommend, initKernels } from '/seqrec.js';
    window.run = async (histories) => {
      const bytes = new Uint8Array(await (await fetch('/model.safetensors')).arrayBuffer());
      const model = await loadModel(bytes);
      return { kernels: await initKernels(), lists: histories.map((h) => recommend(model, h, 10)) };
    };
    window.ready = true;
  </script>`;
  const { server, url } = await servePage(
    new Map<string, PageFile>([
      ['/', [page, 'text/html']],
      ['/seqrec.js', [bundle, 'text/javascript']],
      ['/model.safetensors', [bytes, 'application/octet-stream']],
    ]),
  );
  try {
    const { result: got, errors } = await inTab(url, (tab) =>
      tab.evaluate(
        (h) =>
          (
            window as unknown as {
              run(h: string[][]): Promise<{ kernels: { name: string; threads: number }; lists: { item: string; score: number }[][] }>;
            }
          ).run(h),
        histories,
      ),
    );
    assert.match(got.kernels.name, /^wasm/);
    assert.equal(got.kernels.threads, 1, 'a page without the isolation headers runs on one thread');
    assert.equal(got.lists.length, histories.length);
    for (let i = 0; i < histories.length; i++) {
      assert.equal(got.lists[i].length, 10);
      assert.deepEqual(
        got.lists[i].map((x) => x.item),
        inNode[i].map((x) => x.item),
        `history ${i}`,
      );
      for (let j = 0; j < 10; j++) assert.ok(Math.abs(got.lists[i][j].score - inNode[i][j].score) <= 1e-5, `history ${i} rank ${j}`);
    }
    assert.deepEqual(errors, []);
  } finally {
    server.close();
  }
});
