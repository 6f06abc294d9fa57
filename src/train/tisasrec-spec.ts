/**
 * `--model tisasrec`: hyper-parameters (TiSASRec.pytorch main.py's flags and defaults), the time
 * preprocessing, training with Adam on the reference sampler, and checkpoints in the reference's
 * state_dict layout.
 *
 * Times: the dataset's raw timestamps are turned into TiSASRec's scaled times by a transform fitted on
 * the whole dataset (data/time.ts: relative to the global minimum, per user divided by the user's
 * smallest non-zero gap, rounded, +1; optionally after dividing by --time_unit). The sampler draws
 * from the scaled split; the evaluation code hands the raw times of the split to the model's Scorer,
 * which applies the same transform (fitted per user), so evaluation sees exactly what the reference's
 * evaluate() sees. The checkpoint stores the transform (metadata `time_scaling`), the users' histories
 * and their raw times (`user_histories`, `user_times`), so `--inference_only`, `eval` and
 * `recommend --user` reproduce it.
 */
import { UserError } from '../cli/errors.js';
import { TrainSampler } from '../data/sampler.js';
import { fitTimeScaling, scaleSplitTimes, TIME_UNITS, type TimeScaling } from '../data/time.js';
import type { IdMap, Split } from '../data/types.js';
import { parseSafetensors } from '../engine/safetensors.js';
import { TiSASRec, type TiSASRecConfig } from '../models/tisasrec.js';
import { CHECKPOINT_FORMAT, decodeCheckpoint, encodeCheckpointBytes, CheckpointError } from '../models/checkpoint-format.js';
import type { ModelSpec, TrainedModel, TrainOptions } from '../models/registry.js';
import { Adam } from '../optim/adam.js';
import { checkpointExtras, withWeights } from './checkpoint-extras.js';
import { mhcFromOptions, mhcMetadata, mhcOptionsFromCheckpoint } from './mhc-options.js';
import { checkAtMost, checkCommonHyper, checkTrainingSizes, configOrCheckpointError } from './config-checks.js';
import { checkLoopOptions, describeTrainingPlan, trainAllEpochs, userSamplingFrom } from './loop.js';

/**
 * TiSASRec.pytorch main.py's defaults, except num_epochs (201 there: seqrec evaluates every
 * --eval_every 20 epochs and after the last, so 200 ends on an evaluation). Note l2_emb multiplies
 * Σ W² here (the fixtures' convention, as SASRec), where the reference multiplies the unsquared norm.
 */
export const TISASREC_DEFAULTS = {
  batchSize: 128,
  lr: 0.001,
  maxlen: 50,
  hiddenUnits: 50,
  numBlocks: 2,
  numHeads: 1,
  dropoutRate: 0.2,
  l2Emb: 0.00005,
  numEpochs: 200,
  timeSpan: 256,
  timeUnit: 'none',
} as const;

export interface TiSASRecRunConfig extends TiSASRecConfig {
  batchSize: number;
  lr: number;
  numEpochs: number;
  /** a key of TIME_UNITS */
  timeUnit: string;
}

type NumKey = Exclude<keyof typeof TISASREC_DEFAULTS, 'timeUnit'>;

function num(options: TrainOptions, key: NumKey): number {
  const v = options[key];
  return v === undefined ? TISASREC_DEFAULTS[key] : Number(v);
}

/** Validated hyper-parameters; errors are one line naming the flag. */
export function tisasrecConfig(options: TrainOptions, itemNum: number): TiSASRecRunConfig {
  const mhc = mhcFromOptions(options);
  if (options.normFirst === true && !mhc) throw new UserError('--norm_first: TiSASRec has no pre-LN variant (TiSASRec.pytorch has none); only its mHC variant (--mhc) uses pre-LN blocks');
  if (options.useTime === false) throw new UserError('--use_time false contradicts --model tisasrec (use --model sasrec to ignore time)');
  const timeUnit = options.timeUnit === undefined ? TISASREC_DEFAULTS.timeUnit : String(options.timeUnit);
  if (!Object.hasOwn(TIME_UNITS, timeUnit)) throw new UserError(`--time_unit: expected one of ${Object.keys(TIME_UNITS).join(', ')}, got "${timeUnit}"`);
  const cfg: TiSASRecRunConfig = {
    itemNum,
    maxlen: num(options, 'maxlen'),
    hiddenUnits: num(options, 'hiddenUnits'),
    numBlocks: num(options, 'numBlocks'),
    numHeads: num(options, 'numHeads'),
    dropoutRate: num(options, 'dropoutRate'),
    l2Emb: num(options, 'l2Emb'),
    timeSpan: num(options, 'timeSpan'),
    timeUnit,
    normFirst: mhc !== null,
    mhc,
    batchSize: num(options, 'batchSize'),
    lr: num(options, 'lr'),
    numEpochs: num(options, 'numEpochs'),
  };
  checkCommonHyper(cfg);
  if (!(Number.isInteger(cfg.timeSpan) && cfg.timeSpan >= 0)) throw new UserError(`--time_span: expected an integer ≥ 0, got ${cfg.timeSpan}`);
  checkAtMost('time_span', cfg.timeSpan, 1_000_000);
  return cfg;
}

/** The checkpoint's `config` metadata: the reference's flag names. */
function configMetadata(cfg: TiSASRecRunConfig): Record<string, unknown> {
  return {
    model: 'tisasrec',
    item_num: cfg.itemNum,
    maxlen: cfg.maxlen,
    hidden_units: cfg.hiddenUnits,
    num_blocks: cfg.numBlocks,
    num_heads: cfg.numHeads,
    dropout_rate: cfg.dropoutRate,
    l2_emb: cfg.l2Emb ?? 0,
    time_span: cfg.timeSpan,
    time_unit: cfg.timeUnit,
    batch_size: cfg.batchSize,
    lr: cfg.lr,
    num_epochs: cfg.numEpochs,
    ...mhcMetadata(cfg.mhc),
  };
}

interface ScalingJson {
  unit: number;
  global_min: number;
  user_min: number[];
  user_scale: number[];
}

function scalingToJson(s: TimeScaling): string {
  const j: ScalingJson = { unit: s.unit, global_min: s.globalMin, user_min: Array.from(s.userMin), user_scale: Array.from(s.userScale) };
  return JSON.stringify(j);
}

function scalingFromJson(text: string): TimeScaling {
  let j: Partial<ScalingJson>;
  try {
    j = JSON.parse(text) as Partial<ScalingJson>;
  } catch {
    throw new CheckpointError('metadata "time_scaling" is not valid JSON');
  }
  const finite = (x: unknown) => typeof x === 'number' && Number.isFinite(x);
  if (!finite(j.unit) || !(j.unit! > 0) || !finite(j.global_min) || !Array.isArray(j.user_min) || !Array.isArray(j.user_scale) ||
      j.user_min.length !== j.user_scale.length || !j.user_min.every(finite) || !j.user_scale.every((x) => finite(x) && x > 0)) {
    throw new CheckpointError('metadata "time_scaling" is malformed');
  }
  return { unit: j.unit!, globalMin: j.global_min!, userMin: Float64Array.from(j.user_min), userScale: Float64Array.from(j.user_scale) };
}

class TrainedTiSASRec implements TrainedModel {
  readonly name = 'tisasrec';
  constructor(
    readonly scorer: TiSASRec,
    readonly runConfig: TiSASRecRunConfig,
    readonly items: IdMap,
    readonly users?: IdMap,
    readonly histories?: readonly Int32Array[],
    readonly historyTimes?: readonly Float64Array[],
  ) {}

  describe(): Record<string, unknown> {
    return configMetadata(this.runConfig);
  }

  dispose(): void {
    this.scorer.dispose();
  }

  serialize(): Uint8Array {
    const extra: Record<string, string> = {};
    if (this.histories) extra.user_histories = JSON.stringify(this.histories.map((h) => Array.from(h)));
    if (this.historyTimes) extra.user_times = JSON.stringify(this.historyTimes.map((t) => Array.from(t)));
    if (this.scorer.timeScaling) extra.time_scaling = scalingToJson(this.scorer.timeScaling);
    return encodeCheckpointBytes({
      tensors: this.scorer.stateDict(),
      config: configMetadata(this.runConfig),
      idMaps: this.users ? { users: this.users.toRaw, items: this.items.toRaw } : undefined,
      extra,
    });
  }
}

/** Hyper-parameters of a checkpoint: its config metadata, else inferred from tensor shapes + options. */
function configFromCheckpoint(
  tensors: ReadonlyMap<string, { shape: number[] }>,
  config: Record<string, unknown> | undefined,
  options: TrainOptions,
): TiSASRecRunConfig {
  const emb = tensors.get('item_emb.weight');
  const absK = tensors.get('abs_pos_K_emb.weight');
  const timeK = tensors.get('time_matrix_K_emb.weight');
  if (!emb || !absK || !timeK || emb.shape.length !== 2 || absK.shape.length !== 2 || timeK.shape.length !== 2) {
    throw new CheckpointError('not a TiSASRec checkpoint: item_emb.weight / abs_pos_K_emb.weight / time_matrix_K_emb.weight missing or not 2-D');
  }
  let blocks = 0;
  while (tensors.has(`attention_layers.${blocks}.Q_w.weight`)) blocks++;
  const fromFile: Record<string, unknown> = config
    ? {
        maxlen: config.maxlen, hiddenUnits: config.hidden_units, numBlocks: config.num_blocks, numHeads: config.num_heads,
        dropoutRate: config.dropout_rate, l2Emb: config.l2_emb, timeSpan: config.time_span, timeUnit: config.time_unit,
        batchSize: config.batch_size, lr: config.lr, numEpochs: config.num_epochs,
      }
    : { maxlen: absK.shape[0], hiddenUnits: emb.shape[1], numBlocks: blocks, timeSpan: timeK.shape[0] - 1 };
  Object.assign(fromFile, mhcOptionsFromCheckpoint(tensors, config, options));
  const merged: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fromFile)) if (v !== undefined && v !== null) merged[k] = v;
  // flags may add what a foreign file cannot say (num_heads, dropout), never contradict the shapes
  for (const k of ['numHeads', 'dropoutRate'] as const) if (options[k] !== undefined && config === undefined) merged[k] = options[k];
  const cfg = configOrCheckpointError(() => tisasrecConfig(merged, emb.shape[0] - 1), config !== undefined);
  if (cfg.hiddenUnits !== emb.shape[1] || cfg.maxlen !== absK.shape[0] || cfg.numBlocks !== blocks || cfg.timeSpan !== timeK.shape[0] - 1) {
    throw new CheckpointError(
      `config says hidden_units ${cfg.hiddenUnits}, maxlen ${cfg.maxlen}, num_blocks ${cfg.numBlocks}, time_span ${cfg.timeSpan} ` +
        `but the tensors have ${emb.shape[1]}, ${absK.shape[0]}, ${blocks}, ${timeK.shape[0] - 1}`,
    );
  }
  return cfg;
}

function looksLikeTiSASRec(bytes: Uint8Array): boolean {
  try {
    const { tensors, metadata } = parseSafetensors(bytes);
    if (metadata.format === CHECKPOINT_FORMAT && metadata.config) {
      return (JSON.parse(metadata.config) as { model?: unknown }).model === 'tisasrec';
    }
    return tensors.has('item_emb.weight') && tensors.has('abs_pos_K_emb.weight') && tensors.has('time_matrix_K_emb.weight');
  } catch {
    return false;
  }
}

/** The validated hyper-parameters, refusing a dataset without timestamps. */
function checkedConfig(split: Split, options: TrainOptions): TiSASRecRunConfig {
  const cfg = tisasrecConfig(options, split.data.itemNum);
  checkTrainingSizes(cfg);
  if (!split.trainTimes || !split.data.times) {
    throw new UserError('--model tisasrec: the dataset file has no timestamps (TiSASRec needs "user item time" lines, or --time_col for CSV/TSV/JSONL)');
  }
  return cfg;
}

export const tisasrecSpec: ModelSpec = {
  name: 'tisasrec',
  description: 'TiSASRec (Li, Wang & McAuley, 2020): self-attention with absolute positions and relative time intervals',
  fileName: 'tisasrec.safetensors',

  checkOptions(split: Split, options: TrainOptions) {
    checkLoopOptions(options, checkedConfig(split, options).lr);
  },

  async train(split: Split, options: TrainOptions, hooks) {
    const cfg = checkedConfig(split, options);
    const scaling = fitTimeScaling(split.data, TIME_UNITS[cfg.timeUnit]);
    const scaled = scaleSplitTimes(split, scaling);
    const model = new TiSASRec(cfg, { rng: hooks.rng.fork() });
    model.timeScaling = scaling;
    const optimizer = new Adam(model.namedParameters(), { lr: cfg.lr, betas: [0.9, 0.98], eps: 1e-8 });
    const sampler = new TrainSampler(scaled, { batchSize: cfg.batchSize, maxlen: cfg.maxlen, userSampling: userSamplingFrom(options), rng: hooks.rng.fork() });
    const trained = new TrainedTiSASRec(model, cfg, split.data.items, split.data.users, split.data.seqs, split.data.times);
    hooks.log?.(
      `TiSASRec: d ${cfg.hiddenUnits}, ${cfg.numBlocks} blocks, ${cfg.numHeads} heads, maxlen ${cfg.maxlen}, time_span ${cfg.timeSpan}, ` +
        `time_unit ${cfg.timeUnit}, dropout ${cfg.dropoutRate}, l2_emb ${cfg.l2Emb}, lr ${cfg.lr}, batch ${cfg.batchSize}, ` +
        describeTrainingPlan(cfg.numEpochs, sampler, cfg.mhc),
    );
    return trainAllEpochs(model, optimizer, sampler, cfg.numEpochs, cfg.lr, options, hooks, trained);
  },

  sniff: looksLikeTiSASRec,

  load(bytes: Uint8Array, options: TrainOptions = {}) {
    const ckpt = decodeCheckpoint(bytes, 'checkpoint');
    const cfg = configFromCheckpoint(ckpt.tensors, ckpt.config, options);
    // everything that can refuse the file comes before the model: a refused file leaves no wasm memory taken
    const { items, users, histories, historyTimes } = checkpointExtras(ckpt, cfg.itemNum);
    const timeScaling = ckpt.extra.time_scaling ? scalingFromJson(ckpt.extra.time_scaling) : undefined;
    const model = withWeights(new TiSASRec(cfg, { seed: 0 }), ckpt.tensors);
    if (timeScaling) model.timeScaling = timeScaling;
    return new TrainedTiSASRec(model, cfg, items, users, histories, historyTimes);
  },
};
