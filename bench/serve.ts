/**
 * Load test of `seqrec serve` (run by `npm run bench -- --cases serve`): a SASRec model (1 epoch on the
 * bundled Games data, or --serve_model FILE) served by the CLI in a child process on 127.0.0.1, driven by
 * autocannon with a mix of single and batch requests, without and with dynamic batching; each phase runs
 * --serve_seconds (default 60) and stops by itself. The floor is the in-process top-10 time of one history.
 *
 *   node --import tsx bench/serve.ts [--serve_seconds 60] [--serve_connections 16] [--serve_model F]
 */
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadDataset } from '../src/api/dataset.js';
import { loadModel, saveModel } from '../src/api/model-file.js';
import { train } from '../src/api/train.js';
import { recommendTopK } from '../src/eval/recommend.js';
import { arg } from './args.js';

const root = resolve(import.meta.dirname, '..');
const seconds = Number(arg('serve_seconds', '60'));
const connections = Number(arg('serve_connections', '16'));
const given = arg('serve_model', '');
const work = mkdtempSync(join(tmpdir(), 'seqrec-bench-serve-'));

const data = await loadDataset(join(root, 'data/games/Video.txt.gz'));
let modelPath = given;
if (!modelPath) {
  console.log('serve: training SASRec 1 epoch on Games (latency does not depend on training)');
  const m = await train(data, { model: 'sasrec', numEpochs: 1, evalEvery: 1000 });
  modelPath = join(work, 'sasrec.safetensors');
  await saveModel(m, modelPath);
  m.dispose();
}

// histories of real users (original ids), the last 50 items each
const histories: string[][] = [];
for (let u = 1; histories.length < 256 && u < data.seqs.length; u++) {
  const seq = Array.from(data.seqs[u] ?? [], (i) => data.items.toRaw[i]).slice(-50);
  if (seq.length >= 3) histories.push(seq);
}

// the floor: one history scored and ranked in-process
const model = await loadModel(modelPath);
const floorMs: number[] = [];
for (let r = 0; r < 300; r++) {
  const h = histories[r % histories.length].map((x) => model.items.toIndex.get(x)!);
  const t = performance.now();
  recommendTopK(model.scorer, { items: h }, 10);
  floorMs.push(performance.now() - t);
}
model.dispose();
floorMs.sort((a, b) => a - b);
const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

/** A free loopback port (the server gets it by flag, so that its log can stay at warn). */
function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => ok(port));
    });
  });
}

async function startServer(flags: readonly string[]): Promise<{ url: string; stop: () => Promise<number | null> }> {
  const port = await freePort();
  const args = [
    '--import',
    'tsx',
    join(root, 'src/cli/run.ts'),
    'serve',
    '--models',
    `sasrec=${modelPath}`,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
  ];
  const child = spawn(process.execPath, [...args, '--log_level', 'warn', ...flags], { stdio: ['ignore', 'inherit', 'inherit'], cwd: root });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`serve exited with code ${child.exitCode} before listening`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('serve did not start within 60 s');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const stop = (): Promise<number | null> => {
    child.kill('SIGTERM');
    return exited;
  };
  return { url, stop };
}

const single = (i: number) => JSON.stringify({ history: histories[i % histories.length], k: 10 });
const batchBody = (i: number) =>
  JSON.stringify({ requests: Array.from({ length: 8 }, (_, j) => ({ history: histories[(i + j) % histories.length], k: 10 })) });
// nine single-history requests for one batch request of 8 histories
const requests = Array.from({ length: 20 }, (_, i) => ({
  method: 'POST' as const,
  path: i % 10 === 9 ? '/v1/recommend/batch' : '/v1/recommend',
  headers: { 'content-type': 'application/json' },
  body: i % 10 === 9 ? batchBody(i) : single(i),
}));

const rows: Array<Record<string, unknown>> = [];
console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, node ${process.version}; load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
console.log(`serve: ${seconds} s per phase, ${connections} connections, 9 single : 1 batch-of-8 requests`);
for (const [label, flags] of [
  ['no batching (--max_batch 1)', ['--max_batch', '1']],
  ['dynamic batching (--max_batch 32 --max_wait_ms 2)', ['--max_batch', '32', '--max_wait_ms', '2']],
  ['dynamic batching, 2 workers (--workers 2)', ['--max_batch', '32', '--max_wait_ms', '2', '--workers', '2']],
] as const) {
  const server = await startServer(flags);
  // readyz answers once the first worker listens; the second loads its copy of the model meanwhile
  if ((flags as readonly string[]).includes('--workers')) await new Promise((r) => setTimeout(r, 5000));
  const result = await autocannon({ url: server.url, connections, duration: seconds, requests });
  const code = await server.stop();
  rows.push({
    case: label,
    'requests/s': Math.round(result.requests.average),
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    exit: code,
    floor_p50_ms: Number(pct(floorMs, 50).toFixed(3)),
    floor_p99_ms: Number(pct(floorMs, 99).toFixed(3)),
  });
  console.log(JSON.stringify(rows[rows.length - 1]));
}
console.table(rows);
rmSync(work, { recursive: true, force: true });
