/**
 * The browser's thread pool: on a cross-origin-isolated page (COOP/COEP headers) the kernels run on
 * Web Workers sharing the wasm memory, with the same results as Node on one thread; a page that is
 * not isolated runs on one thread and refuses more. Every call is forced to split (size floors 0,
 * no measured choice), so the split paths are what is checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { inTab } from './helpers/browser.js';
import { trainSasrecInNode } from './helpers/node-train.js';
import { writeRingDataset } from './helpers/datasets.js';
import { bundleForBrowser, ISOLATION_HEADERS, type PageFile, servePage } from './helpers/page-server.js';
import { testTempDir } from './helpers/tmp.js';
import { loadModel } from '../src/api/model-file.js';
import { recommendTopK } from '../src/eval/recommend.js';

const dir = testTempDir('seqrec-bthreads-');
const SPLIT_ALL = { gemmMinFlops: 0, attnMinWork: 0, rangeMinElems: 0, adaptive: false, timeoutMs: 60_000 };

interface Info {
  name: string;
  threads: number;
  splits: { gemm: number; attnForward: number; attnBackward: number; range: number };
}

const page = `<!doctype html><script type="module">
  import * as seqrec from '/seqrec.js';
  window.seqrec = seqrec;
  window.ready = true;
</script>`;

async function files(extra: [string, PageFile][] = []): Promise<Map<string, PageFile>> {
  return new Map<string, PageFile>([
    ['/', [page, 'text/html']],
    ['/seqrec.js', [await bundleForBrowser('src/browser/index.ts'), 'text/javascript']],
    ['/train-worker.js', [await bundleForBrowser('src/browser/train-worker.ts'), 'text/javascript']],
    ...extra,
  ]);
}

test('an isolated page recommends on 2 threads (every call split) the same top-10 as Node on one', { timeout: 180_000 }, async () => {
  const bytes = readFileSync('demo/games-sasrec.safetensors');
  const model = await loadModel(new Uint8Array(bytes));
  const ids = model.items.toRaw;
  const histories = [[ids[1]], ids.slice(100, 103), ids.slice(2000, 2050), []];
  const inNode = histories.map((h) =>
    recommendTopK(model.scorer, { items: h.map((id) => model.items.toIndex.get(id) as number) }, 10).map((x) => ({
      item: ids[x.item],
      score: x.score,
    })),
  );
  const { server, url } = await servePage(await files([['/model.safetensors', [bytes, 'application/octet-stream']]]), ISOLATION_HEADERS);
  try {
    const { result, errors } = await inTab(url, (tab) =>
      tab.evaluate(
        async ([histories, pool]) => {
          const s = (window as unknown as { seqrec: Record<string, (...a: unknown[]) => unknown> }).seqrec;
          const isolated = (globalThis as unknown as { crossOriginIsolated: boolean }).crossOriginIsolated;
          await s.initKernels({ threads: 2, pool });
          const m = await s.loadModel(new Uint8Array(await (await fetch('/model.safetensors')).arrayBuffer()));
          const lists = histories.map((h) => s.recommend(m, h, 10));
          return { isolated, lists, info: (await s.initKernels()) as Info };
        },
        [histories, SPLIT_ALL] as const,
      ),
    );
    assert.deepEqual(errors, []);
    assert.equal(result.isolated, true);
    assert.equal(result.info.threads, 2);
    assert.match(result.info.name, /^wasm/);
    assert.ok(result.info.splits.gemm > 0, `calls split across the threads: ${JSON.stringify(result.info.splits)}`);
    const lists = result.lists as { item: string; score: number }[][];
    for (let i = 0; i < histories.length; i++) {
      assert.deepEqual(
        lists[i].map((x) => x.item),
        inNode[i].map((x) => x.item),
        `history ${i}`,
      );
      for (let j = 0; j < 10; j++) assert.ok(Math.abs(lists[i][j].score - inNode[i][j].score) <= 1e-5, `history ${i} rank ${j}`);
    }
  } finally {
    server.close();
  }
});

test('the default: the page’s cores (at most 4) when isolated, one thread when not; more than one refused when not isolated', {
  timeout: 180_000,
}, async () => {
  const isolated = await servePage(await files(), ISOLATION_HEADERS);
  const plain = await servePage(await files());
  const probe = (tab: Page) =>
    tab.evaluate(async () => {
      const s = (window as unknown as { seqrec: Record<string, (...a: unknown[]) => Promise<unknown>> }).seqrec;
      let refused = 'no error';
      if (!(globalThis as unknown as { crossOriginIsolated: boolean }).crossOriginIsolated) {
        refused = await s.initKernels({ threads: 2 }).then(
          () => 'no error',
          (e: Error) => `${e.name}: ${e.message}`,
        );
      }
      return { info: (await s.initKernels()) as Info, cores: navigator.hardwareConcurrency, refused };
    });
  try {
    const onIsolated = await inTab(isolated.url, probe);
    assert.deepEqual(onIsolated.errors, []);
    assert.equal(onIsolated.result.info.threads, Math.max(1, Math.min(4, onIsolated.result.cores)));
    const onPlain = await inTab(plain.url, probe);
    assert.deepEqual(onPlain.errors, []);
    assert.equal(onPlain.result.info.threads, 1);
    assert.match(
      onPlain.result.refused,
      /^UserError: threads 2: the page is not cross-origin isolated \(serve it with the headers Cross-Origin-Opener-Policy/,
    );
  } finally {
    isolated.server.close();
    plain.server.close();
  }
});

test('training in a Web Worker on 2 threads (every call split) gives Node’s one-thread losses and model file, bit for bit', {
  timeout: 300_000,
}, async () => {
  const ring = writeRingDataset(join(dir, 'ring.txt'), { users: 40 });
  const trainDir = join(dir, 'run');
  const flags = { hidden_units: 16, maxlen: 10, batch_size: 16, num_epochs: 2, eval_every: 1, seed: 5 };
  const { log, bytes: nodeBytes } = await trainSasrecInNode(ring, trainDir, flags);
  const nodeLosses = log.map((e) => e.loss);

  const { server, url } = await servePage(await files(), ISOLATION_HEADERS);
  try {
    const { result, errors } = await inTab(url, (tab) =>
      tab.evaluate(
        async ([text, options]) => {
          const s = (
            window as unknown as {
              seqrec: Record<string, (...a: unknown[]) => Promise<{ epochs: { loss: number }[]; bytes: Uint8Array; kernels: Info }>>;
            }
          ).seqrec;
          const out = await s.trainInWorker(text, 'ring.txt', options, undefined, '/train-worker.js');
          return { losses: out.epochs.map((e) => e.loss), bytes: Array.from(out.bytes), kernels: out.kernels };
        },
        [readFileSync(ring, 'utf8'), { ...flags, kernels: { threads: 2, pool: SPLIT_ALL } }] as const,
      ),
    );
    assert.deepEqual(errors, []);
    assert.equal(result.kernels.threads, 2);
    const { gemm, attnForward, attnBackward, range } = result.kernels.splits;
    assert.ok(
      gemm > 0 && attnForward > 0 && attnBackward > 0 && range > 0,
      `calls split across the threads: ${JSON.stringify(result.kernels.splits)}`,
    );
    assert.deepEqual(result.losses, nodeLosses);
    assert.deepEqual(Buffer.from(Uint8Array.from(result.bytes)), nodeBytes);
  } finally {
    server.close();
  }
});
