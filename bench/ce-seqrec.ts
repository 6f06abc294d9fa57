/**
 * seqrec's side of the full-softmax (CE) training-step benchmark: SASRec (d 50, 2 blocks, 1 head,
 * batch 128, the reference's sampler) trained with --loss ce for --steps steps after --warmup, and the
 * floor the step cannot beat: the three [positions × d]·[d × items]-sized GEMMs of the loss (logits,
 * their gradient into the features, into the item embedding) at the batches' mean number of real
 * positions, timed alone on the same kernels and threads. Prints a RESULT_JSON line.
 *
 *   node --import tsx bench/ce-seqrec.ts --dataset F --maxlen 50 [--dropout 0.5] [--steps 30] [--warmup 5] [--threads 1]
 */
import { leaveOneOut, loadDataset, TrainSampler } from '../src/data/index.js';
import { getTape } from '../src/engine/tape.js';
import { Rng } from '../src/engine/rng.js';
import { getKernels } from '../src/kernels/index.js';
import { useWasmKernels } from '../src/kernels/wasm/install.js';
import { startKernelThreads } from '../src/kernels/wasm/pool-start.js';
import { lossFor, lossOptions } from '../src/losses/index.js';
import { SASRec } from '../src/models/sasrec/sasrec.js';
import { Adam } from '../src/optim/adam.js';
import { trainStep } from '../src/learn/step.js';
import { arg } from './args.js';

const dataset = arg('dataset', '');
const maxlen = Number(arg('maxlen', '50'));
const dropout = Number(arg('dropout', '0.5'));
const steps = Number(arg('steps', '30'));
const warmup = Number(arg('warmup', '5'));
const threads = Number(arg('threads', '1'));
if (!dataset) throw new Error('--dataset is required');

useWasmKernels();
const pool = await startKernelThreads(getKernels(), threads);
const split = leaveOneOut(await loadDataset(dataset), 3);
const N = split.data.itemNum;
const d = 50;
const model = new SASRec(
  { itemNum: N, maxlen, hiddenUnits: d, numBlocks: 2, numHeads: 1, dropoutRate: dropout },
  { seed: 1, loss: lossFor(lossOptions.parse({ loss: 'ce' }), N) },
);
const adam = new Adam(model.namedParameters(), { lr: 0.001, betas: [0.9, 0.98], eps: 1e-8 });
const sampler = new TrainSampler(split, { batchSize: 128, maxlen, rng: new Rng(2), negatives: 0 });
let positions = 0;
const times: number[] = [];
for (let s = 0; s < warmup + steps; s++) {
  const batch = sampler.nextBatch();
  const t0 = performance.now();
  trainStep(model, adam, batch);
  const ms = performance.now() - t0;
  if (s >= warmup) {
    times.push(ms);
    for (const p of batch.pos) if (p !== 0) positions++;
  }
}
const M = Math.round(positions / steps);

// the floor: the loss's three GEMMs at M rows, on the same kernels
const k = getKernels();
const F = k.alloc(M * d);
const W = k.alloc((N + 1) * d);
const G = k.alloc(M * N);
const dF = k.alloc(M * d);
const dW = k.alloc((N + 1) * d);
const rng = new Rng(3);
for (const a of [F, W, G]) for (let i = 0; i < a.length; i++) a[i] = rng.nextFloat() - 0.5;
const floors: number[] = [];
for (let r = 0; r < 7; r++) {
  const t0 = performance.now();
  k.gemm(false, true, M, N, d, 1, F, 0, d, W, d, d, 0, G, 0, N);
  k.gemm(false, false, M, d, N, 1, G, 0, N, W, d, d, 1, dF, 0, d);
  k.gemm(true, false, N, d, M, 1, G, 0, N, F, 0, d, 1, dW, d, d);
  floors.push(performance.now() - t0);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const step = median(times);
const floor = median(floors.slice(2));
getTape().clearPool();
await pool?.close();
const result = {
  kernels: k.name,
  threads,
  items: N,
  mean_real_positions: M,
  ms_per_step_median: Math.round(step * 10) / 10,
  gemm_floor_ms: Math.round(floor * 10) / 10,
  step_over_floor: Math.round((step / floor) * 100) / 100,
};
console.log(
  `seqrec CE step: ${result.ms_per_step_median} ms (median of ${steps}); floor (3 GEMMs at ${M} positions × ${N} items × d ${d}): ${result.gemm_floor_ms} ms; ratio ${result.step_over_floor}`,
);
console.log(`RESULT_JSON ${JSON.stringify(result)}`);
