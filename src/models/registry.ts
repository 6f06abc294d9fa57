import type { IdMap, Split } from '../data/types.js';
import type { Rng } from '../engine/rng.js';
import type { Scorer } from '../eval/types.js';
import type { LoadedCheckpoint } from './checkpoint-format.js';
import { popSpec } from './pop.js';

/**
 * The model registry: `--model <name>` → a ModelSpec. The CLI (train, eval, recommend) only talks to
 * this interface, so a new model (sasrec, tisasrec, …) plugs in by adding its spec to BUILTIN_MODELS
 * below (or calling registerModel), without touching the CLI.
 *
 * Files are bytes here: src/models imports no Node built-ins, the CLI reads and writes them.
 */

/** Hyper-parameters and run options, as the CLI parsed them (camelCase of the reference's flag names:
 * maxlen, batchSize, lr, hiddenUnits, numBlocks, numHeads, dropoutRate, l2Emb, numEpochs, normFirst,
 * timeSpan, …). A flag the user did not give is absent: each model applies its own defaults. */
export type TrainOptions = Readonly<Record<string, unknown>>;

/** What a training run may report to and ask of its caller. All optional except the rng. */
export interface TrainHooks {
  /** the run's single source of randomness */
  readonly rng: Rng;
  /** a line of human-readable log */
  log?(line: string): void;
  /** progress inside an epoch / phase; info carries live figures such as loss, lr and steps/s */
  progress?(done: number, total: number, label: string, info?: Readonly<Record<string, number>>): void;
  /**
   * Called after each epoch of an iterative model with the model as it stands; the caller may evaluate
   * it (early stopping) and save a checkpoint. Resolving to true stops training.
   */
  onEpoch?(info: EpochInfo): void | boolean | Promise<void | boolean>;
  /**
   * Called once before the first epoch, after the model has checked its options and (with resumeFrom)
   * that the checkpoint fits: the caller may now write to the run directory.
   */
  onStart?(): void | Promise<void>;
  /**
   * Resume: a checkpoint written from `EpochInfo.checkpoint()` (model weights, optimizer moments,
   * `train_state`); training continues after its epoch with the same sampler, dropout and schedule state.
   */
  readonly resumeFrom?: LoadedCheckpoint;
}

/** What an iterative model reports after each epoch. */
export interface EpochInfo {
  epoch: number;
  /** mean training loss of the epoch */
  loss: number;
  model: TrainedModel;
  /** true after the last epoch */
  last?: boolean;
  /** learning rate of the epoch's last step */
  lr?: number;
  /** wall-clock seconds of the epoch */
  seconds?: number;
  /** optimizer steps taken so far in the run */
  steps?: number;
  /**
   * The full training state after this epoch as checkpoint bytes (model + optimizer + `train_state`),
   * for `resumeFrom`; `callerState` (JSON) is stored with it as `train_state.caller`. The chunks view
   * live buffers: write them before training continues.
   */
  checkpoint?(callerState?: unknown): Uint8Array[];
}

/** A trained or loaded model: a Scorer plus what is needed to save it and to recommend with original ids. */
export interface TrainedModel {
  /** registry name, e.g. 'pop' */
  readonly name: string;
  readonly scorer: Scorer;
  /** item id map of the data it was trained on (dense 1..itemNum ↔ original ids) */
  readonly items: IdMap;
  /** user id map, when the model file carries it */
  readonly users?: IdMap;
  /** histories[u]: user u's known items in time order (dense ids), when the model file carries them */
  readonly histories?: readonly Int32Array[];
  /** historyTimes[u]: the raw timestamps of histories[u], when the model uses time and its file carries them */
  readonly historyTimes?: readonly Float64Array[];
  /** hyper-parameters / settings, for results.json */
  describe(): Record<string, unknown>;
  /** the model file's bytes */
  serialize(): Uint8Array;
  /**
   * Hands the model's kernel-backend memory back (parameters, gradients, layout buffers); the model
   * must not be used afterwards. Models whose memory the garbage collector manages need none.
   */
  dispose?(): void;
}

export interface ModelSpec {
  /** the --model name */
  readonly name: string;
  readonly description: string;
  /** file name written into --train_dir, e.g. 'poprec.json' */
  readonly fileName: string;
  train(split: Split, options: TrainOptions, hooks: TrainHooks): Promise<TrainedModel>;
  /** Throws a UserError for options train() would refuse, without building or training anything. */
  checkOptions?(split: Split, options: TrainOptions): void;
  /** true when `bytes` look like this model's file (used when --model is not given) */
  sniff(bytes: Uint8Array): boolean;
  /**
   * parses a model file; throws Error with a one-line message when it is not valid. `options` fill in
   * hyper-parameters a foreign file (e.g. a converted PyTorch state_dict) cannot carry.
   */
  load(bytes: Uint8Array, options?: TrainOptions): TrainedModel;
}

/** Built-in models. Add sasrecSpec / tisasrecSpec here when they exist. */
const BUILTIN_MODELS: readonly ModelSpec[] = [popSpec];

const registry = new Map<string, ModelSpec>();
for (const spec of BUILTIN_MODELS) registry.set(spec.name, spec);

/** Adds (or replaces) a model. */
export function registerModel(spec: ModelSpec): void {
  registry.set(spec.name, spec);
}

export function modelNames(): string[] {
  return [...registry.keys()];
}

/** The spec for `name`, or undefined. */
export function getModel(name: string): ModelSpec | undefined {
  return registry.get(name);
}

/** The spec whose sniff() accepts the file, or undefined. */
export function detectModel(bytes: Uint8Array): ModelSpec | undefined {
  for (const spec of registry.values()) if (spec.sniff(bytes)) return spec;
  return undefined;
}
