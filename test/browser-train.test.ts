import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inTab } from './helpers/browser.js';
import { trainSasrecInNode } from './helpers/node-train.js';
import { bundleForBrowser, type PageFile, servePage } from './helpers/page-server.js';
import { writeRingDataset } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';
import { loadModel } from '../src/api/model-file.js';
import { recommendTopK } from '../src/eval/recommend.js';

const dir = testTempDir('seqrec-btrain-');

interface BrowserRun {
  epochs: { epoch: number; loss: number; valid?: Record<string, number> }[];
  bytes: number[];
  progress: { epoch: number; step: number; loss: number; epochDone: boolean; validNdcg?: number }[];
}

test('SASRec trained in a Chromium Web Worker: the same losses as `seqrec train` in Node, and a model file Node loads and scores the same', async () => {
  const ring = writeRingDataset(join(dir, 'ring.txt'), { users: 40 });
  const trainDir = join(dir, 'run');
  const flags = { hidden_units: 16, maxlen: 10, batch_size: 16, num_epochs: 3, eval_every: 1, seed: 3 };
  const { log: nodeLog, bytes: nodeBytes } = await trainSasrecInNode(ring, trainDir, flags);

  const page = `<!doctype html><script type="module">
    import { trainInWorker } from '/seqrec.js';
    window.run = async (text, options) => {
      const progress = [];
      const result = await trainInWorker(text, 'ring.txt', options, (p) => progress.push(p), '/train-worker.js');
      return { epochs: result.epochs, bytes: Array.from(result.bytes), progress };
    };
    window.fail = async (text, options) => {
      try {
        await trainInWorker(text, 'bad.txt', options, undefined, '/train-worker.js');
        return 'no error';
      } catch (e) {
        return e.name + ': ' + e.message;
      }
    };
    window.ready = true;
  </script>`;
  const { server, url } = await servePage(
    new Map<string, PageFile>([
      ['/', [page, 'text/html']],
      ['/seqrec.js', [await bundleForBrowser('src/browser/index.ts'), 'text/javascript']],
      ['/train-worker.js', [await bundleForBrowser('src/browser/train-worker.ts'), 'text/javascript']],
    ]),
  );
  let got: BrowserRun;
  let errors: string[];
  try {
    ({ result: got, errors } = await inTab(url, (tab) =>
      tab.evaluate(([text, options]) => (window as unknown as { run(t: string, o: object): Promise<BrowserRun> }).run(text, options), [
        readFileSync(ring, 'utf8'),
        flags,
      ] as [string, object]),
    ));
  } finally {
    server.close();
  }
  assert.deepEqual(errors, []);

  // the same losses and valid metrics, epoch by epoch: bit for bit
  assert.equal(got.epochs.length, 3);
  assert.deepEqual(
    got.epochs.map((e) => e.loss),
    nodeLog.map((e) => e.loss),
  );
  assert.deepEqual(
    got.epochs.map((e) => e.valid),
    nodeLog.map((e) => e.valid),
  );
  // progress: within-epoch reports, then one per epoch with valid NDCG@10
  const done = got.progress.filter((p) => p.epochDone);
  assert.deepEqual(
    done.map((p) => [p.epoch, p.loss, p.validNdcg]),
    nodeLog.map((e) => [e.epoch, e.loss, e.valid['NDCG@10']]),
  );
  assert.ok(got.progress.some((p) => !p.epochDone && p.step > 0 && Number.isFinite(p.loss)));

  // the browser's model file is Node's, byte for byte, and loads and scores in Node
  const browserBytes = Uint8Array.from(got.bytes);
  assert.deepEqual(Buffer.from(browserBytes), nodeBytes);
  const fromBrowser = await loadModel(browserBytes);
  const fromNode = await loadModel(new Uint8Array(nodeBytes));
  const ids = fromNode.items.toRaw;
  for (const h of [[ids[1]], [ids[3], ids[4], ids[5]], ids.slice(10, 20)]) {
    const items = h.map((id) => fromNode.items.toIndex.get(id) as number);
    assert.deepEqual(recommendTopK(fromBrowser.scorer, { items }, 10), recommendTopK(fromNode.scorer, { items }, 10));
  }
});
