/**
 * Replayable training run: seqrec trains SASRec from its initial weights on its sampler's batches and
 * saves both (init.safetensors, batches.i32) so studies/replay-train.py can train the reference model.py
 * from the same start on the same batches. With dropout 0 the two loss curves must coincide (up to
 * float rounding); with dropout they differ only by the dropout draws. A gap then lies in the model,
 * the loss or the optimiser, not in sampling or initialisation.
 *
 *   node --import tsx studies/replay-train.ts --dataset F --out DIR [--maxlen 50] [--dropout 0.5]
 *        [--epochs 10] [--seed 1] [--packed true] [--step_log N] [--user_sampling shuffle|cycle|uniform]
 *        [--kernels wasm|reference]
 *
 * --step_log N: also write the first N step losses to DIR/seqrec-steps.txt.
 *
 * batches.i32: int32 header [batches, batchSize, maxlen], then per batch seqs, pos, neg (each B·L).
 */
import { mkdirSync, openSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import { loadDataset, leaveOneOut, TrainSampler, type UserSampling } from '../src/data/index.js';
import { Rng } from '../src/engine/rng.js';
import { serializeSafetensors } from '../src/engine/safetensors.js';
import { SASRec } from '../src/models/sasrec/sasrec.js';
import { Adam } from '../src/optim/adam.js';
import { arg } from '../bench/args.js';
import { useWasmKernels } from '../src/kernels/wasm/install.js';
import { trainStep } from '../src/learn/step.js';

const dataset = arg('dataset', '');
const out = arg('out', '');
if (!dataset || !out) {
  console.error('usage: studies/replay-train.ts --dataset F --out DIR [--maxlen 50] [--dropout 0.5] [--epochs 10] [--seed 1]');
  process.exit(2);
}
const maxlen = Number(arg('maxlen', '50'));
const dropout = Number(arg('dropout', '0.5'));
const epochs = Number(arg('epochs', '10'));
const userSampling = arg('user_sampling', 'shuffle') as UserSampling;
const seed = Number(arg('seed', '1'));
const packed = arg('packed', 'true') !== 'false';
if (arg('kernels', 'wasm') === 'wasm') useWasmKernels();

const data = await loadDataset(dataset);
const split = leaveOneOut(data, 4);
const rng = new Rng(seed);
const config = { itemNum: data.itemNum, maxlen, hiddenUnits: 50, numBlocks: 2, numHeads: 1, dropoutRate: dropout };
const model = new SASRec(config, { rng: rng.fork(), packed });
const sampler = new TrainSampler(split, { batchSize: 128, maxlen, userSampling, rng: rng.fork() });
const steps = sampler.batchesPerEpoch;

mkdirSync(out, { recursive: true });
writeFileSync(`${out}/init.safetensors`, serializeSafetensors(model.stateDict()));
writeFileSync(
  `${out}/config.json`,
  JSON.stringify({ item_num: data.itemNum, maxlen, hidden_units: 50, num_blocks: 2, num_heads: 1, dropout_rate: dropout, epochs, steps }),
);
const fd = openSync(`${out}/batches.i32`, 'w');
writeSync(fd, new Int32Array([epochs * steps, 128, maxlen]));

const adam = new Adam(model.namedParameters(), { lr: 0.001, betas: [0.9, 0.98], eps: 1e-8 });
const lines: string[] = [];
const stepLogN = Number(arg('step_log', '0'));
const stepLog: number[] = [];
for (let epoch = 1; epoch <= epochs; epoch++) {
  let lossSum = 0;
  for (let s = 0; s < steps; s++) {
    const batch = sampler.nextBatch();
    writeSync(fd, batch.seqs);
    writeSync(fd, batch.pos);
    writeSync(fd, batch.neg);
    const l = trainStep(model, adam, batch);
    lossSum += l;
    if (stepLog.length < stepLogN) stepLog.push(l);
  }
  lines.push(`epoch ${epoch}: mean loss ${(lossSum / steps).toFixed(4)}`);
  console.log(lines[lines.length - 1]);
}
closeSync(fd);
if (stepLogN > 0) writeFileSync(`${out}/seqrec-steps.txt`, `${stepLog.map((x) => x.toFixed(6)).join('\n')}\n`);
writeFileSync(`${out}/seqrec-${packed ? 'packed' : 'dense'}.log`, `${lines.join('\n')}\n`);
