/**
 * A training request: every option group of `seqrec train` parsed once into one typed value, from
 * CLI flags, a grid file's entries or a library call alike. Errors name the option as its source
 * spells it; options the chosen model does not read are listed (a note, not an error: a grid
 * crosses models with common flags).
 */
import { quote, UserError } from '../core/errors.js';
import { asFlag, bool, defineOptions, str, unreadKeys, type Naming, type OptionGroup } from '../core/options.js';
import { parseCold } from '../data/cold.js';
import { datasetOptions, type DatasetConfig, type FeatureConfig, featureOptions, type SplitConfig, splitOptions } from '../data/options.js';
import { evalOptions, seedOptions, type EvalConfig } from '../eval/options.js';
import { RANKS_NEED_ONE_ITEM } from '../eval/run.js';
import type { AnyModelSpec } from '../models/contract.js';
import { allModels, getModel, modelNames } from '../models/registry.js';
import { runOptions, trainingOptions, trainingOptionsFor, type RunConfig, type TrainingConfig } from '../learn/options.js';

export { trainingOptionsFor };

/** The model of a training run: `--model`, or the reference's switches (SASRec by default, TiSASRec with --use_time). */
export const modelOption = defineOptions({
  model: str({ help: `the model: ${modelNames().join(' | ')} (default sasrec, or tisasrec with --use_time, as the reference)`, arg: 'name' }),
  use_time: bool({ help: "the reference's switch to TiSASRec: without --model it selects tisasrec; with --model it must be tisasrec" }),
  no_time: bool({ help: "the reference's switch to SASRec: without --model it selects sasrec (the default anyway); contradicts --model tisasrec" }),
}).rule((c, name) => (c.useTime === true && c.noTime === true ? ['no_time', `cannot be combined with ${name('use_time')}`] : undefined));

/**
 * The spec of the run's model: `--model`, checked against the reference's switches --use_time and
 * --no_time, else what they select (sasrec by default). `naming` names the options in errors.
 */
export function resolveTrainModel(raw: object, naming: Naming = asFlag): AnyModelSpec {
  const { model, useTime, noTime } = modelOption.parse(raw, naming);
  if (model === undefined) return resolveModel(useTime === true ? 'tisasrec' : 'sasrec', naming);
  const spec = resolveModel(model, naming);
  const timed = spec.name === 'tisasrec';
  if (useTime === true && !timed) {
    throw new UserError(`${naming('use_time')}: ${naming('model')} ${model} ignores time; use ${naming('model')} tisasrec for time-aware training`);
  }
  if (timed && (useTime === false || noTime === true)) {
    const flag = useTime === false ? `${naming('use_time')} false` : naming('no_time');
    throw new UserError(`${flag} contradicts ${naming('model')} tisasrec (use ${naming('model')} sasrec to ignore time)`);
  }
  return spec;
}

/** The spec of a model name; `naming` names the option in the error. */
export function resolveModel(name: string | undefined, naming: Naming = asFlag): AnyModelSpec {
  const available = `available: ${modelNames().join(', ')}`;
  if (name === undefined) throw new UserError(`${naming('model')} is required (${available})`);
  const spec = getModel(name);
  if (!spec) throw new UserError(`${naming('model')}: unknown model ${quote(name)} (${available})`);
  return spec;
}

export interface TrainRequest {
  readonly spec: AnyModelSpec;
  /** the model's own options, parsed with its defaults */
  readonly modelOptions: Record<string, unknown>;
  readonly training: TrainingConfig;
  readonly evaluation: EvalConfig;
  readonly seed: number;
  readonly dataset: DatasetConfig & SplitConfig & Partial<FeatureConfig>;
  readonly run: RunConfig;
  /** the given options this model does not read (snake_case) */
  readonly ignored: string[];
  /** whether --model (or --use_time / --no_time) named the model, rather than the default */
  readonly modelNamed: boolean;
}

/** The option groups of the command besides the models' own, in --help order. */
export const TRAIN_COMMAND_GROUPS: readonly OptionGroup[] = [
  modelOption,
  datasetOptions,
  featureOptions,
  splitOptions,
  runOptions,
  evalOptions,
  seedOptions,
  trainingOptions,
];

/** Every option `seqrec train` reads: the command's groups, then each model's. */
export function trainCommandGroups(): OptionGroup[] {
  return [...TRAIN_COMMAND_GROUPS, ...allModels().map((m) => m.options)];
}

/** The loop's options that model selection reads for every model, fitted ones included. */
const loopOnlyForSelection = trainingOptions.pick('eval_every', 'patience', 'min_delta', 'select_protocol');

/** The snake_case names of every option `seqrec train` reads. */
export function trainOptionNames(): string[] {
  return [...new Set(trainCommandGroups().flatMap((g) => g.names))];
}

/** The groups that `spec` reads beyond the command's own: its options, the loop's, its feature files'. */
function groupsReadBy(spec: AnyModelSpec): OptionGroup[] {
  const groups = spec.learning.kind === 'gradient' ? [spec.options, trainingOptions] : [spec.options];
  const reads = spec.sideFeatures ?? [];
  if (reads.includes('users')) groups.push(featureOptions.pick('user_features', 'user_features_columns'));
  if (reads.includes('items')) groups.push(featureOptions.pick('item_features', 'item_features_columns'));
  return groups;
}

/**
 * `--cold`: the model must score what is held out (ModelSpec.coldStart), and a model that scores it from
 * side features must be given them (`given`: which feature files or tables there are).
 */
export function checkColdStart(
  spec: AnyModelSpec,
  coldText: string | undefined,
  given: { readonly users: boolean; readonly items: boolean },
  naming: Naming,
): void {
  const cold = coldText === undefined ? undefined : parseCold(coldText);
  if (!cold) return;
  const what = `${naming('cold')} ${coldText}`;
  if (!spec.coldStart?.includes(cold.kind)) {
    const able = allModels()
      .filter((m) => m.coldStart?.includes(cold.kind))
      .map((m) => m.name);
    throw new UserError(
      `${what}: ${naming('model')} ${spec.name} cannot score ${cold.kind} held out of training (models that can: ${able.join(', ')})`,
    );
  }
  if (spec.sideFeatures?.includes(cold.kind) && !given[cold.kind]) {
    const flag = naming(cold.kind === 'users' ? 'user_features' : 'item_features');
    throw new UserError(`${what}: ${naming('model')} ${spec.name} scores held-out ${cold.kind} from their features: give ${flag}`);
  }
}

/**
 * The typed request from raw option values under any spelling. Keys no group of the command reads
 * are an error; keys of other models (or the loop's, for a fitted model) are listed in `ignored`.
 */
export function parseTrainRequest(raw: Readonly<Record<string, unknown>>, naming: Naming = asFlag): TrainRequest {
  const unknown = unreadKeys(raw, trainCommandGroups());
  if (unknown.length > 0) throw new UserError(`unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map(naming).join(', ')}`);
  const run = runOptions.parse(raw, naming);
  const spec = resolveTrainModel(raw, naming);
  const given = datasetOptions.with(splitOptions).with(featureOptions).parse(raw, naming);
  // feature files the model does not read are not read at all (the run notes them as ignored)
  const reads = spec.sideFeatures ?? [];
  const dataset = {
    ...given,
    ...(reads.includes('users') ? {} : { userFeatures: undefined, userFeaturesColumns: undefined }),
    ...(reads.includes('items') ? {} : { itemFeatures: undefined, itemFeaturesColumns: undefined }),
  };
  if (dataset.task === 'ctr' && !spec.pointwise) {
    const able = allModels()
      .filter((m) => m.pointwise)
      .map((m) => m.name);
    throw new UserError(`${naming('task')} ctr: ${naming('model')} ${spec.name} cannot predict labels (models that can: ${able.join(', ')})`);
  }
  if (run.keepRanks && (dataset.task === 'ctr' || dataset.split === 'random')) {
    throw new UserError(`${naming('keep_ranks')}: ${dataset.task === 'ctr' ? `${naming('task')} ctr has no ranks` : RANKS_NEED_ONE_ITEM}`);
  }
  checkColdStart(spec, dataset.cold, { users: dataset.userFeatures !== undefined, items: dataset.itemFeatures !== undefined }, naming);
  const evaluation = evalOptions.parse(raw, naming);
  const { seed } = seedOptions.parse(raw, naming);
  const modelOptions = spec.options.parse(raw, naming) as Record<string, unknown>;
  const training = trainingOptionsFor(spec).parse(raw, naming);
  const ignored = unreadKeys(raw, [
    ...TRAIN_COMMAND_GROUPS.filter((g) => g !== trainingOptions && g !== featureOptions),
    ...groupsReadBy(spec),
    loopOnlyForSelection,
  ]);
  const { model, useTime, noTime } = modelOption.parse(raw, naming);
  const modelNamed = model !== undefined || useTime !== undefined || noTime !== undefined;
  return { spec, modelOptions, training, evaluation, seed, dataset, run, ignored, modelNamed };
}
