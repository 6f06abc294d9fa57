/**
 * seqrec's side of the training benchmark: full epochs of SASRec on a dataset, exactly the loop
 * `seqrec train` runs (sampler included), no evaluation. Prints per-epoch times and a RESULT_JSON line
 * shaped like the PyTorch reference's bench.py, so bench/run.ts can compare the two.
 *
 *   node --import tsx bench/train-seqrec.ts --dataset F --maxlen 50 --dropout 0.5 --epochs 3 [--max_steps N]
 *        [--kernels wasm|reference] [--packed true|false] [--seed 42] [--threads 1] [--user_sampling shuffle|cycle|uniform]
 *
 * --threads N: the wasm kernels on N threads (src/kernels/wasm/pool.ts, as `seqrec train --threads`);
 * default 1 here (the CLI's default is every core), so earlier figures stay comparable.
 */
import { loadDataset, leaveOneOut, TrainSampler, type UserSampling, type TrainBatch } from '../src/data/index.js';
import { Rng } from '../src/engine/rng.js';
import { getKernels } from '../src/kernels/index.js';
import type { WasmThreadPool } from '../src/kernels/wasm/pool.js';
import { startThreadPool } from '../src/kernels/wasm/pool-start.js';
import { SASRec } from '../src/models/sasrec/sasrec.js';
import { Adam } from '../src/optim/adam.js';
import { arg } from './args.js';
import { useWasmKernels } from '../src/kernels/wasm/install.js';
import { trainStep } from '../src/learn/step.js';

const dataset = arg('dataset', '');
if (!dataset) {
  console.error('usage: bench/train-seqrec.ts --dataset F [--maxlen 50] [--dropout 0.5] [--epochs 3]');
  process.exit(2);
}
const maxlen = Number(arg('maxlen', '200'));
const dropout = Number(arg('dropout', '0.2'));
const epochs = Number(arg('epochs', '3'));
const maxSteps = Number(arg('max_steps', '0'));
const kernels = arg('kernels', 'wasm');
const packed = arg('packed', 'true') !== 'false';
const userSampling = arg('user_sampling', 'shuffle') as UserSampling;
const seed = Number(arg('seed', '42'));

const threads = Number(arg('threads', '1'));
let pool: WasmThreadPool | null = null;
if (kernels === 'wasm') {
  const k = useWasmKernels();
  if (threads > 1) pool = await startThreadPool(k, threads);
}

const data = await loadDataset(dataset);
const split = leaveOneOut(data);
const rng = new Rng(seed);
const model = new SASRec(
  { itemNum: data.itemNum, maxlen, hiddenUnits: 50, numBlocks: 2, numHeads: 1, dropoutRate: dropout },
  { rng: rng.fork(), packed },
);
const adam = new Adam(model.namedParameters(), { lr: 0.001, betas: [0.9, 0.98], eps: 1e-8 });
const sampler = new TrainSampler(split, { batchSize: 128, maxlen, userSampling, rng: rng.fork() });
const steps = maxSteps > 0 ? Math.min(maxSteps, sampler.batchesPerEpoch) : sampler.batchesPerEpoch;

const epochSeconds: number[] = [];
const losses: number[] = [];
let batch: TrainBatch | undefined;
for (let epoch = 1; epoch <= epochs; epoch++) {
  const t0 = performance.now();
  let lossSum = 0;
  for (let s = 0; s < steps; s++) {
    batch = sampler.nextBatch(batch);
    lossSum += trainStep(model, adam, batch);
  }
  const dt = (performance.now() - t0) / 1000;
  epochSeconds.push(dt);
  losses.push(lossSum / steps);
  console.log(
    `epoch ${epoch}: train ${dt.toFixed(3)} s (${(steps / dt).toFixed(2)} steps/s, ${((1000 * dt) / steps).toFixed(1)} ms/step), mean loss ${(lossSum / steps).toFixed(4)}`,
  );
}
const steady = epochSeconds.length > 1 ? epochSeconds.slice(1) : epochSeconds;
const mean = steady.reduce((a, b) => a + b, 0) / steady.length;
console.log(
  'RESULT_JSON ' +
    JSON.stringify({
      kernels: getKernels().name,
      threads: pool === null ? 1 : threads,
      packed,
      steps_per_epoch: steps,
      epoch_train_s: epochSeconds.map((x) => Number(x.toFixed(3))),
      mean_loss: losses.map((x) => Number(x.toFixed(4))),
      mean_epoch_s_excl_first: Number(mean.toFixed(3)),
      ms_per_step: Number(((1000 * mean) / steps).toFixed(2)),
      peak_rss_mb_self: Number((process.resourceUsage().maxRSS / 1024).toFixed(1)),
    }),
);
await pool?.close();
