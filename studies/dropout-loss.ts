/**
 * Train-mode (dropout) loss of a trained SASRec checkpoint, averaged over many dropout draws, on fixed
 * batches — seqrec's side of a check that our dropout has PyTorch's statistics (the parity fixtures
 * run with dropout 0, so they cannot see this). studies/dropout-loss.py computes the same figures with
 * the reference model.py; the eval-mode losses must agree to float precision and the mean train-mode
 * losses within their standard errors.
 *
 *   node --import tsx studies/dropout-loss.ts --checkpoint F.safetensors --dataset F --batches 8 --draws 40
 *        --out batches.json [--seed 1]
 *
 * Writes the batches (and, per batch, eval loss and mean ± s.e. of the train-mode loss for the dense
 * and packed paths) to --out, which the Python side then reads.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadDataset, leaveOneOut, TrainSampler } from '../src/data/index.js';
import { getTape } from '../src/engine/tape.js';
import { Rng } from '../src/engine/rng.js';
import { SASRec } from '../src/models/sasrec/sasrec.js';
import { serializeSafetensors } from '../src/engine/safetensors.js';
import { loadCheckpointSync } from '../src/train/checkpoint.js';
import { arg } from '../bench/args.js';
import { useWasmKernels } from '../src/kernels/wasm/install.js';

const checkpoint = arg('checkpoint', '');
const dataset = arg('dataset', '');
const out = arg('out', '');
if (!checkpoint || !dataset || !out) {
  console.error('usage: studies/dropout-loss.ts --checkpoint F --dataset F --out batches.json [--batches 8] [--draws 40] [--seed 1]');
  process.exit(2);
}
const nBatches = Number(arg('batches', '8'));
const gradBatches = Number(arg('grad_batches', '1'));
const draws = Number(arg('draws', '40'));
const seed = Number(arg('seed', '1'));
useWasmKernels();

const ckpt = loadCheckpointSync(checkpoint);
// a bare state_dict (studies/replay-train.ts's init.safetensors) takes its config from config.json beside it
const cfg = (ckpt.config ?? JSON.parse(readFileSync(join(dirname(checkpoint), 'config.json'), 'utf8'))) as Record<string, number | boolean>;
const config = {
  itemNum: cfg.item_num as number,
  maxlen: cfg.maxlen as number,
  hiddenUnits: cfg.hidden_units as number,
  numBlocks: cfg.num_blocks as number,
  numHeads: cfg.num_heads as number,
  dropoutRate: cfg.dropout_rate as number,
  normFirst: Boolean(cfg.norm_first),
};
const data = await loadDataset(dataset);
const split = leaveOneOut(data);
const sampler = new TrainSampler(split, { batchSize: 128, maxlen: config.maxlen, seed });
const batches = Array.from({ length: nBatches }, () => sampler.nextBatch());

function stats(xs: number[]): { mean: number; se: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return { mean, se: Math.sqrt(v / xs.length) };
}

const results: Record<string, unknown>[] = batches.map(() => ({}));
for (const packed of [false, true]) {
  const model = new SASRec(config, { packed, rng: new Rng(seed) });
  model.loadStateDict(ckpt.tensors);
  const tape = getTape();
  batches.forEach((batch, i) => {
    model.eval();
    tape.reset();
    const evalLoss = model.loss(batch).item();
    model.train();
    const xs: number[] = [];
    const params = model.namedParameters();
    const sums = params.map(([, p]) => new Float64Array(p.size));
    const sq = params.map(([, p]) => new Float64Array(p.size));
    for (let k = 0; k < draws; k++) {
      tape.reset();
      model.zeroGrad();
      const loss = model.loss(batch);
      xs.push(loss.item());
      tape.backward(loss);
      params.forEach(([, p], j) => {
        const g = p.grad!;
        for (let e = 0; e < p.size; e++) {
          sums[j][e] += g[e];
          sq[j][e] += g[e] * g[e];
        }
      });
    }
    if (i < gradBatches) {
      const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
      params.forEach(([name, p], j) => {
        const mean = new Float32Array(p.size);
        const se = new Float32Array(p.size);
        for (let e = 0; e < p.size; e++) {
          mean[e] = sums[j][e] / draws;
          se[e] = Math.sqrt(Math.max(0, sq[j][e] / draws - mean[e] ** 2) / (draws - 1));
        }
        tensors.set(`mean.${name}`, { shape: [...p.shape], data: mean });
        tensors.set(`se.${name}`, { shape: [...p.shape], data: se });
      });
      writeFileSync(`${out}.grad${i}.${packed ? 'packed' : 'dense'}.safetensors`, serializeSafetensors(tensors));
    }
    tape.reset();
    const s = stats(xs);
    const key = packed ? 'packed' : 'dense';
    results[i][`${key}_eval`] = evalLoss;
    results[i][`${key}_train_mean`] = s.mean;
    results[i][`${key}_train_se`] = s.se;
    console.log(`batch ${i} ${key}: eval ${evalLoss.toFixed(5)}, train ${s.mean.toFixed(5)} ± ${s.se.toFixed(5)}`);
  });
}
writeFileSync(
  out,
  JSON.stringify({
    config: { ...cfg },
    draws,
    batches: batches.map((b) => ({ seqs: [...b.seqs], pos: [...b.pos], neg: [...b.neg], batchSize: b.batchSize, maxlen: b.maxlen })),
    seqrec: results,
  }),
);
