/**
 * The registration of a factor model (factor-network.ts: BPR-MF, FMC, FPMC, TransRec): its options
 * (maxlen and hidden_units as the self-attentive models declare them, with d = 50, the SASRec paper's
 * largest and its own; λ = l2_reg), its gradient training on TrainSampler batches with one negative
 * per position, and its model file (the tables under their names, the options in `config`, the id
 * maps and histories). A model folder gives its network and its defaults; this makes the ModelSpec.
 */
import { UserError } from '../../core/errors.js';
import { bool, camel, defineOptions, int, num, type ConfigOf, type OptionGroup } from '../../core/options.js';
import type { Split } from '../../data/types.js';
import type { ModelSpec, TrainingRecord } from '../contract.js';
import { attentionOptions } from './attention-options.js';
import { catalogOf } from './catalog.js';
import { optionsFromCheckpoint, sniffCheckpoint, trainingRecordMetadata } from './checkpoint-config.js';
import { CheckpointError, decodeCheckpoint, type LoadedCheckpoint } from './checkpoint-format.js';
import type { FactorConfig, FactorNetwork, NetworkOptions } from './factor-network.js';
import { decodeModelFeatures, encodeModelFeatures, type ModelFeatures, modelFeatures } from './feature-rows.js';
import { loadNetworkModel, lossSampler } from './gradient-model.js';
import { NetworkModel } from './network-model.js';
import { PointwiseFactorNetwork } from './pointwise-factor-network.js';

/** The options every factor model reads (each model gives its own defaults with withDefaults). */
export const factorOptions = attentionOptions.pick('maxlen', 'hidden_units').with(
  defineOptions({
    l2_reg: num({
      help:
        'λ of the per-example L2 term of the factor models (bpr, fmc, fpmc, transrec, mf, neumf; fm, ffm and two_tower on their id and feature vectors and weights): λ·Σθ² over the table rows each training ' +
        "example reads, as the papers' SGD regularises (the SASRec paper picks it from 0.0001, 0.001, 0.01, 0.1, 1)",
      default: 0,
      min: 0,
    }),
  }),
);

/** The options of the factor models trained pointwise (NCF's log loss: `objective: 'bce'`). */
export const pointwiseOptions = defineOptions({
  ncf_negatives: int({
    help: 'negatives sampled per positive for the pointwise log loss of mf, neumf and two_tower --tower_loss log (He et al. 2017: 4)',
    default: 4,
    min: 1,
    max: 1000,
  }),
});

/** The history bag of the models whose user side may read one (fm, two_tower; common/history-bags.ts). */
export const historyBagOptions = defineOptions({
  history_bag: bool({
    help:
      "fm, two_tower: the user's side also reads the mean of the history's item vectors (a table of their own): in training the " +
      'items before each position, in scoring the history given (a held-out user: its first --cold_history events); off by default',
  }),
});

export type FactorOptionDecls = typeof factorOptions.options;

export type FactorObjective = 'bpr' | 'bce' | 'inbatch_softmax';

const OBJECTIVE_LABELS: Record<FactorObjective, (negatives: number) => string> = {
  bpr: () => 'S-BPR with 1 negative',
  bce: (k) => `log loss with ${k} negatives`,
  inbatch_softmax: () => 'in-batch softmax (log-Q corrected)',
};
export type FactorOptions = ConfigOf<FactorOptionDecls>;

/** What a factor model's folder gives. */
export interface FactorModelDefinition {
  /** the registry name, e.g. 'fpmc' */
  readonly name: string;
  /** how the training log names it, e.g. 'FPMC' */
  readonly label: string;
  readonly description: string;
  readonly options: OptionGroup<FactorOptionDecls>;
  /**
   * the network with fresh weights drawn from opts.rng (or opts.seed), on the side features it reads;
   * `options`: all the options it trains with, its own among them (absent when a model file is loaded to score)
   */
  network(config: FactorConfig, opts: NetworkOptions, features: ModelFeatures, options?: Readonly<Record<string, unknown>>): FactorNetwork;
  /** the side features it reads (kept in its model file); none when absent */
  readonly sideFeatures?: readonly ('users' | 'items')[];
  /** what it scores from side features when held out of training (ModelSpec.coldStart) */
  readonly coldStart?: readonly ('users' | 'items')[];
  /** the tensor of shape [itemNum + 1, d], whose shape a model file's sizes are read from */
  readonly itemTable: string;
  /** the tensor of shape [userNum + 1, ·] (models with users only) */
  readonly userTable?: string;
  /** d from the item table's width, when that is not d itself (a field-aware model's several vectors per item) */
  hiddenUnitsOf?(itemTableWidth: number, features: ModelFeatures): number;
  /** it also predicts clicks (`--task ctr`): the network with the user's constant terms, trained pointwise */
  readonly pointwise?: boolean;
  /** its options that only ranking reads (a click row has no history, the CTR loss drops no ids): refused with `--task ctr` when set */
  readonly rankingOnly?: readonly string[];
  /**
   * its ranking objective, or the option-dependent choice of it: S-BPR with one negative (default),
   * NCF's log loss with `--ncf_negatives` (its options include pointwiseOptions), or an in-batch softmax
   * its network computes itself (the sampler then draws one negative per position, unused)
   */
  readonly objective?: FactorObjective | ((options: Readonly<Record<string, unknown>>) => FactorObjective);
  /** its own options the network's shape depends on (e.g. neumf's mlp_layers): kept in the model file's config and given back to `network` on load */
  readonly shapeOptions?: readonly string[];
}

/**
 * On a cold-start split, the ids training never reads: the users the sampler never draws (fewer than 2
 * train items: every held-out user among them) and the held-out items (never a positive nor a
 * negative). Their rows are zeroed (FactorNetwork.forgetIds), so they score from their side features
 * rather than from random initial vectors; a held-out user's id rows then follow the trained users' mean.
 */
function untrainedIds(split: Split): [Int32Array, Int32Array] {
  const users: number[] = [];
  for (let u = 1; u < split.train.length; u++) if (split.train[u].length < 2) users.push(u);
  const items: number[] = [];
  const held = split.cold?.kind === 'items' ? split.cold.held : new Uint8Array(0);
  for (let i = 1; i < held.length; i++) if (held[i] !== 0) items.push(i);
  return [Int32Array.from(users), Int32Array.from(items)];
}

/** The model file's metadata for the side features a model reads (none for a model without). */
function featuresMetadata(def: FactorModelDefinition, features: ModelFeatures): Record<string, string> {
  return def.sideFeatures ? { side_features: encodeModelFeatures(features) } : {};
}

/** The model file's `config` (sizes as the network has them: user_num 0 for a model without users). */
function metadata(
  name: string,
  sizes: Readonly<FactorConfig>,
  record: TrainingRecord,
  shape: Readonly<Record<string, unknown>> = {},
): Record<string, unknown> {
  return {
    ...shape,
    model: name,
    item_num: sizes.itemNum,
    user_num: sizes.userNum,
    maxlen: sizes.maxlen,
    hidden_units: sizes.hiddenUnits,
    l2_reg: sizes.l2Reg,
    ...trainingRecordMetadata(record),
  };
}

/** A positive integer of the model file's config, or a CheckpointError naming it. */
function configSize(def: FactorModelDefinition, ckpt: LoadedCheckpoint, key: string, table: string): number {
  const v = ckpt.config?.[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw new CheckpointError(`not a ${def.label} model file: ${table} missing and no "${key}" in its config`);
  return v;
}

/**
 * The sizes and options of the model in `ckpt`: its tensors' shapes win over its config; the config's
 * sizes serve where the model has no such table (a two-tower model whose towers read no ids).
 */
function configOf(
  def: FactorModelDefinition,
  ckpt: LoadedCheckpoint,
  features: ModelFeatures,
): { cfg: FactorConfig; options: Readonly<Record<string, unknown>> } {
  const items = ckpt.tensors.get(def.itemTable);
  if (items && (items.shape.length !== 2 || items.shape[0] < 2))
    throw new CheckpointError(`not a ${def.label} model file: ${def.itemTable} is not a 2-D table of items`);
  const itemNum = items ? items.shape[0] - 1 : configSize(def, ckpt, 'item_num', def.itemTable);
  let userNum = 0;
  if (def.userTable) {
    const users = ckpt.tensors.get(def.userTable);
    if (users && (users.shape.length < 1 || users.shape[0] < 2))
      throw new CheckpointError(`not a ${def.label} model file: ${def.userTable} has no users`);
    userNum = users ? users.shape[0] - 1 : configSize(def, ckpt, 'user_num', def.userTable);
    const ids = ckpt.idMaps?.users;
    if (ids && ids.length !== userNum + 1) {
      throw new CheckpointError(`metadata "user_ids" lists ${ids.length - 1} users but ${def.userTable} has ${userNum}`);
    }
  }
  const width = !items
    ? configSize(def, ckpt, 'hidden_units', def.itemTable)
    : def.hiddenUnitsOf
      ? def.hiddenUnitsOf(items.shape[1], features)
      : items.shape[1];
  if (!Number.isInteger(width) || width < 1)
    throw new CheckpointError(`not a ${def.label} model file: ${def.itemTable} has ${items?.shape[1]} columns`);
  const o = optionsFromCheckpoint(def.options, ckpt, { hidden_units: width }, {}, []);
  return { cfg: { itemNum, userNum, maxlen: o.maxlen, hiddenUnits: o.hiddenUnits, l2Reg: o.l2Reg }, options: o };
}

/** The values of `def.shapeOptions` in `options` (camelCase there), under their snake_case names. */
function shapeConfig(def: FactorModelDefinition, options: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries((def.shapeOptions ?? []).map((name) => [name, options[camel(name)]]));
}

/** `--model <def.name>`: trained by S-BPR on TrainSampler batches, saved as a seqrec checkpoint. */
export function factorModelSpec(def: FactorModelDefinition): ModelSpec<FactorOptionDecls> {
  return {
    name: def.name,
    description: def.description,
    fileName: `${def.name}.safetensors`,
    options: def.options,
    ...(def.sideFeatures ? { sideFeatures: def.sideFeatures } : {}),
    ...(def.coldStart ? { coldStart: def.coldStart } : {}),
    learning: {
      kind: 'gradient',
      build(split, options, rng, batches, record) {
        const cfg: FactorConfig = {
          itemNum: split.data.itemNum,
          userNum: split.data.userNum,
          maxlen: options.maxlen,
          hiddenUnits: options.hiddenUnits,
          l2Reg: options.l2Reg,
        };
        const objective = typeof def.objective === 'function' ? def.objective(options) : (def.objective ?? 'bpr');
        if (objective === 'bce') cfg.negatives = Number((options as Readonly<Record<string, unknown>>).ncfNegatives);
        const features = modelFeatures(split.features, def.sideFeatures ?? []);
        const network = def.network(cfg, { rng: rng.fork() }, features, options);
        if (split.cold) network.forgetIds(...untrainedIds(split));
        const negatives = cfg.negatives ?? 1;
        const sampler = lossSampler(split, batches, cfg.maxlen, rng.fork(), { negatives, sharedNegatives: false });

        const users = network.userNum > 0 ? `, ${network.userNum} users` : '';
        return {
          network,
          sampler,
          model: new NetworkModel(def.name, network, metadata(def.name, network, record, shapeConfig(def, options)), catalogOf(split, false), () =>
            featuresMetadata(def, features),
          ),
          summary: `${def.label}: d ${cfg.hiddenUnits}, l2_reg ${cfg.l2Reg}, ${OBJECTIVE_LABELS[objective](negatives)}, maxlen ${cfg.maxlen}${users}`,
        };
      },
    },
    ...(def.pointwise
      ? {
          pointwise(data, sideFeatures, options, rng) {
            for (const name of def.rankingOnly ?? []) {
              const v = (options as Readonly<Record<string, unknown>>)[camel(name)];
              if (v !== undefined && v !== false && v !== 0) throw new UserError(`--${name}: not with --task ctr (it is read by ranking only)`);
            }
            const cfg: FactorConfig = {
              itemNum: data.itemNum,
              userNum: data.userNum,
              maxlen: 1,
              hiddenUnits: options.hiddenUnits,
              l2Reg: options.l2Reg,
            };
            const features = modelFeatures(sideFeatures, def.sideFeatures ?? []);
            return new PointwiseFactorNetwork(def.network(cfg, { rng: rng.fork() }, features), features.users, def.label);
          },
        }
      : {}),
    sniff: (bytes) => sniffCheckpoint(bytes, def.name, () => false),
    load(bytes) {
      const ckpt = decodeCheckpoint(bytes);
      if (!ckpt.config) throw new CheckpointError(`not a seqrec ${def.label} model file (no "config" metadata)`);
      const features = def.sideFeatures ? decodeModelFeatures(ckpt.extra.side_features) : {};
      const { cfg, options } = configOf(def, ckpt, features);
      return loadNetworkModel(
        def.name,
        ckpt,
        cfg.itemNum,
        () => def.network(cfg, { seed: 0 }, features, options),
        (record) => metadata(def.name, cfg, record, shapeConfig(def, options)),
        () => featuresMetadata(def, features),
      );
    },
  };
}
