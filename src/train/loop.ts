/**
 * The epoch loop shared by the neural models: sample a batch, set the scheduled learning rate, take a
 * step, report progress, and hand the model to the caller after every epoch (evaluation, best
 * checkpoint, early stopping, resume checkpoints).
 *
 * Resume: `EpochInfo.checkpoint()` captures everything that makes the next epoch what it would have
 * been: the weights, Adam's moments and step count, the sampler's RNG words and pass position, and the
 * dropout RNG. `hooks.resumeFrom` restores them, so a resumed run reproduces an uninterrupted one
 * exactly. The schedule needs no state of its own: it is a function of Adam's step count.
 */
import { UserError } from '../cli/errors.js';
import type { TrainBatch } from '../data/types.js';
import { PrefetchSampler } from '../data/prefetch.js';
import { USER_SAMPLING_MODES, type SamplerState, type TrainSampler, type UserSampling } from '../data/sampler.js';
import type { Rng } from '../engine/rng.js';
import { encodeCheckpoint, type LoadedCheckpoint } from '../models/checkpoint-format.js';
import type { TrainedModel, TrainHooks, TrainOptions } from '../models/registry.js';
import type { MHCConfig } from '../nn/mhc.js';
import type { Adam } from '../optim/adam.js';
import { checkSchedule, lrAt, type LrSchedule } from '../optim/schedule.js';

interface TensorEntry {
  readonly shape: readonly number[];
  data: Float32Array;
}

export interface SteppableModel {
  trainStep(batch: TrainBatch, optimizer: Adam): number;
  stateDict(): Map<string, TensorEntry>;
  loadStateDict(state: ReadonlyMap<string, TensorEntry>): void;
  readonly dropoutRng: Rng;
}

export interface LoopSettings {
  readonly numEpochs: number;
  /** steps per epoch; the reference's (users − 1) // batch_size + 1 */
  readonly stepsPerEpoch: number;
  /** learning-rate schedule (default: constant optimizer.lr) */
  readonly schedule?: LrSchedule;
  /** sampler worker threads (--num_workers; default DEFAULT_NUM_WORKERS): 0 samples on this thread, ≥ 1 on one prefetching worker */
  readonly numWorkers?: number;
}

/**
 * --num_workers when not given: 0. Measured with bench/sampling-share.ts --epochs on the 2-core
 * machine (--threads 1 and 2): sampling is 1-4% of a step and a worker showed no gain beyond the
 * noise, while its wake-ups take CPU from the compute threads when every core computes.
 */
export const DEFAULT_NUM_WORKERS = 0;

/** --num_workers from the train options (UserError naming the flag), default DEFAULT_NUM_WORKERS. */
export function numWorkersFrom(options: TrainOptions): number {
  const v = options.numWorkers;
  if (v === undefined) return DEFAULT_NUM_WORKERS;
  const n = Number(v);
  if (!(Number.isInteger(n) && n >= 0)) throw new UserError(`--num_workers: expected an integer ≥ 0, got ${String(v)}`);
  return n;
}

/** --user_sampling: which user each batch row trains on (data/sampler.ts). */
export function userSamplingFrom(options: TrainOptions): UserSampling {
  const v = options.userSampling;
  if (v === undefined) return 'shuffle';
  if (!USER_SAMPLING_MODES.includes(v as UserSampling)) {
    throw new UserError(`--user_sampling: expected ${USER_SAMPLING_MODES.join(', ')}, got ${String(v)}`);
  }
  return v as UserSampling;
}

/** The loop's flags (user sampling, learning-rate schedule, sampling workers), checked without training. */
export function checkLoopOptions(options: TrainOptions, baseLr: number): void {
  userSamplingFrom(options);
  scheduleFrom(options, baseLr);
  numWorkersFrom(options);
}

/**
 * The tail of a model's "training plan" log line, common to every model: epochs × steps, the user
 * sampling when it is not the default shuffle, and the mHC streams when on.
 */
export function describeTrainingPlan(
  numEpochs: number,
  sampler: Pick<TrainSampler, 'batchesPerEpoch' | 'userSampling'>,
  mhc: MHCConfig | null | undefined,
): string {
  return (
    `${numEpochs} epochs of ${sampler.batchesPerEpoch} steps` +
    (sampler.userSampling !== 'shuffle' ? `, user sampling ${sampler.userSampling}` : '') +
    (mhc ? `, mHC ${mhc.expansionRate} streams (Sinkhorn ${mhc.sinkhornIter}, gate ${mhc.initGate}, pre-LN)` : '')
  );
}

export interface EpochRecord {
  epoch: number;
  loss: number;
  seconds: number;
}

/** train_state of a resume checkpoint. */
export interface LoopState {
  format: 'seqrec-train-state-1';
  epoch: number;
  steps: number;
  stepsPerEpoch: number;
  adamStep: number;
  sampler: SamplerState;
  dropoutRng: number[];
  schedule: LrSchedule;
  caller?: unknown;
}

/** The lr schedule from --lr_decay_step / --lr_decay_rate / --warmup_steps (UserError naming the flag). */
export function scheduleFrom(options: TrainOptions, baseLr: number): LrSchedule {
  const get = (k: string): number | undefined => (options[k] === undefined ? undefined : Number(options[k]));
  const s: LrSchedule = {
    baseLr,
    warmupSteps: get('warmupSteps'),
    decayStep: get('lrDecayStep'),
    decayRate: get('lrDecayRate'),
  };
  try {
    checkSchedule(s);
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  if ((s.decayStep ?? 0) > 0 && s.decayRate === undefined) throw new UserError('--lr_decay_step needs --lr_decay_rate');
  if (s.decayRate !== undefined && s.decayRate !== 1 && !((s.decayStep ?? 0) > 0)) throw new UserError('--lr_decay_rate needs --lr_decay_step');
  return s;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * An Rng state: four 32-bit words (written signed or unsigned), not all zero (xoshiro never leaves the
 * zero state), and an optional finite spare normal.
 */
const isWords = (x: unknown): x is number[] =>
  Array.isArray(x) && (x.length === 4 || x.length === 5) &&
  x.slice(0, 4).every((v) => Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 32) && x.slice(0, 4).some((v) => v >>> 0 !== 0) &&
  (x.length === 4 || (typeof x[4] === 'number' && Number.isFinite(x[4])));

/** The loop state of a resume checkpoint, validated; UserError naming `what` otherwise. */
export function loopStateOf(ckpt: LoadedCheckpoint, what: string): LoopState {
  const s = ckpt.trainState as Partial<LoopState> | undefined;
  const bad = (why: string) => new UserError(`${what}: cannot resume from it: ${why}`);
  if (!s || typeof s !== 'object' || s.format !== 'seqrec-train-state-1') throw bad('it has no seqrec training state (train_state)');
  const sm = s.sampler as Partial<SamplerState> | undefined;
  const count = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
  if (!count(s.epoch) || !count(s.steps) || !count(s.adamStep) || !Number.isInteger(s.stepsPerEpoch) || s.stepsPerEpoch! < 1 ||
      !sm || !isWords(sm.rng) || !isWords(sm.passRng) || !Number.isInteger(sm.position) || !isWords(s.dropoutRng)) {
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

/**
 * A model's whole training: every epoch (runEpochs) with the flags' schedule and sampling workers,
 * then the optimizer's memory is handed back (and the model's too when training fails). Returns
 * `trained` with its model in evaluation mode.
 */
export async function trainAllEpochs<T extends TrainedModel>(
  model: SteppableModel & { dispose(): void; eval(): unknown },
  optimizer: Adam,
  sampler: TrainSampler,
  numEpochs: number,
  baseLr: number,
  options: TrainOptions,
  hooks: TrainHooks,
  trained: T,
): Promise<T> {
  try {
    const settings = { numEpochs, stepsPerEpoch: sampler.batchesPerEpoch, schedule: scheduleFrom(options, baseLr), numWorkers: numWorkersFrom(options) };
    await runEpochs(model, optimizer, sampler, settings, hooks, () => trained);
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    optimizer.dispose();
  }
  model.eval();
  return trained;
}

export async function runEpochs(
  model: SteppableModel,
  optimizer: Adam,
  sampler: TrainSampler,
  settings: LoopSettings,
  hooks: TrainHooks,
  snapshot: () => TrainedModel,
): Promise<EpochRecord[]> {
  const history: EpochRecord[] = [];
  const schedule = settings.schedule ?? { baseLr: optimizer.lr };
  let startEpoch = 1;
  let steps = 0;
  if (hooks.resumeFrom) {
    const ckpt = hooks.resumeFrom;
    const st = loopStateOf(ckpt, 'the resume checkpoint');
    const mismatch = sameConfig(ckpt.config, snapshot().describe());
    if (mismatch) throw new UserError(`--resume: ${mismatch}`);
    if (st.stepsPerEpoch !== settings.stepsPerEpoch) throw new UserError(`--resume: ${st.stepsPerEpoch} steps per epoch in the checkpoint, ${settings.stepsPerEpoch} now (another dataset?)`);
    try {
      model.loadStateDict(ckpt.tensors);
      const names = optimizer.names;
      const get = (k: string) => {
        const t = ckpt.optimizer!.get(k);
        if (!t) throw new Error(`optimizer tensor "${k}" missing`);
        return t.data;
      };
      optimizer.setState({ step: st.adamStep, names: [...names], expAvg: names.map((n) => get(`exp_avg.${n}`)), expAvgSq: names.map((n) => get(`exp_avg_sq.${n}`)) });
      sampler.setState(st.sampler);
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw new UserError(`--resume: the checkpoint does not fit this model: ${(e as Error).message}`);
    }
    if (JSON.stringify(st.schedule) !== JSON.stringify(schedule)) {
      throw new UserError(`--resume: the learning-rate schedule differs from the checkpoint's (${JSON.stringify(st.schedule)})`);
    }
    model.dropoutRng.setState(st.dropoutRng);
    startEpoch = st.epoch + 1;
    steps = st.steps;
    hooks.log?.(`resumed after epoch ${st.epoch} (${steps} steps)`);
  }
  await hooks.onStart?.();
  const checkpointAfter = (epoch: number) => (callerState?: unknown): Uint8Array[] => {
    const opt = optimizer.getState();
    const optimTensors = new Map<string, TensorEntry>();
    opt.names.forEach((n, i) => {
      optimTensors.set(`exp_avg.${n}`, { shape: [opt.expAvg[i].length], data: opt.expAvg[i] });
      optimTensors.set(`exp_avg_sq.${n}`, { shape: [opt.expAvgSq[i].length], data: opt.expAvgSq[i] });
    });
    const trainState: LoopState = {
      format: 'seqrec-train-state-1',
      epoch,
      steps,
      stepsPerEpoch: settings.stepsPerEpoch,
      adamStep: opt.step,
      sampler: source ? source.getState() : sampler.getState(),
      dropoutRng: model.dropoutRng.getState(),
      schedule,
      ...(callerState === undefined ? {} : { caller: callerState }),
    };
    return encodeCheckpoint({ tensors: model.stateDict(), config: snapshot().describe(), optimizer: optimTensors, trainState });
  };

  // --num_workers ≥ 1: the same sampler stream from a worker thread, a few batches ahead (data/prefetch.ts);
  // checkpoints store its state as of the batches consumed, and this sampler is left in that state.
  const numWorkers = settings.numWorkers ?? DEFAULT_NUM_WORKERS;
  if (numWorkers > 1) hooks.log?.(`--num_workers ${numWorkers}: batches come from one prefetching worker (the sampler's random stream is sequential)`);
  const source = numWorkers > 0 && startEpoch <= settings.numEpochs ? await PrefetchSampler.start(sampler) : undefined;
  try {
    await epochLoop();
  } finally {
    if (source) {
      await source.close();
      sampler.setState(source.getState());
    }
  }
  return history;

  async function epochLoop(): Promise<void> {
    let batch: TrainBatch | undefined;
    for (let epoch = startEpoch; epoch <= settings.numEpochs; epoch++) {
      const t0 = performance.now();
      let lossSum = 0;
      const label = `epoch ${epoch}/${settings.numEpochs}`;
      for (let step = 0; step < settings.stepsPerEpoch; step++) {
        batch = source ? await source.next() : sampler.nextBatch(batch);
        optimizer.lr = lrAt(schedule, steps);
        const loss = model.trainStep(batch, optimizer);
        steps++;
        if (!Number.isFinite(loss)) {
          throw new Error(`training diverged: loss is ${loss} at epoch ${epoch}, step ${step + 1} (try a lower --lr)`);
        }
        lossSum += loss;
        if (hooks.progress && ((step & 7) === 7 || step + 1 === settings.stepsPerEpoch)) {
          const seconds = (performance.now() - t0) / 1000;
          hooks.progress(step + 1, settings.stepsPerEpoch, label, {
            loss: lossSum / (step + 1),
            lr: optimizer.lr,
            stepsPerSecond: (step + 1) / seconds,
          });
        }
      }
      const record = { epoch, loss: lossSum / settings.stepsPerEpoch, seconds: (performance.now() - t0) / 1000 };
      history.push(record);
      hooks.log?.(
        `${label}: loss ${record.loss.toFixed(4)}, lr ${optimizer.lr.toPrecision(3)}, ${record.seconds.toFixed(2)} s ` +
          `(${(settings.stepsPerEpoch / record.seconds).toFixed(1)} steps/s)`,
      );
      const stop = await hooks.onEpoch?.({
        epoch,
        loss: record.loss,
        model: snapshot(),
        last: epoch === settings.numEpochs,
        lr: optimizer.lr,
        seconds: record.seconds,
        steps,
        checkpoint: checkpointAfter(epoch),
      });
      if (stop === true) break;
      await yieldToEventLoop();
    }
  }
}
