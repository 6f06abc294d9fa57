/**
 * The options of the gradient training loop (every neural model reads them), and of a training run.
 * Their defaults are the reference's (SASRec.pytorch main.py), except num_epochs (1000 there).
 */
import { bool, choice, defineOptions, int, num, str, type ConfigOf } from '../core/options.js';
import { USER_SAMPLING_MODES } from '../data/sampler.js';
import { type AnyModelSpec, DEFAULT_TRAINING_RECORD as D, OPTIMIZERS } from '../models/contract.js';
import type { LrSchedule } from '../optim/schedule.js';

export const trainingOptions = defineOptions({
  batch_size: int({ help: 'training batch size', default: D.batchSize, min: 1, max: 65_536 }),
  lr: num({ help: 'learning rate', default: D.lr, above: 0 }),
  optimizer: choice(OPTIMIZERS, {
    help:
      'adam (betas 0.9/0.98, eps 1e-8, as the reference) or adagrad (with --momentum; only the rows of an item table that the batch ' +
      "touches move, as GRU4Rec's authors train it; gru4rec and gru4rec+ default to it)",
    default: D.optimizer,
  }),
  momentum: num({ help: 'Adagrad: momentum μ (v ← μ·v − lr·g/√(G + 1e-6), θ ← θ + v)', default: D.momentum, min: 0, max: 0.999 }),
  num_epochs: int({ help: 'training epochs', default: D.numEpochs, min: 1, max: 1_000_000 }),
  eval_every: int({
    help: 'evaluate on valid every N epochs (and after the last) and keep the best checkpoint, as the reference',
    default: 20,
    min: 1,
  }),
  patience: int({
    help:
      'early stopping: stop after N evaluations in a row (see --eval_every) whose valid NDCG@10 does not beat the best so far by more than ' +
      '--min_delta; test metrics are those of the best checkpoint (default: no early stopping)',
    min: 1,
  }),
  min_delta: num({ help: 'early stopping: the valid NDCG@10 gain that counts as an improvement', default: 0, min: 0 }),
  select_metric: str({
    help:
      'the valid metric that picks the best checkpoint and drives early stopping, e.g. Recall@20 or MRR@10 with --split random ' +
      '(it must be one the evaluation reports: --ks sets the cut-offs; default NDCG@10, or NDCG@K of the first K when 10 is not in --ks)',
    arg: 'name',
  }),
  select_protocol: choice(['sampled', 'full'] as const, {
    help:
      'the protocol of the valid evaluations that pick the best checkpoint and drive early stopping: sampled (the reference: ' +
      'the held-out item among --num_negatives random items) or full (every item ranked, history excluded; for full-ranking results)',
    default: 'sampled',
  }),
  lr_decay_step: int({
    help: 'step decay: multiply the learning rate by --lr_decay_rate every N optimizer steps (batches, not epochs; PyTorch StepLR stepped per batch): lr = lr·rate^floor(step/N)',
    min: 0,
  }),
  lr_decay_rate: num({ help: 'step decay factor (with --lr_decay_step), e.g. 0.5', above: 0 }),
  warmup_steps: int({
    help: 'linear warm-up over the first W optimizer steps: lr·(step+1)/W, then lr; composes with step decay (multiplied; the decay clock starts at step 0)',
    min: 0,
  }),
  user_sampling: choice(USER_SAMPLING_MODES, {
    help:
      "which user each batch row trains on: shuffle = a random order redrawn every pass over the users; cycle = SASRec.pytorch's sampler, which " +
      'tests counter % usernum == 0 only at batch starts, so with a batch size coprime to the user count ONE order is cycled through for ' +
      "batch_size passes (Games: ~128 epochs); uniform = TiSASRec.pytorch's sampler, each row an independent uniformly random user. cycle makes " +
      "the Games training loss fall more slowly (BENCHMARKS.md); use the matching one to reproduce a reference's curves",
    default: 'shuffle',
  }),
  num_workers: int({
    help:
      'batch sampling threads: 0 samples on the main thread between steps; N ≥ 1 samples on one worker thread up to 3 batches ahead (the random ' +
      'stream is sequential, so N > 1 is the same single producer). Same seed = the same batches and run for any N, --resume included. Sampling ' +
      'is only 1-4% of a step (bench/sampling-share.ts), so a worker can save at most that, and only with a spare core: with --threads using ' +
      'every core it competes with the compute threads. Try 1 with --threads below the core count',
    default: 0,
    min: 0,
  }),
})
  .rule((c, name) => (c.momentum > 0 && c.optimizer !== 'adagrad' ? ['momentum', `only with ${name('optimizer')} adagrad`] : undefined))
  .rule((c, name) => ((c.lrDecayStep ?? 0) > 0 && c.lrDecayRate === undefined ? ['lr_decay_step', `needs ${name('lr_decay_rate')}`] : undefined))
  .rule((c, name) =>
    c.lrDecayRate !== undefined && c.lrDecayRate !== 1 && !((c.lrDecayStep ?? 0) > 0)
      ? ['lr_decay_rate', `needs ${name('lr_decay_step')}`]
      : undefined,
  );

export type TrainingConfig = ConfigOf<typeof trainingOptions.options>;

/** The learning-rate schedule the options ask for. */
export function scheduleOf(c: TrainingConfig): LrSchedule {
  return { baseLr: c.lr, warmupSteps: c.warmupSteps, decayStep: c.lrDecayStep, decayRate: c.lrDecayRate };
}

/** The options of one training run: where it writes, and how it starts. */
export const runOptions = defineOptions({
  train_dir: str({
    help:
      'output folder: a path with a folder in it (runs/x, ./x, /tmp/x) as it is; a bare NAME means <dataset>_NAME, as the reference ' +
      '(--dataset ml-1m --train_dir default: ml-1m_default) (default runs/<dataset>_<model>)',
    arg: 'dir',
  }),
  state_dict_path: str({
    help: "with --inference_only: evaluate this model file only (seqrec's, or a PyTorch state dict: the reference's .pth, or one converted to safetensors)",
    arg: 'file',
  }),
  inference_only: bool({ help: 'only evaluate --state_dict_path, as the reference', default: false }),
  overwrite: bool({
    help:
      'train into a --train_dir that already holds a run (its results.json, model or last.safetensors), replacing it; without it such a ' +
      'directory is refused, so a finished run is never lost by accident',
    default: false,
  }),
  resume: bool({
    help:
      'continue the run in --train_dir from its last.safetensors (written atomically after every epoch: weights, Adam state, sampler/dropout ' +
      'RNG states, best-so-far and early-stopping state); at most the interrupted epoch is lost, and with the same flags the result is ' +
      'identical to an uninterrupted run. --num_epochs may be raised; other hyper-parameters must match',
    default: false,
  }),
  keep_ranks: bool({
    help:
      "also write ranks.tsv to --train_dir: each evaluated user's 0-based rank of the held-out item, per protocol and split (one-item " +
      'protocols: leave-one-out, --cold), for paired comparisons between runs (seqrec compare)',
    default: false,
  }),
  threads: int({
    help:
      'threads for the WebAssembly kernels (default: os.availableParallelism()): large GEMMs (split by rows/columns/batch) and packed ' +
      'attention (split by sequences) run on worker threads sharing the memory, each call only while splitting measures faster than one ' +
      'thread; small calls always stay on one thread. Results are bit-identical for any N; 1 = single-threaded, no workers. No effect ' +
      'with SEQREC_KERNELS=reference',
    min: 1,
    max: 256,
  }),
  reference_log: bool({
    help:
      'write the reference\'s log.txt ("epoch (val_ndcg, val_hr) (test_ndcg, test_hr)" lines) beside log.jsonl: test is then evaluated ' +
      "too at every valid evaluation, with the final test's protocol and negatives (never used to pick the model; not counted as training " +
      'time). false skips both',
    default: true,
  }),
  device: str({
    help:
      "the reference's --device: cpu, cuda, cuda:N or mps, accepted so that its commands run as written; seqrec always computes on the CPU " +
      '(WebAssembly SIMD kernels on --threads threads) and says so for any other device',
    arg: 'name',
  }),
})
  .rule((c) =>
    c.device !== undefined && !/^(cpu|cuda(:\d+)?|mps)$/.test(c.device)
      ? ['device', `expected cpu, cuda, cuda:N or mps, got ${JSON.stringify(c.device)}`]
      : undefined,
  )
  .rule((c, name) => (c.overwrite && c.resume ? ['overwrite', `cannot be combined with ${name('resume')}`] : undefined))
  .rule((c, name) => (c.inferenceOnly && c.stateDictPath === undefined ? ['inference_only', `needs ${name('state_dict_path')}`] : undefined))
  .rule((c, name) => (c.inferenceOnly && c.resume ? ['resume', `cannot be combined with ${name('inference_only')}`] : undefined))
  .rule((c, name) =>
    !c.inferenceOnly && c.stateDictPath !== undefined
      ? ['state_dict_path', `without ${name('inference_only')}: use ${name('resume')} to continue a run in ${name('train_dir')}`]
      : undefined,
  );

export type RunConfig = ConfigOf<typeof runOptions.options>;

/** The training loop's options with the model's own defaults. */
export function trainingOptionsFor(spec: AnyModelSpec): typeof trainingOptions {
  return spec.learning.kind === 'gradient' ? trainingOptions.withDefaults(spec.learning.trainingDefaults ?? {}) : trainingOptions;
}
