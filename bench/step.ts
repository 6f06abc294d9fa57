/**
 * SASRec training-step benchmark: median time of one trainStep (forward + backward + Adam), dense
 * path vs packed (padding-skip) path, with the reference (plain TS) kernels and, when it loads, the
 * WebAssembly backend. Real data and the reference sampler's batches:
 *
 *   Games   ../shared/data/games/Video.txt   B=128 L=50  d=50, 2 blocks, 1 head, dropout 0.5
 *   ML-100k ../shared/data/ml-100k/u.data    B=128 L=200 d=50, 2 blocks, 1 head, dropout 0.2
 *
 *   node --import tsx bench/step.ts [--dataset games|ml-100k|all] [--kernels reference|wasm|all]
 *        [--paths dense,packed] [--steps N] [--rounds R] [--warmup W] [--json]
 *        [--threads 1,2] [--gemm_min_flops F] [--attn_min_work W] [--range_min_elems E] [--adaptive 0|1]
 *
 * Batches are drawn beforehand (sampling is not timed); each configuration has its own model, Adam
 * and tape; rounds interleave the configurations (the machine is shared with other work, so each
 * round re-measures every configuration, and the median over all timed steps is reported).
 * --threads: each listed thread count is a configuration of the wasm backend (one pool of the
 * largest count, attached or detached per configuration; 1 = no pool); the thresholds override
 * the pool's (src/kernels/wasm/pool.ts) to measure where splitting pays. Default: one thread.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Tape, setTape } from '../src/engine/tape.js';
import { loadDataset, leaveOneOut, TrainSampler, type TrainBatch } from '../src/data/index.js';
import { referenceKernels, setKernels, type Kernels } from '../src/kernels/index.js';
import { SASRec } from '../src/models/sasrec/sasrec.js';
import { Adam } from '../src/optim/adam.js';
import type { WasmKernels } from '../src/kernels/wasm/index.js';
import { RANGE_KERNELS } from '../src/kernels/wasm/parallel.js';
import type { ThreadPoolOptions, WasmThreadPool } from '../src/kernels/wasm/pool.js';
import { startThreadPool } from '../src/kernels/wasm/pool-start.js';
import { arg } from './args.js';
import { trainStep } from '../src/learn/step.js';

interface DatasetSpec {
  name: string;
  path: string;
  maxlen: number;
  dropout: number;
}

const DATASETS: DatasetSpec[] = [
  { name: 'games', path: '../../shared/data/games/Video.txt', maxlen: 50, dropout: 0.5 },
  { name: 'ml-100k', path: '../../shared/data/ml-100k/u.data', maxlen: 200, dropout: 0.2 },
];

const datasetArg = arg('dataset', 'all');
const kernelsArg = arg('kernels', 'all');
const paths = arg('paths', 'dense,packed').split(',') as Array<'dense' | 'packed'>;
const stepsArg = arg('steps', '');
const rounds = Number(arg('rounds', '3'));
const warmup = Number(arg('warmup', '2'));
const json = process.argv.includes('--json');
const threadCounts = arg('threads', '1').split(',').map(Number);
const poolOptions: ThreadPoolOptions = {};
if (arg('gemm_min_flops', '') !== '') poolOptions.gemmMinFlops = Number(arg('gemm_min_flops', ''));
if (arg('attn_min_work', '') !== '') poolOptions.attnMinWork = Number(arg('attn_min_work', ''));
if (arg('range_min_elems', '') !== '') poolOptions.rangeMinElems = Number(arg('range_min_elems', ''));
if (arg('adaptive', '') !== '') poolOptions.adaptive = arg('adaptive', '') !== '0';
let pool: WasmThreadPool | null = null;

async function backends(): Promise<Array<{ name: string; k: Kernels }>> {
  const out: Array<{ name: string; k: Kernels }> = [];
  if (kernelsArg === 'all' || kernelsArg === 'reference') out.push({ name: 'reference', k: referenceKernels });
  if (kernelsArg === 'all' || kernelsArg === 'wasm') {
    try {
      const wasm = await import('../src/kernels/wasm/index.js');
      const k = wasm.createWasmKernelsSync();
      const maxThreads = Math.max(...threadCounts);
      if (maxThreads > 1) {
        pool = await startThreadPool(k, maxThreads, poolOptions);
        k.parallel.runner = null;
      }
      out.push({ name: k.name, k });
    } catch (e) {
      console.error(`wasm kernels unavailable: ${(e as Error).message}`);
    }
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface Config {
  kernels: string;
  path: 'dense' | 'packed';
  threads: number;
  k: Kernels;
  model: SASRec;
  adam: Adam;
  tape: Tape;
  times: number[];
}

async function benchDataset(spec: DatasetSpec, bks: Array<{ name: string; k: Kernels }>) {
  const file = fileURLToPath(new URL(spec.path, import.meta.url));
  if (!existsSync(file)) throw new Error(`${file} not found`);
  const split = leaveOneOut(await loadDataset(file));
  const B = 128;
  const sampler = new TrainSampler(split, { batchSize: B, maxlen: spec.maxlen, seed: 1 });
  const nBatches = 8;
  const batches: TrainBatch[] = Array.from({ length: nBatches }, () => sampler.nextBatch());
  let real = 0;
  for (const b of batches) for (const x of b.seqs) if (x !== 0) real++;
  const realFrac = real / (nBatches * B * spec.maxlen);
  const defaultSteps = spec.maxlen >= 200 ? 3 : 8;
  const steps = stepsArg ? Number(stepsArg) : defaultSteps;

  const configs: Config[] = [];
  for (const { name, k } of bks) {
    for (const path of paths)
      for (const threads of name === 'reference' ? [1] : threadCounts) {
        setKernels(k);
        const tape = new Tape();
        const model = new SASRec(
          { itemNum: split.data.itemNum, maxlen: spec.maxlen, hiddenUnits: 50, numBlocks: 2, numHeads: 1, dropoutRate: spec.dropout },
          { seed: 42, packed: path === 'packed' },
        );
        const adam = new Adam(model.namedParameters(), { lr: 0.001, betas: [0.9, 0.98] });
        configs.push({ kernels: threads > 1 ? `${name} ${threads}T` : name, path, threads, k, model, adam, tape, times: [] });
      }
  }
  let bi = 0;
  for (let r = 0; r < rounds; r++) {
    for (const c of configs) {
      setKernels(c.k);
      if (pool !== null && 'parallel' in c.k) (c.k as WasmKernels).parallel.runner = c.threads > 1 ? pool : null;
      const prev = setTape(c.tape);
      try {
        for (let s = 0; s < (r === 0 ? warmup : 1) + steps; s++) {
          const batch = batches[bi++ % nBatches];
          const t0 = performance.now();
          const loss = trainStep(c.model, c.adam, batch);
          const dt = performance.now() - t0;
          if (!Number.isFinite(loss)) throw new Error(`${spec.name} ${c.kernels} ${c.path}: loss ${loss}`);
          if (s >= (r === 0 ? warmup : 1)) c.times.push(dt);
        }
      } finally {
        setTape(prev);
      }
    }
  }
  setKernels(referenceKernels);
  return {
    dataset: spec.name,
    maxlen: spec.maxlen,
    dropout: spec.dropout,
    users: split.data.userNum,
    items: split.data.itemNum,
    realFraction: realFrac,
    results: configs.map((c) => ({
      kernels: c.kernels,
      path: c.path,
      steps: c.times.length,
      medianMs: median(c.times),
      minMs: Math.min(...c.times),
    })),
  };
}

const bks = await backends();
const all = [];
for (const spec of DATASETS) {
  if (datasetArg !== 'all' && datasetArg !== spec.name) continue;
  const res = await benchDataset(spec, bks);
  all.push(res);
  if (!json) {
    console.log(
      `\n${res.dataset}: B=128 L=${res.maxlen} d=50, 2 blocks, 1 head, dropout ${res.dropout}; ${res.items} items; ` +
        `real tokens ${(100 * res.realFraction).toFixed(1)}% of the batch`,
    );
    console.log('kernels            path     steps  median ms    min ms   vs dense');
    for (const r of res.results) {
      const dense = res.results.find((x) => x.kernels === r.kernels && x.path === 'dense');
      const ratio = dense ? `${(dense.medianMs / r.medianMs).toFixed(2)}×` : '';
      console.log(
        `${r.kernels.padEnd(18)} ${r.path.padEnd(8)} ${String(r.steps).padStart(5)} ${r.medianMs.toFixed(1).padStart(10)} ${r.minMs.toFixed(1).padStart(9)} ${ratio.padStart(10)}`,
      );
    }
  }
}
if (json) console.log(JSON.stringify(all));
if (pool !== null && !json) {
  const p = pool as WasmThreadPool;
  console.log(`\nthread pool: calls split ${JSON.stringify(p.splits)}; tuner (class = kernel·64 + log2 work, calls, ns/unit 1T, 2T):`);
  for (const [key, calls, one, two] of p.tuner.summary()) {
    const kernel = key >> 6;
    const name = kernel < 3 ? ['gemm', 'attn fwd', 'attn bwd'][kernel] : RANGE_KERNELS[kernel - 3][0];
    console.log(`  ${name} 2^${key & 63}: ${calls} calls, ${(one * 1e6).toFixed(4)} / ${(two * 1e6).toFixed(4)}`);
  }
}
await (pool as WasmThreadPool | null)?.close();
