/**
 * Speed in the browser (issue 21): SASRec training steps and per-history top-10, headless Chromium vs
 * Node on the same machine, the same code (bench/browser-workload.ts) and the same wasm kernels
 * (relaxed SIMD on both: Node via its flag, Chromium natively), on one thread and on `--threads` (Node:
 * the worker_threads pool; Chromium: a cross-origin-isolated page's Web Worker pool; both with the
 * default split thresholds and measured choice). Prints all four and the ratios.
 *
 *   node --import tsx bench/browser.ts [--dataset ../shared/data/games/Video.txt] [--maxlen 50]
 *        [--steps 20] [--histories 50] [--reps 5] [--threads 2] [--json out.json]
 * Also `npm run bench -- --cases browser`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, resolve } from 'node:path';
import { loadavg } from 'node:os';
import { build } from 'esbuild';
import { launchBrowser } from '../test/helpers/browser.js';
import { ISOLATION_HEADERS } from '../test/helpers/page-server.js';
import { getKernels } from '../src/kernels/index.js';
import type { WasmKernels } from '../src/kernels/wasm/index.js';
import { useWasmKernels } from '../src/kernels/wasm/install.js';
import { startThreadPool } from '../src/kernels/wasm/pool-start.js';
import { arg } from './args.js';
import { runWorkload, type WorkloadResult } from './browser-workload.js';

const dataset = resolve(arg('dataset', resolve(import.meta.dirname, '../../shared/data/games/Video.txt')));
const options = { maxlen: Number(arg('maxlen', '50')), dropout_rate: Number(arg('dropout', '0.5')) };
const steps = Number(arg('steps', '20'));
const histories = Number(arg('histories', '50'));
const reps = Number(arg('reps', '5'));
const threads = Number(arg('threads', '2'));
const jsonOut = arg('json', '');
const text = readFileSync(dataset, 'utf8');
const name = basename(dataset);
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

console.log(`browser bench: ${name}, SASRec ${JSON.stringify(options)}, ${steps} steps, ${histories} histories × ${reps}; load ${load()}`);
useWasmKernels();
const node = await runWorkload(text, name, options, steps, histories, reps);
console.log(`node, 1 thread: ${JSON.stringify(node)}; load ${load()}`);
const pool = await startThreadPool(getKernels() as WasmKernels, threads);
const nodeT = await runWorkload(text, name, options, steps, histories, reps);
await pool.close();
console.log(`node, ${threads} threads: ${JSON.stringify(nodeT)}; load ${load()}`);

const entry = await build({
  stdin: {
    contents: `import { initKernels } from './src/browser/kernels.ts'; import { runWorkload } from './bench/browser-workload.ts';
      window.bench = async (threads, ...a) => { const k = await initKernels({ threads }); return { ...(await runWorkload(...a)), threads: k.threads }; };
      window.ready = true;`,
    resolveDir: resolve(import.meta.dirname, '..'),
    loader: 'ts',
  },
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  write: false,
});
const page = '<!doctype html><script type="module" src="/bench.js"></script>';
const server = createServer((req, res) => {
  const h = ISOLATION_HEADERS;
  if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html', ...h }).end(page);
  else if (req.url === '/bench.js') res.writeHead(200, { 'content-type': 'text/javascript', ...h }).end(entry.outputFiles[0].contents);
  else if (req.url === '/data') res.writeHead(200, { 'content-type': 'text/plain', ...h }).end(text);
  else res.writeHead(404).end();
});
await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
const inChromium: Record<number, WorkloadResult & { threads: number }> = {};
try {
  for (const t of [1, threads]) {
    const browser = await launchBrowser(); // one per run: a single-process Chromium ends with its last tab
    try {
      const tab = await browser.newPage();
      await tab.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      await tab.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
      inChromium[t] = await tab.evaluate(
        async ([t, n, o, s, h, r]) => {
          const data = await (await fetch('/data')).text();
          return (window as unknown as { bench(...a: unknown[]): Promise<WorkloadResult & { threads: number }> }).bench(t, data, n, o, s, h, r);
        },
        [t, name, options, steps, histories, reps] as [number, string, object, number, number, number],
      );
    } finally {
      await browser.close();
    }
    console.log(`chromium, ${inChromium[t].threads} thread(s): ${JSON.stringify(inChromium[t])}; load ${load()}`);
  }
} finally {
  server.close();
}
const chromium = inChromium[1];
const chromiumT = inChromium[threads];
if (chromiumT.threads !== threads) throw new Error(`Chromium ran on ${chromiumT.threads} threads, not ${threads}`);
const row = {
  dataset: name,
  kernels: `${node.kernels} | ${chromium.kernels}`,
  users: node.users,
  items: node.items,
  node_ms_per_step: Number(node.msPerStep.toFixed(2)),
  chromium_ms_per_step: Number(chromium.msPerStep.toFixed(2)),
  step_chromium_over_node: Number((chromium.msPerStep / node.msPerStep).toFixed(2)),
  node_ms_per_history: Number(node.msPerHistory.toFixed(3)),
  chromium_ms_per_history: Number(chromium.msPerHistory.toFixed(3)),
  history_chromium_over_node: Number((chromium.msPerHistory / node.msPerHistory).toFixed(2)),
  threads,
  [`node_ms_per_step_${threads}t`]: Number(nodeT.msPerStep.toFixed(2)),
  [`chromium_ms_per_step_${threads}t`]: Number(chromiumT.msPerStep.toFixed(2)),
  [`step_chromium_${threads}t_over_1t`]: Number((chromiumT.msPerStep / chromium.msPerStep).toFixed(2)),
  [`step_chromium_over_node_${threads}t`]: Number((chromiumT.msPerStep / nodeT.msPerStep).toFixed(2)),
  [`chromium_ms_per_history_${threads}t`]: Number(chromiumT.msPerHistory.toFixed(3)),
  load: load(),
};
console.table([row]);
console.log(`RESULT_JSON ${JSON.stringify(row)}`);
if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify(row, null, 2)}\n`);
