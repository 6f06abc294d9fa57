import { checkAtMost } from '../train/config-checks.js';
import { Option, type Command } from 'commander';
import { basename } from 'node:path';
import { UserError } from './errors.js';
import { addFormatOptions, addKcoreOptions, addSnakeOption, intFlag, loadOptionsFrom, snakeValue } from './data.js';
import { bundledDatasetPath, leaveOneOut, loadDataset, requireEvaluableUsers } from '../data/index.js';
import type { Interactions, Split } from '../data/types.js';
import { checkKs } from '../eval/metrics.js';
import { modelNames } from '../models/registry.js';
import type { TrainOptions } from '../models/registry.js';

/**
 * Flag definitions shared by train / eval / recommend. Names are the reference's snake_case ones
 * (`--train_dir`), each with a hidden kebab-case alias (`--train-dir`); read them with snakeValue().
 */

export type Opts = Record<string, unknown>;

// ---- dataset ---------------------------------------------------------------------------------------

export function addDatasetOptions(cmd: Command): Command {
  addSnakeOption(cmd, 'dataset', 'file', 'interaction file (default: the bundled Amazon Games dataset)');
  addFormatOptions(cmd);
  addKcoreOptions(cmd);
  addSnakeOption(
    cmd,
    'min_interactions',
    'n',
    'leave-one-out: users with fewer interactions stay in train and are not evaluated (default 3; the SASRec.pytorch reference uses 4)',
  );
  return cmd;
}

export interface LoadedSplit {
  readonly path: string;
  readonly data: Interactions;
  readonly split: Split;
  readonly minInteractions: number;
}

/** The --dataset path, or the bundled dataset. */
export function datasetPathFrom(opts: Opts): string {
  const path = snakeValue(opts, 'dataset');
  if (path !== undefined) return path;
  try {
    return bundledDatasetPath();
  } catch (err) {
    throw new UserError(`--dataset is required (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** Loads --dataset (with format / k-core flags) and splits it leave-one-out. */
export async function loadSplitFrom(opts: Opts): Promise<LoadedSplit> {
  const path = datasetPathFrom(opts);
  const minInteractions = intFlag(opts, 'min_interactions', 3) ?? 3;
  const data = await loadDataset(path, loadOptionsFrom(opts));
  const split = leaveOneOut(data, minInteractions);
  requireEvaluableUsers(split, path);
  return { path, data, split, minInteractions };
}

/** Dataset name for the default run folder: the file name without extensions (Video.txt.gz → Video). */
export function datasetName(path: string): string {
  const b = basename(path);
  const stem = b.replace(/\.gz$/i, '').replace(/\.[^.]*$/, '');
  return stem || b;
}

// ---- model -----------------------------------------------------------------------------------------

export function addModelOption(cmd: Command, required: boolean): Command {
  cmd.addOption(new Option('--model <name>', `model: ${modelNames().join(' | ')}${required ? '' : ' (default: detected from the file)'}`));
  return cmd;
}

// ---- evaluation ------------------------------------------------------------------------------------

export type ProtocolChoice = 'sampled' | 'full' | 'both';

export interface EvalFlags {
  readonly protocols: Array<'sampled' | 'full'>;
  readonly ks: number[];
  readonly evalUsers?: number;
  readonly numNegatives: number;
  readonly evalBatchSize?: number;
  readonly seed: number;
}

export function addEvalOptions(cmd: Command): Command {
  addSnakeOption(cmd, 'eval_protocol', 'name', 'sampled (the paper: 100 random negatives) | full (rank all items) | both (default sampled)');
  addSnakeOption(cmd, 'eval_users', 'n', 'evaluate a random sample of N user ids, as the reference does with 10000 (default: all users)');
  addSnakeOption(cmd, 'ks', 'list', 'cut-offs for HR@K and NDCG@K, comma-separated (default 10)');
  addSnakeOption(cmd, 'num_negatives', 'n', 'negatives per user in the sampled protocol (default 100)');
  addSnakeOption(cmd, 'eval_batch_size', 'n', 'users per scoring call (default 256 sampled, 128 full)');
  addSnakeOption(cmd, 'seed', 'n', 'random seed of the run (default 42)');
  return cmd;
}

export function parseKs(text: string): number[] {
  const ks = text
    .split(/[,\s]+/)
    .filter((s) => s !== '')
    .map((s) => {
      if (!/^\d+$/.test(s)) throw new UserError(`--ks: expected comma-separated positive integers, got "${text}"`);
      return Number(s);
    });
  try {
    checkKs(ks);
  } catch (err) {
    throw new UserError(`--ks: ${err instanceof Error ? err.message : String(err)} ("${text}")`);
  }
  return ks;
}

export function evalFlagsFrom(opts: Opts): EvalFlags {
  const p = snakeValue(opts, 'eval_protocol') ?? 'sampled';
  if (p !== 'sampled' && p !== 'full' && p !== 'both') {
    throw new UserError(`--eval_protocol: expected sampled, full or both, got "${p}"`);
  }
  const protocols: Array<'sampled' | 'full'> = p === 'both' ? ['sampled', 'full'] : [p];
  const ksText = snakeValue(opts, 'ks');
  const numNegatives = intFlag(opts, 'num_negatives', 1) ?? 100;
  const evalBatchSize = intFlag(opts, 'eval_batch_size', 1);
  // candidate and score buffers are eval_batch_size × (num_negatives + 1) floats
  checkAtMost('num_negatives', numNegatives, 100_000);
  if (evalBatchSize !== undefined) checkAtMost('eval_batch_size', evalBatchSize, 65_536);
  return {
    protocols,
    ks: ksText === undefined ? [10] : parseKs(ksText),
    evalUsers: intFlag(opts, 'eval_users', 1),
    numNegatives,
    evalBatchSize,
    seed: intFlag(opts, 'seed', 0, 2 ** 32 - 1) ?? 42, // Rng seeds are uint32
  };
}

// ---- training hyper-parameters (the reference's main.py flags) ---------------------------------------

type Kind = 'int' | 'float' | 'bool' | 'string';

/**
 * snake_case flag → kind, help, and the models that read it (default: the attention models, sasrec and
 * tisasrec). Defaults belong to each model (see its spec), so none are set here.
 */
export const HYPER_FLAGS: ReadonlyArray<readonly [snake: string, kind: Kind, help: string, models?: readonly string[]]> = [
  ['batch_size', 'int', 'training batch size (sasrec default 128)'],
  ['lr', 'float', 'learning rate (default 0.001)'],
  ['maxlen', 'int', 'maximum sequence length (sasrec default 200, tisasrec 50)'],
  ['hidden_units', 'int', 'embedding size (default 50)'],
  ['num_blocks', 'int', 'self-attention blocks (default 2)'],
  ['num_heads', 'int', 'attention heads (default 1)'],
  ['dropout_rate', 'float', 'dropout (default 0.2; the paper uses 0.5 on Amazon data)'],
  ['l2_emb', 'float', 'L2 penalty l2_emb·ΣW² on embeddings (sasrec default 0; tisasrec 0.00005, over item, position and interval embeddings)'],
  ['num_epochs', 'int', 'training epochs (sasrec default 200)'],
  ['eval_every', 'int', 'evaluate on valid every N epochs and keep the best checkpoint (default 20, as the reference)'],
  ['norm_first', 'bool', 'pre-LN blocks, as the reference --norm_first', ['sasrec', 'tisasrec']],
  ['use_time', 'bool', 'the reference\'s switch to TiSASRec: here use --model tisasrec (with --model sasrec this flag is an error)'],
  ['time_span', 'int', 'TiSASRec: clip relative time intervals at this many (per-user scaled) units (default 256)', ['tisasrec']],
  ['time_unit', 'string', 'TiSASRec: none (default, as the reference) | seconds | minutes | hours | days: raw unix-second timestamps are divided by this unit and rounded BEFORE the reference\'s per-user scaling (each user\'s times divided by the user\'s smallest non-zero gap). The unit cancels in that division, so it acts through the rounding: events within one unit become simultaneous and a user\'s time step is at least one unit (e.g. days: intervals count in multiples of the user\'s shortest gap between visit days)', ['tisasrec']],
  ['mhc', 'bool', 'manifold-constrained hyper-connections (mHC, arXiv 2512.24880): n residual streams mixed by doubly stochastic matrices; implies pre-LN blocks (off by default)'],
  ['mhc_expansion_rate', 'int', 'mHC: number of residual streams (default 4; giving it turns mHC on)'],
  ['mhc_sinkhorn_iter', 'int', 'mHC: Sinkhorn-Knopp iterations (default 20)'],
  ['mhc_init_gate', 'float', 'mHC: initial value of the gates α (default 0.01)'],
  ['lr_decay_step', 'int', 'step decay: multiply the learning rate by --lr_decay_rate every N optimizer steps (batches, not epochs; PyTorch StepLR stepped per batch): lr = lr·rate^floor(step/N)'],
  ['lr_decay_rate', 'float', 'step decay factor (with --lr_decay_step), e.g. 0.5'],
  ['warmup_steps', 'int', 'linear warm-up over the first W optimizer steps: lr·(step+1)/W, then lr; composes with step decay (multiplied; the decay clock starts at step 0)'],
  ['num_workers', 'int', 'batch sampling threads: 0 (default) samples on the main thread between steps; N ≥ 1 samples on one worker thread up to 3 batches ahead (the random stream is sequential, so N > 1 is the same single producer). Same seed = the same batches and run for any N, --resume included. Sampling is only 1-4% of a step (bench/sampling-share.ts: SASRec Games maxlen 50, ML-100k maxlen 200; TiSASRec < 1%), so a worker can save at most that, and only with a spare core: with --threads using every core it competes with the compute threads (on the 2-core reference machine no gain was measurable, hence 0). Try 1 with --threads below the core count'],
  ['user_sampling', 'string', "which user each batch row trains on: shuffle (default) = a random order redrawn every pass over the users; cycle = SASRec.pytorch's sampler, which tests counter % usernum == 0 only at batch starts, so with a batch size coprime to the user count ONE order is cycled through for batch_size passes (Games: ~128 epochs); uniform = TiSASRec.pytorch's sampler, each row an independent uniformly random user. cycle makes the Games training loss fall more slowly (BENCHMARKS.md); use the matching one to reproduce a reference's curves"],
  ['pop_count_on', 'string', 'pop: count popularity on train (default; no leakage) or all (train+valid+test, leaks the held-out items; for comparison only)', ['pop']],
];

const ATTENTION_MODELS = ['sasrec', 'tisasrec'] as const;

/**
 * The given hyper-parameter flags that `model` does not read (e.g. --time_span with sasrec, --maxlen
 * with pop), as snake_case names: the caller notes them, since a flag with no effect is usually a
 * mistake (a grid crossing models with common flags gives them on purpose, so this is no error).
 */
export function flagsIgnoredBy(model: string, options: TrainOptions): string[] {
  return HYPER_FLAGS.filter(([snake, , , models]) => options[camel(snake)] !== undefined && !(models ?? ATTENTION_MODELS).includes(model)).map(([snake]) => snake);
}

export function addHyperOptions(cmd: Command): Command {
  for (const [snake, kind, help] of HYPER_FLAGS) {
    if (kind === 'bool') {
      cmd.addOption(new Option(`--${snake} [bool]`, `${help} (true|false; bare flag = true)`));
      if (snake.includes('_')) cmd.addOption(new Option(`--${snake.replace(/_/g, '-')} [bool]`).hideHelp());
    } else {
      addSnakeOption(cmd, snake, kind === 'string' ? 'value' : 'n', help);
    }
  }
  return cmd;
}

function boolValue(snake: string, v: unknown): boolean {
  if (v === true) return true;
  const s = String(v).toLowerCase();
  if (s === 'true' || s === '1') return true;
  if (s === 'false' || s === '0') return false;
  throw new UserError(`--${snake}: expected true or false, got "${String(v)}"`);
}

/** A `--flag [bool]` option: undefined when absent, true for the bare flag, else parsed true/false. */
export function boolFlag(opts: Opts, snake: string): boolean | undefined {
  const v = opts[snake] ?? opts[camel(snake)];
  return v === undefined ? undefined : boolValue(snake, v);
}

function camel(snake: string): string {
  return snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The hyper-parameters the user gave, typed, under camelCase keys (absent flags are left out). */
export function trainOptionsFrom(opts: Opts): TrainOptions {
  const out: Record<string, unknown> = {};
  for (const [snake, kind] of HYPER_FLAGS) {
    const raw = opts[snake] ?? opts[camel(snake)];
    if (raw === undefined) continue;
    const key = camel(snake);
    if (kind === 'bool') out[key] = boolValue(snake, raw);
    else if (kind === 'string') out[key] = String(raw);
    else {
      const s = String(raw).trim();
      const ok = kind === 'int' ? /^-?\d+$/.test(s) : s !== '' && Number.isFinite(Number(s));
      if (!ok) throw new UserError(`--${snake}: expected ${kind === 'int' ? 'an integer' : 'a number'}, got "${String(raw)}"`);
      out[key] = Number(s);
    }
  }
  return out;
}
