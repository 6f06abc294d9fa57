/**
 * Where a SASRec training step's time goes, per kernel: wraps every function of the active kernel
 * backend with a timer, runs packed trainSteps on real batches (as bench/step.ts) and prints the
 * median and min per-step milliseconds of each kernel (and the rest: JS glue, tape, sampling excluded).
 *
 *   node --experimental-wasm-relaxed-simd --import tsx bench/kernel-profile.ts [--dataset games|ml-100k]
 *        [--kernels wasm|reference] [--steps N] [--warmup W] [--cpu] [--loss bce|ce|sampled_softmax|gbce|…]
 *
 * Timers cost ~0.1 µs per call; the machine is shared, so medians over steps are reported.
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
import { lossFor, lossOptions } from '../src/losses/index.js';

const dataset = arg('dataset', 'games');
const spec =
  dataset === 'games'
    ? { path: '../../shared/data/games/Video.txt', maxlen: 50, dropout: 0.5, steps: 30 }
    : { path: '../../shared/data/ml-100k/u.data', maxlen: 200, dropout: 0.2, steps: 8 };
const steps = Number(arg('steps', String(spec.steps)));
const warmup = Number(arg('warmup', '3'));
const base: Kernels = arg('kernels', 'wasm') === 'wasm' ? createWasmKernelsSync() : referenceKernels;

// --cpu: this process's CPU time instead of wall time (steadier when other work shares the cores;
// a syscall per reading, ~µs resolution)
const useCpu = process.argv.includes('--cpu');
const now = useCpu
  ? () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    }
  : () => performance.now();
const acc = new Map<string, number>();
const calls = new Map<string, number>();
const wrapped: Record<string, unknown> = { ...base };
for (const [name, fn] of Object.entries(base)) {
  if (typeof fn !== 'function' || name === 'alloc') continue;
  const f = fn as (...a: unknown[]) => unknown;
  wrapped[name] = (...a: unknown[]) => {
    const t0 = now();
    const r = f(...a);
    acc.set(name, (acc.get(name) ?? 0) + now() - t0);
    calls.set(name, (calls.get(name) ?? 0) + 1);
    return r;
  };
}
const k = wrapped as unknown as Kernels;
setKernels(k);

const split = leaveOneOut(await loadDataset(fileURLToPath(new URL(spec.path, import.meta.url))));
const loss = lossFor(lossOptions.parse({ loss: arg('loss', 'bce') }), split.data.itemNum);
const sampler = new TrainSampler(split, {
  batchSize: 128,
  maxlen: spec.maxlen,
  seed: 1,
  negatives: loss.negatives,
  sharedNegatives: loss.sharedNegatives,
});
const batches: TrainBatch[] = Array.from({ length: 8 }, () => sampler.nextBatch());
const model = new SASRec(
  { itemNum: split.data.itemNum, maxlen: spec.maxlen, hiddenUnits: 50, numBlocks: 2, numHeads: 1, dropoutRate: spec.dropout },
  { seed: 42, packed: true, loss },
);
const adam = new Adam(model.namedParameters(), { lr: 0.001, betas: [0.9, 0.98] });
const tape = new Tape();
setTape(tape);

const per = new Map<string, number[]>();
const totals: number[] = [];
for (let s = 0; s < warmup + steps; s++) {
  acc.clear();
  calls.clear();
  const t0 = now();
  trainStep(model, adam, batches[s % batches.length]);
  const dt = now() - t0;
  if (s < warmup) continue;
  totals.push(dt);
  let inKernels = 0;
  for (const [name, t] of acc) {
    inKernels += t;
    (per.get(name) ?? per.set(name, []).get(name)!).push(t);
  }
  (per.get('(outside kernels)') ?? per.set('(outside kernels)', []).get('(outside kernels)')!).push(dt - inKernels);
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const lastCalls = new Map(calls);
console.log(
  `${dataset}, --loss ${loss.name} (${base.name}, ${useCpu ? 'CPU' : 'wall'} time): step median ${median(totals).toFixed(1)} ms, min ${Math.min(...totals).toFixed(1)} ms over ${steps} steps`,
);
const rows = [...per.entries()].map(([n, ts]) => [n, median(ts), Math.min(...ts)] as const).sort((a, b) => b[1] - a[1]);
console.log(`  ${'kernel'.padEnd(34)} ${'median'.padStart(8)}    ${'min'.padStart(8)}`);
for (const [n, t, mn] of rows) {
  console.log(`  ${n.padEnd(34)} ${t.toFixed(2).padStart(8)} ms ${mn.toFixed(2).padStart(8)} ms ${String(lastCalls.get(n) ?? '').padStart(5)} calls`);
}
