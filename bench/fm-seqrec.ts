/**
 * seqrec's side of the FM benchmark: full epochs of `--model fm` on ML-100k with its user and item
 * files (5-core, leave-one-out, maxlen 200, d 50, batch 128 users, one sampled negative per position,
 * Adam), the loop `seqrec train` runs, no evaluation. Writes the training sequences and the feature rows
 * to --export (JSON) so bench/reference-fm.py trains a PyTorch FM of the same sizes on the same data.
 *
 *   node --import tsx bench/fm-seqrec.ts --data_dir ../shared/data/ml-100k [--epochs 3] [--export F]
 *        [--d 50] [--l2_reg 0.01] [--lr 0.01] [--seed 42] [--threads 1]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TrainBatch, TrainSampler } from '../src/data/index.js';
import { loadSplit } from '../src/data/options.js';
import { Rng } from '../src/engine/rng.js';
import { useWasmKernels } from '../src/kernels/wasm/install.js';
import { startThreadPool } from '../src/kernels/wasm/pool-start.js';
import { type FeatureRows, modelFeatures } from '../src/models/common/feature-rows.js';
import { FactorizationMachine } from '../src/models/fm/fm.js';
import { Adam } from '../src/optim/adam.js';
import { ADAM_BETAS, ADAM_EPS } from '../src/learn/optimizer.js';
import { trainStep } from '../src/learn/step.js';
import { arg } from './args.js';

const dir = arg('data_dir', '');
if (!dir) {
  console.error('usage: bench/fm-seqrec.ts --data_dir DIR (u.data, u.user, u.item) [--epochs 3] [--export F]');
  process.exit(2);
}
const epochs = Number(arg('epochs', '3'));
const d = Number(arg('d', '50'));
const l2Reg = Number(arg('l2_reg', '0.01'));
const lr = Number(arg('lr', '0.01'));
const seed = Number(arg('seed', '42'));
const threads = Number(arg('threads', '1'));
const maxlen = 200;
const batchSize = 128;

const kernels = useWasmKernels();
const pool = threads > 1 ? await startThreadPool(kernels, threads) : null;
const { data, split } = await loadSplit(
  {
    dataset: join(dir, 'u.data'),
    minUserCount: 5,
    minItemCount: 5,
    userFeatures: join(dir, 'u.user'),
    itemFeatures: join(dir, 'u.item'),
  } as Parameters<typeof loadSplit>[0],
  seed,
);
const features = modelFeatures(split.features, ['users', 'items']);
const rng = new Rng(seed);
const model = new FactorizationMachine({ itemNum: data.itemNum, userNum: data.userNum, maxlen, hiddenUnits: d, l2Reg }, features, {
  rng: rng.fork(),
});
const adam = new Adam(model.namedParameters(), { lr, betas: [...ADAM_BETAS], eps: ADAM_EPS });
const sampler = new TrainSampler(split, { batchSize, maxlen, rng: rng.fork(), negatives: 1 });
const steps = sampler.batchesPerEpoch;

const exportPath = arg('export', '');
if (exportPath) {
  const rows = (r: FeatureRows | undefined) =>
    r && { featureNum: r.featureNum, rowPtr: Array.from(r.rowPtr), idx: Array.from(r.idx), val: Array.from(r.val) };
  writeFileSync(
    exportPath,
    JSON.stringify({
      userNum: data.userNum,
      itemNum: data.itemNum,
      maxlen,
      d,
      batchSize,
      l2Reg,
      lr,
      // each user's training items (the sampler's rows: the last maxlen transitions of these)
      train: split.train.map((s) => Array.from(s.subarray(Math.max(0, s.length - maxlen - 1)))),
      users: rows(features.users),
      items: rows(features.items),
    }),
  );
}

const epochSeconds: number[] = [];
const epochCpu: number[] = [];
let batch: TrainBatch | undefined;
let examples = 0;
for (let epoch = 1; epoch <= epochs; epoch++) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let lossSum = 0;
  examples = 0;
  for (let s = 0; s < steps; s++) {
    batch = sampler.nextBatch(batch);
    for (const p of batch.pos) if (p !== 0) examples++;
    lossSum += trainStep(model, adam, batch);
  }
  const dt = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  epochSeconds.push(dt);
  epochCpu.push((cpu.user + cpu.system) / 1e6);
  console.log(
    `epoch ${epoch}: train ${dt.toFixed(3)} s, CPU ${epochCpu[epoch - 1].toFixed(3)} s (${steps} steps, ${examples} examples), mean loss ${(lossSum / steps).toFixed(4)}`,
  );
}
const meanAfterFirst = (xs: number[]) => {
  const steady = xs.length > 1 ? xs.slice(1) : xs;
  return Number((steady.reduce((a, b) => a + b, 0) / steady.length).toFixed(3));
};
console.log(
  `RESULT_JSON ${JSON.stringify({
    users: data.userNum,
    items: data.itemNum,
    user_features: features.users?.featureNum ?? 0,
    item_features: features.items?.featureNum ?? 0,
    steps_per_epoch: steps,
    examples_per_epoch: examples,
    epoch_s: epochSeconds.map((x) => Number(x.toFixed(3))),
    mean_epoch_s_excl_first: meanAfterFirst(epochSeconds),
    mean_epoch_cpu_s_excl_first: meanAfterFirst(epochCpu),
  })}`,
);
await pool?.close();
