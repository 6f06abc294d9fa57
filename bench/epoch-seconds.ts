/**
 * Seconds per training epoch of a registered gradient model against a reference model (SASRec by
 * default), measured in the same run on the same data: each built as `seqrec train` builds it (the
 * spec's options with its defaults, the loop's training defaults for that model: batch size, lr, optimiser,
 * shuffled users), no evaluation, their epochs interleaved (model, reference, model, …) so that a
 * change in the machine's load falls on both. Per epoch the wall time and this process's CPU time
 * (user + system), which stays meaningful when other work shares the cores; then the means over the
 * epochs after the first (start-up) and the ratio model / reference.
 *
 *   node --import tsx bench/epoch-seconds.ts --model caser [--reference sasrec] [--dataset F] [--epochs 3]
 *        [--options k=v,…] [--reference_options k=v,…] [--threads 1] [--seed 42]
 *
 * --options / --reference_options: the models' options as `seqrec train` names them, e.g.
 * `--reference_options maxlen=50,dropout_rate=0.5` (the SASRec paper's Games setting). Default dataset:
 * the bundled Games file.
 */
import { fileURLToPath } from 'node:url';
import { loadDataset, leaveOneOut, type TrainBatch } from '../src/data/index.js';
import { Rng } from '../src/engine/rng.js';
import { startThreadPool } from '../src/kernels/wasm/pool-start.js';
import { useWasmKernels } from '../src/kernels/wasm/install.js';
import type { GradientSetup } from '../src/models/contract.js';
import { getModel } from '../src/models/registry.js';
import type { Optimizer } from '../src/optim/optimizer.js';
import { makeOptimizer } from '../src/learn/optimizer.js';
import { trainingOptionsFor } from '../src/train/request.js';
import { trainStep } from '../src/learn/step.js';
import { arg } from './args.js';

const dataset = arg('dataset', fileURLToPath(new URL('../data/games/Video.txt.gz', import.meta.url)));
const epochs = Number(arg('epochs', '3'));
const threads = Number(arg('threads', '1'));
const seed = Number(arg('seed', '42'));

const pairs = (s: string): Record<string, string> =>
  Object.fromEntries(
    s
      .split(',')
      .filter((kv) => kv.length > 0)
      .map((kv) => {
        const eq = kv.indexOf('=');
        if (eq < 1) throw new Error(`options: "${kv}" is not name=value`);
        return [kv.slice(0, eq), kv.slice(eq + 1)];
      }),
  );

interface Side {
  label: string;
  setup: GradientSetup;
  optimizer: Optimizer;
  batch?: TrainBatch;
  wall: number[];
  cpu: number[];
}

const kernels = useWasmKernels();
const pool = threads > 1 ? await startThreadPool(kernels, threads) : null;
const split = leaveOneOut(await loadDataset(dataset));

function build(name: string, raw: Record<string, string>): Side {
  const spec = getModel(name);
  if (spec?.learning.kind !== 'gradient') throw new Error(`--model ${name}: not a registered gradient model`);
  const options = spec.options.parse(raw);
  const training = trainingOptionsFor(spec).parse({});
  const record = { batchSize: training.batchSize, lr: training.lr, numEpochs: epochs, optimizer: training.optimizer, momentum: training.momentum };
  const setup = spec.learning.build(split, options, new Rng(seed), { batchSize: training.batchSize, userSampling: 'shuffle' }, record);
  const optimizer = makeOptimizer(setup.network.namedParameters(), training);
  console.log(`${name}: ${setup.summary}; ${training.optimizer}, batch ${training.batchSize}, ${setup.sampler.batchesPerEpoch} steps per epoch`);
  return { label: name, setup, optimizer, wall: [], cpu: [] };
}

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

function epoch(side: Side, e: number): void {
  const { setup, optimizer } = side;
  const [w0, c0] = [performance.now(), cpuSeconds()];
  let loss = 0;
  for (let s = 0; s < setup.sampler.batchesPerEpoch; s++) {
    side.batch = setup.sampler.nextBatch(side.batch);
    loss += trainStep(setup.network, optimizer, side.batch);
  }
  side.wall.push((performance.now() - w0) / 1000);
  side.cpu.push(cpuSeconds() - c0);
  const mean = (loss / setup.sampler.batchesPerEpoch).toFixed(4);
  console.log(`${side.label} epoch ${e}: wall ${side.wall.at(-1)!.toFixed(2)} s, CPU ${side.cpu.at(-1)!.toFixed(2)} s, mean loss ${mean}`);
}

const model = build(arg('model', 'caser'), pairs(arg('options', '')));
const reference = build(arg('reference', 'sasrec'), pairs(arg('reference_options', '')));
console.log(`${dataset}: ${split.data.userNum} users, ${split.data.itemNum} items; ${threads} thread(s)`);
for (let e = 1; e <= epochs; e++) for (const side of [model, reference]) epoch(side, e);

// epoch 1 is start-up (JIT, buffers) when there are later ones
const steady = (xs: number[]) => {
  const ys = xs.length > 1 ? xs.slice(1) : xs;
  return ys.reduce((a, b) => a + b, 0) / ys.length;
};
const over = epochs > 1 ? `epochs 2–${epochs}` : 'epoch 1';
for (const side of [model, reference]) {
  console.log(`${side.label}: ${steady(side.wall).toFixed(2)} s/epoch wall, ${steady(side.cpu).toFixed(2)} s/epoch CPU (${over})`);
}
console.log(
  `${model.label} / ${reference.label}: ${(steady(model.wall) / steady(reference.wall)).toFixed(2)}× wall, ` +
    `${(steady(model.cpu) / steady(reference.cpu)).toFixed(2)}× CPU per epoch`,
);
for (const side of [model, reference]) side.setup.model.dispose();
await pool?.close();
