/**
 * How much of a SASRec training step is batch sampling? Times TrainSampler.nextBatch and
 * SASRec.trainStep separately on the bundled Amazon Games data (reference defaults: d 50, 2 blocks,
 * 1 head, B 128, dropout 0.2), single thread, WebAssembly kernels, at maxlen 50 and 200. This is the
 * measurement behind `--num_workers` being reserved: a sampling worker could hide at most this share.
 *
 *   node --import tsx bench/sampling-share.ts [--steps 40]
 */
import v8 from 'node:v8';
import { bundledDatasetPath, leaveOneOut, loadDataset, TrainSampler, type TrainBatch } from '../src/data/index.js';
import { Rng } from '../src/engine/rng.js';
import { setKernels } from '../src/kernels/index.js';
import { createWasmKernelsSync } from '../src/kernels/wasm/index.js';
import { SASRec } from '../src/models/sasrec.js';
import { Adam } from '../src/optim/adam.js';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
setKernels(createWasmKernelsSync());
const i = process.argv.indexOf('--steps');
const steps = i >= 0 ? Number(process.argv[i + 1]) : 40;

const data = await loadDataset(bundledDatasetPath());
const split = leaveOneOut(data, 3);
for (const maxlen of [50, 200]) {
  const model = new SASRec({ itemNum: data.itemNum, maxlen, hiddenUnits: 50, numBlocks: 2, numHeads: 1, dropoutRate: 0.2 }, { seed: 1 });
  const opt = new Adam(model.namedParameters(), { lr: 0.001 });
  const sampler = new TrainSampler(split, { batchSize: 128, maxlen, rng: new Rng(1) });
  let batch: TrainBatch | undefined;
  let tSample = 0;
  let tStep = 0;
  for (let s = 0; s < steps + 3; s++) {
    const a = performance.now();
    batch = sampler.nextBatch(batch);
    const b = performance.now();
    model.trainStep(batch, opt);
    const c = performance.now();
    if (s >= 3) {
      tSample += b - a;
      tStep += c - b;
    }
  }
  const share = (100 * tSample) / (tSample + tStep);
  console.log(`maxlen ${maxlen}: sampling ${(tSample / steps).toFixed(2)} ms/batch, step ${(tStep / steps).toFixed(1)} ms → sampling is ${share.toFixed(1)}% of a step`);
}
