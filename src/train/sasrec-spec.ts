/**
 * `--model sasrec`: hyper-parameters (the reference main.py's flags and defaults), training with Adam
 * on the reference sampler, and checkpoints in the reference's state_dict layout.
 */
import { UserError } from '../cli/errors.js';
import { TrainSampler } from '../data/sampler.js';
import type { IdMap, Split } from '../data/types.js';
import { parseSafetensors } from '../engine/safetensors.js';
import { SASRec, type SASRecConfig } from '../models/sasrec.js';
import { CHECKPOINT_FORMAT, decodeCheckpoint, encodeCheckpointBytes, CheckpointError } from '../models/checkpoint-format.js';
import type { ModelSpec, TrainedModel, TrainOptions } from '../models/registry.js';
import { Adam } from '../optim/adam.js';
import { checkpointExtras, withWeights } from './checkpoint-extras.js';
import { mhcFromOptions, mhcMetadata, mhcOptionsFromCheckpoint } from './mhc-options.js';
import { checkCommonHyper, checkTrainingSizes, configOrCheckpointError } from './config-checks.js';
import { checkLoopOptions, describeTrainingPlan, trainAllEpochs, userSamplingFrom } from './loop.js';

/** The reference's flag defaults (SASRec.pytorch main.py), except num_epochs (1000 there, for ML-1M). */
export const SASREC_DEFAULTS = {
  batchSize: 128,
  lr: 0.001,
  maxlen: 200,
  hiddenUnits: 50,
  numBlocks: 2,
  numHeads: 1,
  dropoutRate: 0.2,
  l2Emb: 0,
  numEpochs: 200,
  normFirst: false,
} as const;

export interface SASRecRunConfig extends SASRecConfig {
  batchSize: number;
  lr: number;
  numEpochs: number;
}

function num(options: TrainOptions, key: keyof typeof SASREC_DEFAULTS): number {
  const v = options[key];
  return v === undefined ? (SASREC_DEFAULTS[key] as number) : Number(v);
}

/** Validated hyper-parameters; errors name the flag. */
export function sasrecConfig(options: TrainOptions, itemNum: number): SASRecRunConfig {
  // the reference's --use_time selects TiSASRec; here that is a model of its own
  if (options.useTime === true) throw new UserError('--use_time: SASRec ignores time; use --model tisasrec for time-aware training');
  const mhc = mhcFromOptions(options);
  const cfg: SASRecRunConfig = {
    itemNum,
    maxlen: num(options, 'maxlen'),
    hiddenUnits: num(options, 'hiddenUnits'),
    numBlocks: num(options, 'numBlocks'),
    numHeads: num(options, 'numHeads'),
    dropoutRate: num(options, 'dropoutRate'),
    l2Emb: num(options, 'l2Emb'),
    normFirst: mhc !== null || (options.normFirst === undefined ? SASREC_DEFAULTS.normFirst : Boolean(options.normFirst)),
    mhc,
    batchSize: num(options, 'batchSize'),
    lr: num(options, 'lr'),
    numEpochs: num(options, 'numEpochs'),
  };
  checkCommonHyper(cfg);
  return cfg;
}

/** The checkpoint's `config` metadata: the reference's flag names. */
function configMetadata(cfg: SASRecRunConfig): Record<string, unknown> {
  return {
    model: 'sasrec',
    item_num: cfg.itemNum,
    maxlen: cfg.maxlen,
    hidden_units: cfg.hiddenUnits,
    num_blocks: cfg.numBlocks,
    num_heads: cfg.numHeads,
    dropout_rate: cfg.dropoutRate,
    norm_first: cfg.normFirst ?? false,
    l2_emb: cfg.l2Emb ?? 0,
    batch_size: cfg.batchSize,
    lr: cfg.lr,
    num_epochs: cfg.numEpochs,
    ...mhcMetadata(cfg.mhc),
  };
}

class TrainedSASRec implements TrainedModel {
  readonly name = 'sasrec';
  constructor(
    readonly scorer: SASRec,
    readonly runConfig: SASRecRunConfig,
    readonly items: IdMap,
    readonly users?: IdMap,
    readonly histories?: readonly Int32Array[],
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
): SASRecRunConfig {
  const emb = tensors.get('item_emb.weight');
  const pos = tensors.get('pos_emb.weight');
  if (!emb || !pos || emb.shape.length !== 2 || pos.shape.length !== 2) {
    throw new CheckpointError('not a SASRec checkpoint: item_emb.weight / pos_emb.weight missing or not 2-D');
  }
  let blocks = 0;
  while (tensors.has(`attention_layers.${blocks}.in_proj_weight`)) blocks++;
  const fromFile: Record<string, unknown> = config
    ? {
        maxlen: config.maxlen, hiddenUnits: config.hidden_units, numBlocks: config.num_blocks, numHeads: config.num_heads,
        dropoutRate: config.dropout_rate, normFirst: config.norm_first, l2Emb: config.l2_emb,
        batchSize: config.batch_size, lr: config.lr, numEpochs: config.num_epochs,
      }
    : { maxlen: pos.shape[0] - 1, hiddenUnits: emb.shape[1], numBlocks: blocks };
  Object.assign(fromFile, mhcOptionsFromCheckpoint(tensors, config, options));
  const merged: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fromFile)) if (v !== undefined && v !== null) merged[k] = v;
  // flags may add what a foreign file cannot say (num_heads, norm_first), never contradict the shapes
  for (const k of ['numHeads', 'normFirst', 'dropoutRate'] as const) if (options[k] !== undefined && config === undefined) merged[k] = options[k];
  const cfg = configOrCheckpointError(() => sasrecConfig(merged, emb.shape[0] - 1), config !== undefined);
  if (cfg.hiddenUnits !== emb.shape[1] || cfg.maxlen !== pos.shape[0] - 1 || cfg.numBlocks !== blocks) {
    throw new CheckpointError(
      `config says hidden_units ${cfg.hiddenUnits}, maxlen ${cfg.maxlen}, num_blocks ${cfg.numBlocks} but the tensors have ${emb.shape[1]}, ${pos.shape[0] - 1}, ${blocks}`,
    );
  }
  return cfg;
}

function looksLikeSASRec(bytes: Uint8Array): boolean {
  try {
    const { tensors, metadata } = parseSafetensors(bytes);
    if (metadata.format === CHECKPOINT_FORMAT && metadata.config) {
      return (JSON.parse(metadata.config) as { model?: unknown }).model === 'sasrec';
    }
    return tensors.has('item_emb.weight') && tensors.has('pos_emb.weight') && !tensors.has('abs_pos_K_emb.weight');
  } catch {
    return false;
  }
}

export const sasrecSpec: ModelSpec = {
  name: 'sasrec',
  description: 'SASRec (Kang & McAuley, 2018): causal self-attention over the item sequence',
  fileName: 'sasrec.safetensors',

  checkOptions(split: Split, options: TrainOptions) {
    const cfg = sasrecConfig(options, split.data.itemNum);
    checkTrainingSizes(cfg);
    checkLoopOptions(options, cfg.lr);
  },

  async train(split: Split, options: TrainOptions, hooks) {
    const cfg = sasrecConfig(options, split.data.itemNum);
    checkTrainingSizes(cfg);
    const model = new SASRec(cfg, { rng: hooks.rng.fork() });
    const optimizer = new Adam(model.namedParameters(), { lr: cfg.lr, betas: [0.9, 0.98], eps: 1e-8 });
    const sampler = new TrainSampler(split, { batchSize: cfg.batchSize, maxlen: cfg.maxlen, userSampling: userSamplingFrom(options), rng: hooks.rng.fork() });
    const trained = new TrainedSASRec(model, cfg, split.data.items, split.data.users, split.data.seqs);
    hooks.log?.(
      `SASRec: d ${cfg.hiddenUnits}, ${cfg.numBlocks} blocks, ${cfg.numHeads} heads, maxlen ${cfg.maxlen}, dropout ${cfg.dropoutRate}, ` +
        `lr ${cfg.lr}, batch ${cfg.batchSize}, ${describeTrainingPlan(cfg.numEpochs, sampler, cfg.mhc)}`,
    );
    return trainAllEpochs(model, optimizer, sampler, cfg.numEpochs, cfg.lr, options, hooks, trained);
  },

  sniff: looksLikeSASRec,

  load(bytes: Uint8Array, options: TrainOptions = {}) {
    const ckpt = decodeCheckpoint(bytes, 'checkpoint');
    const cfg = configFromCheckpoint(ckpt.tensors, ckpt.config, options);
    // everything that can refuse the file comes before the model: a refused file leaves no wasm memory taken
    const { items, users, histories } = checkpointExtras(ckpt, cfg.itemNum);
    const model = withWeights(new SASRec(cfg, { seed: 0 }), ckpt.tensors);
    return new TrainedSASRec(model, cfg, items, users, histories);
  },
};
