/**
 * The gradient training loop every neural model shares: draw a batch, set the scheduled learning
 * rate, take a step (zero-grad, the network's loss, backward, the optimiser), report progress, and hand the
 * model to the caller after every epoch (evaluation, best checkpoint, early stopping, resume
 * checkpoints).
 *
 * Resume: `EpochInfo.checkpoint()` captures everything that makes the next epoch what it would have
 * been: the weights, the optimiser's buffers (Adam's moments, Adagrad's sums) and step count, the sampler's RNG words and pass position, and the
 * dropout RNG. `hooks.resumeFrom` restores them, so a resumed run reproduces an uninterrupted one
 * exactly. The schedule needs no state of its own: it is a function of the step count.
 */
import { UserError } from '../core/errors.js';
import type { TrainBatch } from '../data/types.js';
import { TrainSampler, type BatchSource, type SamplerState } from '../data/sampler.js';
import { encodeCheckpoint, type LoadedCheckpoint } from '../models/common/checkpoint-format.js';
import type { GradientSetup, Model, Network } from '../models/contract.js';
import type { TensorEntry } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import { lrAt, type LrSchedule } from '../optim/schedule.js';
import { makeOptimizer } from './optimizer.js';
import { scheduleOf, type TrainingConfig } from './options.js';
import { trainStep } from './step.js';

/** What a training run reports to, and asks of, its caller. All optional. */
export interface TrainHooks {
  /** a line of human-readable log */
  log?(line: string): void;
  /** progress inside an epoch; info carries live figures such as loss, lr and steps/s */
  progress?(done: number, total: number, label: string, info?: Readonly<Record<string, number>>): void;
  /**
   * Called after each epoch with the model as it stands; the caller may evaluate it (early stopping)
   * and save a checkpoint. Resolving to true stops training.
   */
  onEpoch?(info: EpochInfo): boolean | undefined | Promise<boolean | undefined>;
  /**
   * Called once before the first epoch, after the model has been built and (with resumeFrom) the
   * checkpoint restored: the caller may now write to the run directory.
   */
  onStart?(): void | Promise<void>;
  /**
   * Resume: a checkpoint written from `EpochInfo.checkpoint()`; training continues after its epoch
   * with the same sampler, dropout and schedule state.
   */
  readonly resumeFrom?: LoadedCheckpoint;
  /**
   * --num_workers ≥ 1: the same sampler stream from another thread (train/ passes data/prefetch.ts's
   * worker thread); absent (a browser), batches are drawn on this thread.
   */
  prefetch?(sampler: TrainSampler): Promise<PrefetchedBatches>;
}

/** The sampler's batches drawn ahead elsewhere, in the same order. */
export interface PrefetchedBatches {
  next(): Promise<TrainBatch>;
  getState(): SamplerState;
  close(): Promise<void>;
}

/** What the loop reports after each epoch. */
export interface EpochInfo {
  epoch: number;
  /** mean training loss of the epoch */
  loss: number;
  model: Model;
  /** true after the last epoch */
  last: boolean;
  /** learning rate of the epoch's last step */
  lr: number;
  /** wall-clock seconds of the epoch */
  seconds: number;
  /** optimizer steps taken so far in the run */
  steps: number;
  /**
   * The full training state after this epoch as checkpoint bytes (model + optimizer + `train_state`),
   * for `resumeFrom`; `callerState` (JSON) is stored with it as `train_state.caller`. The chunks view
   * live buffers: write them before training continues.
   */
  checkpoint(callerState?: unknown): Uint8Array[];
}

/** train_state of a resume checkpoint. */
export interface LoopState {
  format: 'seqrec-train-state-1';
  epoch: number;
  steps: number;
  stepsPerEpoch: number;
  /** the optimiser's step count (named for Adam, the first optimiser, so older checkpoints resume) */
  adamStep: number;
  sampler: SamplerState;
  dropoutRng: number[];
  schedule: LrSchedule;
  caller?: unknown;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * An Rng state: four 32-bit words (written signed or unsigned), not all zero (xoshiro never leaves the
 * zero state), and an optional finite spare normal.
 */
const isWords = (x: unknown): x is number[] =>
  Array.isArray(x) &&
  (x.length === 4 || x.length === 5) &&
  x.slice(0, 4).every((v) => Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 32) &&
  x.slice(0, 4).some((v) => v >>> 0 !== 0) &&
  (x.length === 4 || (typeof x[4] === 'number' && Number.isFinite(x[4])));

/** The loop state of a resume checkpoint, validated; UserError naming `what` otherwise. */
export function loopStateOf(ckpt: LoadedCheckpoint, what: string): LoopState {
  const s = ckpt.trainState as Partial<LoopState> | undefined;
  const bad = (why: string) => new UserError(`${what}: cannot resume from it: ${why}`);
  if (!s || typeof s !== 'object' || s.format !== 'seqrec-train-state-1') throw bad('it has no seqrec training state (train_state)');
  const sm = s.sampler as Partial<SamplerState> | undefined;
  const count = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
  if (
    !count(s.epoch) ||
    !count(s.steps) ||
    !count(s.adamStep) ||
    !Number.isInteger(s.stepsPerEpoch) ||
    s.stepsPerEpoch! < 1 ||
    !sm ||
    !isWords(sm.rng) ||
    !isWords(sm.passRng) ||
    !Number.isInteger(sm.position) ||
    !isWords(s.dropoutRng)
  ) {
    throw bad('train_state is malformed');
  }
  if (!ckpt.optimizer) throw bad('it has no optimizer state (optim.* tensors)');
  return s as LoopState;
}

function sameConfig(saved: Record<string, unknown> | undefined, now: Record<string, unknown>): string | undefined {
  if (!saved) return 'the checkpoint has no config';
  for (const [k, v] of Object.entries(now)) {
    if (k === 'num_epochs') continue; // a resumed run may train for longer
    if (JSON.stringify(saved[k]) !== JSON.stringify(v)) return `--${k} is ${JSON.stringify(v)} now but ${JSON.stringify(saved[k])} in the checkpoint`;
  }
  return undefined;
}

/** The training log's first line: the model, then the loop's settings. */
function planLine(setup: GradientSetup, training: TrainingConfig): string {
  const { sampler } = setup;
  return (
    `${setup.summary}, ${training.optimizer === 'adam' ? '' : `${training.optimizer} (momentum ${training.momentum}), `}lr ${training.lr}, batch ${training.batchSize}, ${training.numEpochs} epochs of ${sampler.batchesPerEpoch} steps` +
    (sampler.describe() ? `, ${sampler.describe()}` : '')
  );
}

/**
 * A gradient model's whole training: the options' optimiser over the network's parameters, every epoch with the
 * options' schedule and sampling workers, then the optimizer's memory back (and the network's too when
 * training fails). Returns the model, its network in evaluation mode.
 */
export async function trainNetwork(setup: GradientSetup, training: TrainingConfig, hooks: TrainHooks): Promise<Model> {
  const { network, model } = setup;
  hooks.log?.(planLine(setup, training));
  const optimizer = makeOptimizer(network.namedParameters(), training);
  try {
    await runEpochs(network, optimizer, setup.sampler, model, training, hooks);
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    optimizer.dispose();
  }
  network.eval();
  return model;
}

/**
 * The epochs themselves, with the optimizer given. `stepsPerEpoch` is the sampler's pass over the
 * users; a benchmark may take shorter epochs.
 */
export async function runEpochs(
  network: Network,
  optimizer: Optimizer,
  sampler: BatchSource,
  model: Model,
  training: TrainingConfig,
  hooks: TrainHooks,
  stepsPerEpoch = sampler.batchesPerEpoch,
): Promise<void> {
  const schedule = scheduleOf(training);
  const numEpochs = training.numEpochs;
  let startEpoch = 1;
  let steps = 0;
  if (hooks.resumeFrom) {
    const ckpt = hooks.resumeFrom;
    const st = loopStateOf(ckpt, 'the resume checkpoint');
    const mismatch = sameConfig(ckpt.config, model.describe());
    if (mismatch) throw new UserError(`--resume: ${mismatch}`);
    if (st.stepsPerEpoch !== stepsPerEpoch)
      throw new UserError(`--resume: ${st.stepsPerEpoch} steps per epoch in the checkpoint, ${stepsPerEpoch} now (another dataset?)`);
    try {
      network.loadStateDict(ckpt.tensors);
      const names = optimizer.names;
      const get = (k: string) => {
        const t = ckpt.optimizer!.get(k);
        if (!t) throw new Error(`optimizer tensor "${k}" missing`);
        return t.data;
      };
      const buffers: Record<string, Float32Array[]> = {};
      for (const b of optimizer.bufferNames) buffers[b] = names.map((n) => get(`${b}.${n}`));
      optimizer.setState({ step: st.adamStep, names: [...names], buffers });
      sampler.setState(st.sampler);
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw new UserError(`--resume: the checkpoint does not fit this model: ${(e as Error).message}`);
    }
    if (JSON.stringify(st.schedule) !== JSON.stringify(schedule)) {
      throw new UserError(`--resume: the learning-rate schedule differs from the checkpoint's (${JSON.stringify(st.schedule)})`);
    }
    network.dropoutRng.setState(st.dropoutRng);
    startEpoch = st.epoch + 1;
    steps = st.steps;
    hooks.log?.(`resumed after epoch ${st.epoch} (${steps} steps)`);
  }
  await hooks.onStart?.();
  const checkpointAfter =
    (epoch: number) =>
    (callerState?: unknown): Uint8Array[] => {
      const opt = optimizer.getState();
      const optimTensors = new Map<string, TensorEntry>();
      for (const [b, arrays] of Object.entries(opt.buffers)) {
        for (const [i, n] of opt.names.entries()) optimTensors.set(`${b}.${n}`, { shape: [arrays[i].length], data: arrays[i] });
      }
      const trainState: LoopState = {
        format: 'seqrec-train-state-1',
        epoch,
        steps,
        stepsPerEpoch,
        adamStep: opt.step,
        sampler: source ? source.getState() : sampler.getState(),
        dropoutRng: network.dropoutRng.getState(),
        schedule,
        ...(callerState === undefined ? {} : { caller: callerState }),
      };
      return encodeCheckpoint({ tensors: network.stateDict(), config: model.describe(), optimizer: optimTensors, trainState });
    };

  // --num_workers ≥ 1: the same sampler stream from a worker thread, a few batches ahead (data/prefetch.ts);
  // checkpoints store its state as of the batches consumed, and this sampler is left in that state.
  if (training.numWorkers > 1)
    hooks.log?.(`--num_workers ${training.numWorkers}: batches come from one prefetching worker (the sampler's random stream is sequential)`);
  const prefetchable = sampler instanceof TrainSampler && hooks.prefetch !== undefined;
  if (training.numWorkers > 0 && !prefetchable) hooks.log?.(`--num_workers ${training.numWorkers}: this model draws its batches on the main thread`);
  const source = training.numWorkers > 0 && prefetchable && startEpoch <= numEpochs ? await hooks.prefetch!(sampler) : undefined;
  try {
    await epochLoop();
  } finally {
    if (source) {
      await source.close();
      sampler.setState(source.getState());
    }
  }

  async function epochLoop(): Promise<void> {
    let batch: TrainBatch | undefined;
    for (let epoch = startEpoch; epoch <= numEpochs; epoch++) {
      const t0 = performance.now();
      let lossSum = 0;
      const label = `epoch ${epoch}/${numEpochs}`;
      for (let step = 0; step < stepsPerEpoch; step++) {
        batch = source ? await source.next() : sampler.nextBatch(batch);
        optimizer.lr = lrAt(schedule, steps);
        const loss = trainStep(network, optimizer, batch);
        steps++;
        if (!Number.isFinite(loss)) {
          throw new Error(`training diverged: loss is ${loss} at epoch ${epoch}, step ${step + 1} (try a lower --lr)`);
        }
        lossSum += loss;
        if (hooks.progress && ((step & 7) === 7 || step + 1 === stepsPerEpoch)) {
          const seconds = (performance.now() - t0) / 1000;
          hooks.progress(step + 1, stepsPerEpoch, label, { loss: lossSum / (step + 1), lr: optimizer.lr, stepsPerSecond: (step + 1) / seconds });
        }
      }
      const loss = lossSum / stepsPerEpoch;
      const seconds = (performance.now() - t0) / 1000;
      hooks.log?.(
        `${label}: loss ${loss.toFixed(4)}, lr ${optimizer.lr.toPrecision(3)}, ${seconds.toFixed(2)} s (${(stepsPerEpoch / seconds).toFixed(1)} steps/s)`,
      );
      const stop = await hooks.onEpoch?.({
        epoch,
        loss,
        model,
        last: epoch === numEpochs,
        lr: optimizer.lr,
        seconds,
        steps,
        checkpoint: checkpointAfter(epoch),
      });
      if (stop === true) break;
      await yieldToEventLoop();
    }
  }
}
