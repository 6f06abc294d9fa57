/**
 * mHC training-step cost: plain SASRec vs SASRec-mHC at expansion rates 2 and 4 (20 Sinkhorn
 * iterations), wasm kernels, packed path, the same pre-drawn batches for every model. All configurations
 * run in ONE process, interleaved per round, and the minimum step time over all rounds is reported
 * (the machine is shared; compare the ratios, not the absolute times, across runs).
 *
 *   node --experimental-wasm-relaxed-simd --import tsx bench/mhc-step.ts [--dataset games|ml-100k|all]
 *        [--maxlen 50] [--rates 2,4] [--steps N] [--rounds R] [--profile] [--cpu] [--kernels wasm|reference]
 *
 * --cpu: this process's CPU time instead of wall time (steadier when other work shares the cores).
 * --profile: instead of timing whole steps, wraps every kernel with a timer and prints, per model,
 * the median per-step milliseconds of each kernel and of the rest (JS glue, tape).
 *
 * Games ../shared/data/games/Video.txt, ML-100k ../shared/data/ml-100k/u.data; B=128, d=50, 2 blocks,
 * 1 head, dropout 0.5 (Games) / 0.2 (ML-100k).
 */
import { fileURLToPath } from 'node:url';
import { Tape, setTape } from '../src/engine/tape.js';
import { loadDataset, leaveOneOut, TrainSampler, type TrainBatch } from '../src/data/index.js';
import { referenceKernels, setKernels, type Kernels } from '../src/kernels/index.js';
import { createWasmKernelsSync } from '../src/kernels/wasm/index.js';
import { SASRec } from '../src/models/sasrec/sasrec.js';
import { Adam } from '../src/optim/adam.js';
import { arg } from './args.js';
import { trainStep } from '../src/learn/step.js';

const DATASETS = [
  { name: 'games', path: '../../shared/data/games/Video.txt', dropout: 0.5 },
  { name: 'ml-100k', path: '../../shared/data/ml-100k/u.data', dropout: 0.2 },
];
const datasetArg = arg('dataset', 'all');
const maxlen = Number(arg('maxlen', '50'));
const rates = arg('rates', '2,4').split(',').map(Number);
const steps = Number(arg('steps', '6'));
const rounds = Number(arg('rounds', '4'));
const profile = process.argv.includes('--profile');
const now = process.argv.includes('--cpu')
  ? () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    }
  : () => performance.now();
const kernels: Kernels = arg('kernels', 'wasm') === 'wasm' ? createWasmKernelsSync() : referenceKernels;

/** Per-kernel timers around `k` (reset by the caller per step). */
function timed(k: Kernels, acc: Map<string, number>): Kernels {
  const wrapped: Record<string, unknown> = { ...k };
  for (const [name, fn] of Object.entries(k)) {
    if (typeof fn !== 'function' || name === 'alloc') continue;
    const f = fn as (...a: unknown[]) => unknown;
    wrapped[name] = (...a: unknown[]) => {
      const t0 = now();
      const r = f.apply(k, a);
      acc.set(name, (acc.get(name) ?? 0) + now() - t0);
      return r;
    };
  }
  return wrapped as unknown as Kernels;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

interface Config {
  label: string;
  model: SASRec;
  adam: Adam;
  tape: Tape;
  times: number[];
  perKernel: Map<string, number[]>;
}

async function bench(spec: (typeof DATASETS)[number]): Promise<void> {
  const split = leaveOneOut(await loadDataset(fileURLToPath(new URL(spec.path, import.meta.url))));
  const sampler = new TrainSampler(split, { batchSize: 128, maxlen, seed: 1 });
  const batches: TrainBatch[] = Array.from({ length: 8 }, () => sampler.nextBatch());
  const acc = new Map<string, number>();
  setKernels(profile ? timed(kernels, acc) : kernels);
  const configs: Config[] = [0, ...rates].map((n) => {
    const model = new SASRec(
      {
        itemNum: split.data.itemNum,
        maxlen,
        hiddenUnits: 50,
        numBlocks: 2,
        numHeads: 1,
        dropoutRate: spec.dropout,
        ...(n > 0 ? { mhc: { expansionRate: n, sinkhornIter: 20, initGate: 0.01 } } : {}),
      },
      { seed: 42, packed: true },
    );
    const adam = new Adam(model.namedParameters(), { lr: 0.001, betas: [0.9, 0.98] });
    return { label: n > 0 ? `mHC n=${n}` : 'plain', model, adam, tape: new Tape(), times: [], perKernel: new Map() };
  });
  let bi = 0;
  for (let r = 0; r < rounds; r++) {
    for (const c of configs) {
      const prev = setTape(c.tape);
      try {
        for (let s = 0; s < (r === 0 ? 2 : 0) + steps; s++) {
          acc.clear();
          const t0 = now();
          const loss = trainStep(c.model, c.adam, batches[bi++ % batches.length]);
          const dt = now() - t0;
          if (!Number.isFinite(loss)) throw new Error(`${c.label}: loss ${loss}`);
          if (r === 0 && s < 2) continue;
          c.times.push(dt);
          let inKernels = 0;
          for (const [name, t] of acc) {
            inKernels += t;
            (c.perKernel.get(name) ?? c.perKernel.set(name, []).get(name)!).push(t);
          }
          (c.perKernel.get('(outside kernels)') ?? c.perKernel.set('(outside kernels)', []).get('(outside kernels)')!).push(dt - inKernels);
        }
      } finally {
        setTape(prev);
      }
    }
  }
  setKernels(referenceKernels);
  const plain = Math.min(...configs[0].times);
  console.log(
    `\n${spec.name}: B=128 L=${maxlen} d=50, 2 blocks, 1 head, ${kernels.name}, packed; min over ${configs[0].times.length} steps, one process, ${process.argv.includes('--cpu') ? 'CPU' : 'wall'} time`,
  );
  for (const c of configs) {
    const mn = Math.min(...c.times);
    console.log(
      `  ${c.label.padEnd(9)} min ${mn.toFixed(1).padStart(7)} ms  median ${median(c.times).toFixed(1).padStart(7)} ms  ${(mn / plain).toFixed(2)}× plain`,
    );
  }
  if (!profile) return;
  for (const c of configs) {
    console.log(`\n  ${c.label}: per-step median ms per kernel (timers add ~0.1 µs per call)`);
    const rows = [...c.perKernel.entries()].map(([n, ts]) => [n, median(ts)] as const).sort((a, b) => b[1] - a[1]);
    for (const [n, t] of rows.slice(0, 20)) console.log(`    ${n.padEnd(30)} ${t.toFixed(2).padStart(8)}`);
  }
}

for (const spec of DATASETS) if (datasetArg === 'all' || datasetArg === spec.name) await bench(spec);
