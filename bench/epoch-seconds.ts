/**
 * Seconds per training epoch of any registered gradient model, as `seqrec train` builds it (the
 * model's spec with its default options, batch 128, shuffled users), with no evaluation: per epoch the
 * wall time and this process's CPU time (user + system), which stays meaningful when other work
 * shares the cores and the wall time does not.
 *
 *   node --import tsx bench/epoch-seconds.ts --model caser [--dataset F] [--epochs 3] [--threads 1] [--seed 42]
 *
 * (Default dataset: the bundled Games file. Model options are the spec's defaults.)
 */
import { fileURLToPath } from 'node:url';
import { loadDataset, leaveOneOut, type TrainBatch } from '../src/data/index.js';
import { Rng } from '../src/engine/rng.js';
import { startThreadPool } from '../src/kernels/wasm/pool-start.js';
import { useWasmKernels } from '../src/kernels/wasm/install.js';
import { getModel } from '../src/models/registry.js';
import { Adam } from '../src/optim/adam.js';
import { ADAM_BETAS, ADAM_EPS } from '../src/train/loop.js';
import { trainStep } from '../src/train/step.js';
import { arg } from './args.js';

const name = arg('model', 'sasrec');
const dataset = arg('dataset', fileURLToPath(new URL('../data/games/Video.txt.gz', import.meta.url)));
const epochs = Number(arg('epochs', '3'));
const threads = Number(arg('threads', '1'));
const seed = Number(arg('seed', '42'));

const spec = getModel(name);
if (!spec || spec.learning.kind !== 'gradient') {
  console.error(`--model ${name}: not a registered gradient model`);
  process.exit(2);
}
const kernels = useWasmKernels();
const pool = threads > 1 ? await startThreadPool(kernels, threads) : null;
const split = leaveOneOut(await loadDataset(dataset));
const setup = spec.learning.build(split, spec.options.parse({}), new Rng(seed), { batchSize: 128, userSampling: 'shuffle' }, { batchSize: 128, lr: 0.001, numEpochs: epochs });
const optimizer = new Adam(setup.network.namedParameters(), { lr: 0.001, betas: [...ADAM_BETAS], eps: ADAM_EPS });
console.log(`${setup.summary}; ${setup.sampler.batchesPerEpoch} steps per epoch, ${threads} thread(s)`);

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
let batch: TrainBatch | undefined;
for (let epoch = 1; epoch <= epochs; epoch++) {
  const [w0, c0] = [performance.now(), cpu()];
  let loss = 0;
  for (let s = 0; s < setup.sampler.batchesPerEpoch; s++) {
    batch = setup.sampler.nextBatch(batch);
    loss += trainStep(setup.network, optimizer, batch);
  }
  const [wall, used] = [(performance.now() - w0) / 1000, cpu() - c0];
  console.log(`epoch ${epoch}: wall ${wall.toFixed(2)} s, CPU ${used.toFixed(2)} s, mean loss ${(loss / setup.sampler.batchesPerEpoch).toFixed(4)}`);
}
await pool?.close();
