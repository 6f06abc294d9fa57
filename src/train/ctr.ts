/**
 * Training and evaluating a click-through model (`--task ctr`, data/ctr.ts): the model's pointwise
 * network (ModelSpec.pointwise) is trained by the options' optimiser (Adam unless --optimizer) on shuffled mini-batches of labelled train rows;
 * every --eval_every epochs (and after the last) valid AUC is measured, the best weights are kept, and
 * --patience evaluations without a gain above --min_delta stop training. The best weights are then
 * evaluated on valid and test: AUC and LogLoss (eval/ctr-metrics.ts).
 */
import { UserError } from '../core/errors.js';
import type { CtrSplit, LabelledRows } from '../data/ctr.js';
import type { SideFeatures, TrainBatch } from '../data/types.js';
import type { Rng } from '../engine/rng.js';
import { ctrMetrics } from '../eval/ctr-metrics.js';
import type { EvalRow } from '../eval/results.js';
import { runRngs } from '../eval/run.js';
import type { AnyModelSpec, PointwiseNetwork } from '../models/contract.js';
import type { TensorEntry } from '../nn/module.js';
import { lrAt } from '../optim/schedule.js';
import { scheduleOf, type TrainingConfig } from '../learn/options.js';
import { makeOptimizer } from '../learn/optimizer.js';
import { trainStep } from '../learn/step.js';

/** Refuses a model without a click-through network, in one line. */
export function pointwiseOf(spec: AnyModelSpec): NonNullable<AnyModelSpec['pointwise']> {
  if (!spec.pointwise) throw new UserError(`--task ctr: --model ${spec.name} cannot predict labels (models that can: fm, ffm)`);
  return spec.pointwise.bind(spec);
}

/** Mini-batches of the train rows in a fresh random order every epoch (the last one smaller). */
export function* labelledBatches(rows: LabelledRows, batchSize: number, rng: Rng): Generator<TrainBatch> {
  const n = rows.labels.length;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const x = order[i];
    order[i] = order[j];
    order[j] = x;
  }
  for (let from = 0; from < n; from += batchSize) {
    const at = order.subarray(from, Math.min(n, from + batchSize));
    const B = at.length;
    yield {
      batchSize: B,
      maxlen: 1,
      users: at.map((k) => rows.users[k]),
      seqs: new Int32Array(B),
      pos: at.map((k) => rows.items[k]),
      neg: new Int32Array(0),
      negatives: 0,
      labels: Float32Array.from(at, (k) => rows.labels[k]),
    };
  }
}

/** AUC and LogLoss of the network on labelled rows, scored in chunks. */
export function evaluateCtr(network: PointwiseNetwork, rows: LabelledRows, chunk = 4096): { AUC: number; LogLoss: number } {
  const n = rows.labels.length;
  const logits = new Float32Array(n);
  for (let from = 0; from < n; from += chunk) {
    const to = Math.min(n, from + chunk);
    logits.set(network.predict(rows.users.subarray(from, to), rows.items.subarray(from, to)), from);
  }
  return ctrMetrics(logits, rows.labels);
}

/** A results row of the ctr protocol: `users` the distinct users of the part, `examples` its rows. */
export function ctrRow(which: 'valid' | 'test', rows: LabelledRows, metrics: Record<string, number>, seconds: number): EvalRow {
  return { protocol: 'ctr', split: which, users: new Set(rows.users).size, examples: rows.labels.length, metrics, seconds };
}

export interface CtrTraining {
  readonly network: PointwiseNetwork;
  readonly rows: EvalRow[];
  readonly epochs: number;
  readonly bestEpoch: number;
  readonly bestValidAuc: number;
  readonly stopped: boolean;
  readonly trainSeconds: number;
}

export interface CtrHooks {
  log?(line: string): void;
  progress?(done: number, total: number, label: string, info?: Readonly<Record<string, number>>): void;
}

/** Trains the model's pointwise network on split.train, selects it on valid AUC, evaluates valid and test (file comment). */
export function trainCtr(
  spec: AnyModelSpec,
  split: CtrSplit,
  features: SideFeatures | undefined,
  options: Readonly<Record<string, unknown>>,
  training: TrainingConfig,
  seed: number,
  hooks: CtrHooks = {},
): CtrTraining {
  const rng = runRngs(seed).train;
  const network = pointwiseOf(spec)(split.data, features, options, rng);
  const batchRng = rng.fork();
  const schedule = scheduleOf(training);
  const optimizer = makeOptimizer(network.namedParameters(), training);
  const steps = Math.ceil(split.train.labels.length / training.batchSize);
  hooks.log?.(`${network.summary}, lr ${training.lr}, batch ${training.batchSize}, ${training.numEpochs} epochs of ${steps} steps`);
  let best: { epoch: number; auc: number; weights: Map<string, TensorEntry> } | undefined;
  let wait = 0;
  let epoch = 0;
  let stopped = false;
  let step = 0;
  let trainSeconds = 0;
  try {
    while (epoch < training.numEpochs && !stopped) {
      epoch++;
      const t0 = performance.now();
      let lossSum = 0;
      let done = 0;
      for (const batch of labelledBatches(split.train, training.batchSize, batchRng)) {
        optimizer.lr = lrAt(schedule, step++);
        const loss = trainStep(network, optimizer, batch);
        if (!Number.isFinite(loss)) throw new Error(`training diverged: loss is ${loss} at epoch ${epoch} (try a lower --lr)`);
        lossSum += loss;
        done++;
        if (hooks.progress && ((done & 7) === 7 || done === steps))
          hooks.progress(done, steps, `epoch ${epoch}/${training.numEpochs}`, { loss: lossSum / done });
      }
      trainSeconds += (performance.now() - t0) / 1000;
      let line = `epoch ${epoch}/${training.numEpochs}: loss ${(lossSum / done).toFixed(4)}, ${((performance.now() - t0) / 1000).toFixed(2)} s`;
      if (epoch % training.evalEvery === 0 || epoch === training.numEpochs) {
        const valid = evaluateCtr(network, split.valid);
        line += `, valid AUC ${valid.AUC.toFixed(4)}, LogLoss ${valid.LogLoss.toFixed(4)}`;
        if (!best || valid.AUC > best.auc + training.minDelta) {
          // the state dict views live buffers: keep copies
          const weights = new Map([...network.stateDict()].map(([k, t]) => [k, { shape: t.shape, data: t.data.slice() }]));
          best = { epoch, auc: valid.AUC, weights };
          wait = 0;
        } else if (training.patience !== undefined && ++wait >= training.patience) {
          stopped = true;
          line += ` (early stop: patience ${training.patience})`;
        }
      }
      hooks.log?.(line);
    }
  } finally {
    optimizer.dispose();
  }
  if (best) network.loadStateDict(best.weights);
  network.eval();
  const rows: EvalRow[] = [];
  for (const which of ['valid', 'test'] as const) {
    const t0 = performance.now();
    const m = evaluateCtr(network, split[which]);
    rows.push(ctrRow(which, split[which], m, Math.round(performance.now() - t0) / 1000));
  }
  return { network, rows, epochs: epoch, bestEpoch: best?.epoch ?? 0, bestValidAuc: best?.auc ?? Number.NaN, stopped, trainSeconds };
}
