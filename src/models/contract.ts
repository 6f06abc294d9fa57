/**
 * The model contract. Every model, neural or not, is registered as a ModelSpec: its name, its
 * options (one declaration each: flags, defaults, limits, help), how it learns, and how its file is
 * recognised and read. What it learns, or loads, is a Model: a Scorer of query batches (eval/types)
 * with the catalogue it was trained on, which describes its settings, saves itself and frees its
 * memory. Recommending top-K is the same for every model (eval/recommend.ts, over scoreAll).
 *
 * Two ways to learn:
 * - `fit`: the model computes itself from the data (counting, closed form, alternating least squares);
 * - `gradient`: the model builds a Network that only computes a loss on a batch; the training loop
 *   (train/) owns everything else: zero-grad, backward, the optimizer step, the learning-rate
 *   schedule, evaluation, best-checkpoint selection, early stopping and resume.
 */
import { UserError } from '../core/errors.js';
import type { ConfigOf, OptionGroup, Options } from '../core/options.js';
import type { BatchSource, UserSampling } from '../data/sampler.js';
import type { IdMap, Interactions, SideFeatures, Split, TrainBatch } from '../data/types.js';
import type { Rng } from '../engine/rng.js';
import type { Tensor } from '../engine/tensor.js';
import type { Scorer } from '../eval/types.js';
import type { Module } from '../nn/module.js';

/** What a model knows of the data it was trained on, to recommend with original ids. */
export interface Catalog {
  /** dense item ids 1..itemNum ↔ original ids */
  readonly items: IdMap;
  /** user ids, when the model file carries them */
  readonly users?: IdMap;
  /** histories[u]: user u's known items in time order (dense ids), when the model file carries them */
  readonly histories?: readonly Int32Array[];
  /** historyTimes[u]: the raw timestamps of histories[u], when the model uses time and its file carries them */
  readonly historyTimes?: readonly Float64Array[];
}

/** A trained or loaded model. */
export interface Model extends Catalog {
  /** its registry name, e.g. 'pop' */
  readonly name: string;
  /** scores query batches (what evaluation and recommendation call) */
  readonly scorer: Scorer;
  /** its settings, as written into results.json and the model file */
  describe(): Record<string, unknown>;
  /** the model file's bytes */
  serialize(): Uint8Array;
  /**
   * Hands the model's kernel-backend memory back (parameters, layout buffers); the model must not
   * be used afterwards. A no-op for models whose memory the garbage collector manages.
   */
  dispose(): void;
}

/** What a learning model may report to its caller. */
export interface Reporter {
  /** a line of human-readable log */
  log?(line: string): void;
}

/**
 * Runs a pure function over ranges of indices on other threads: the function `fn` exported by the
 * module at `module` (a URL: the model's own `import.meta.url`) is called as `fn(input, start, end)`,
 * and its results come back in the ranges' order. The training loop gives one when it has threads
 * (train/tasks.ts); where none is given (a browser, one thread) a model runs the ranges itself.
 */
export interface TaskRunner {
  /** how many ranges run at once */
  readonly threads: number;
  run<R>(
    module: string,
    fn: string,
    input: unknown,
    ranges: ReadonlyArray<readonly [number, number]>,
    onDone?: (finished: number) => void,
  ): Promise<R[]>;
}

/** What a fitted model is given besides the data: its random stream, a log, and maybe threads. */
export interface FitContext extends Reporter {
  readonly rng: Rng;
  readonly tasks?: TaskRunner;
}

/** A model that computes itself from the data. */
export interface Fitting<C> {
  readonly kind: 'fit';
  /** refuses data the model cannot learn from, before anything is computed or written */
  check?(split: Split, config: C): void;
  fit(split: Split, config: C, context: FitContext): Model | Promise<Model>;
}

/** The network of a gradient-trained model: a module that computes its training loss on a batch. */
export interface Network extends Module {
  /** the loss of one batch on the current tape (the training loop runs backward and the optimizer) */
  loss(batch: TrainBatch): Tensor;
  /** the stream its dropout masks come from (saved and restored by resume) */
  readonly dropoutRng: Rng;
}

/** How the training loop wants its batches (its options). */
export interface BatchSettings {
  readonly batchSize: number;
  readonly userSampling: UserSampling;
}

/** The optimisers the training loop offers (learn/optimizer.ts builds them). */
export const OPTIMIZERS = ['adam', 'adagrad'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** Training settings a model file records with the weights (provenance, and the resume check). */
export interface TrainingRecord {
  readonly batchSize: number;
  readonly lr: number;
  readonly numEpochs: number;
  readonly optimizer: OptimizerName;
  /** Adagrad's momentum (0 for Adam) */
  readonly momentum: number;
}

/** The training settings of the field's reference code (SASRec.pytorch), when a model sets no others. */
export const DEFAULT_TRAINING_RECORD: TrainingRecord = { batchSize: 128, lr: 0.001, numEpochs: 200, optimizer: 'adam', momentum: 0 };

/** A freshly built gradient model. */
export interface GradientSetup {
  readonly network: Network;
  /** the training batches (data/sampler.ts TrainSampler, or the model's own), which the loop draws and checkpoints */
  readonly sampler: BatchSource;
  /** the model the network is, once trained (id maps, histories, file format) */
  readonly model: Model;
  /** one line describing the model and its sizes, for the training log */
  readonly summary: string;
}

/** A model trained by gradient descent on sampled batches. */
export interface GradientLearning<C> {
  readonly kind: 'gradient';
  /** defaults of the training options that differ for this model */
  readonly trainingDefaults?: Partial<TrainingRecord>;
  /** refuses data the model cannot train on, before anything is built or written */
  check?(split: Split, config: C): void;
  /**
   * A network with fresh weights, and its batches. Randomness comes from `rng` in a fixed order
   * (the network's initialisation and dropout from rng.fork(), then the sampler's from the next
   * rng.fork()), so that a seed gives the same run.
   */
  build(split: Split, config: C, rng: Rng, batches: BatchSettings, record: TrainingRecord): GradientSetup;
}

/**
 * A network that predicts a 0/1 label (a click) per (user, item) pair, trained pointwise on given
 * labels (`--task ctr`): its loss reads TrainBatch.users, .pos (the items) and .labels.
 */
export interface PointwiseNetwork extends Network {
  /** the logits of the pairs (users[m], items[m]), in evaluation mode */
  predict(users: Int32Array, items: Int32Array): Float32Array;
  /** one line describing it, for the training log */
  readonly summary: string;
}

/** A registered model: `--model <name>`. */
export interface ModelSpec<O extends Options = Options> {
  readonly name: string;
  readonly description: string;
  /** the model file's name in a run directory, e.g. 'sasrec.safetensors' */
  readonly fileName: string;
  /** the model's own options (hyper-parameters), with their defaults */
  readonly options: OptionGroup<O>;
  readonly learning: Fitting<ConfigOf<O>> | GradientLearning<ConfigOf<O>>;
  /** the side features it reads (`--user_features`, `--item_features`; in `split.features`); none when absent */
  readonly sideFeatures?: readonly ('users' | 'items')[];
  /**
   * What it can score when held out of training (`--cold users:F`, `--cold items:F`, data/cold.ts):
   * from their side features, their first events, or (pop) popularity; other models are refused
   */
  readonly coldStart?: readonly ('users' | 'items')[];
  /** its click-through network on fresh weights (`--task ctr`: labels from ratings); models without one are refused */
  pointwise?(data: Interactions, features: SideFeatures | undefined, config: ConfigOf<O>, rng: Rng): PointwiseNetwork;
  /** true when `bytes` look like this model's file (used when the model is not named) */
  sniff(bytes: Uint8Array): boolean;
  /**
   * Parses a model file; throws a one-line error when it is not valid. `overrides` are options a
   * foreign file (a converted PyTorch state_dict) cannot carry, such as num_heads.
   */
  load(bytes: Uint8Array, overrides?: Readonly<Record<string, unknown>>): Model;
}

/** Any registered model, whatever its options. */
export type AnyModelSpec = ModelSpec<Options>;

/**
 * One history's self-attention weights, as the model computes them at inference. The history is its
 * last `length` items (at most maxlen), left-padded to maxlen as for prediction.
 * `items[layer][head]` is [length × length]: row i is the query at the history's i-th item, column j
 * the key at its j-th item (zero for j > i, causal). `padding[layer][head][i]` is the weight query i
 * gives the padding keys together (the SASRec reference does not mask them); each row of items plus
 * its padding share sums to 1.
 */
export interface AttentionMap {
  readonly length: number;
  readonly items: readonly (readonly Float32Array[])[];
  readonly padding: readonly (readonly Float32Array[])[];
}

/** A model whose predictions come from causal self-attention over the history (SASRec). */
export interface AttentionSource {
  readonly numLayers: number;
  readonly numHeads: number;
  readonly maxlen: number;
  /** the weights for each history (dense item ids, time order) */
  attentionWeights(histories: readonly Int32Array[]): AttentionMap[];
}

/** Whether `x` (a model's scorer) can give its self-attention weights. */
export function isAttentionSource(x: unknown): x is AttentionSource {
  return typeof x === 'object' && x !== null && typeof (x as { attentionWeights?: unknown }).attentionWeights === 'function';
}

/** The model's attention weights, or a one-line error for a model without self-attention maps. */
export function attentionSourceOf(model: Model): AttentionSource {
  if (isAttentionSource(model.scorer)) return model.scorer;
  throw new UserError(`model '${model.name}' has no self-attention weights to show (use a sasrec model)`);
}
