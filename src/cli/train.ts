import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { UserError } from './errors.js';
import { addSnakeOption, snakeValue } from './data.js';
import {
  addDatasetOptions,
  boolFlag,
  addEvalOptions,
  addHyperOptions,
  addModelOption,
  datasetName,
  evalFlagsFrom,
  loadSplitFrom,
  trainOptionsFrom,
  type EvalFlags,
  type LoadedSplit,
  type Opts,
} from './options.js';
import { Rng } from '../engine/rng.js';
import { evaluateFullRanking, evaluateSampled } from '../eval/protocols.js';
import type { Scorer } from '../eval/types.js';
import type { Split } from '../data/types.js';
import { detectModel, getModel, modelNames, type ModelSpec, type TrainedModel } from '../models/registry.js';
import { writeFileAtomic } from '../train/atomic.js';
import { formatResultsTable, toRow, writeJsonAtomic, type EvalRow, type RunResults } from '../train/results.js';

import { VERSION } from '../version.js';
export { VERSION };

/**
 * Random streams of a run, derived from --seed in a fixed order so that an evaluation gives the same
 * numbers whether it runs after `train` or alone in `eval`, and whichever protocols are selected.
 */
export interface RunRngs {
  readonly train: Rng;
  readonly sampledValid: Rng;
  readonly sampledTest: Rng;
  readonly fullValid: Rng;
  readonly fullTest: Rng;
}

export function runRngs(seed: number): RunRngs {
  const root = new Rng(seed);
  return { train: root.fork(), sampledValid: root.fork(), sampledTest: root.fork(), fullValid: root.fork(), fullTest: root.fork() };
}

function progressBar(label: string): { update(done: number, total: number): void; stop(): void } {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {value}/{total} users`, stream: process.stderr, clearOnComplete: true, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.update(done);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** Runs the selected protocols on valid then test; one row per (protocol, split). */
export async function runEvaluations(scorer: Scorer, split: Split, flags: EvalFlags): Promise<EvalRow[]> {
  const rngs = runRngs(flags.seed);
  const rows: EvalRow[] = [];
  for (const protocol of flags.protocols) {
    for (const which of ['valid', 'test'] as const) {
      const bar = progressBar(`${protocol} ${which}`);
      const t0 = performance.now();
      try {
        const common = { which, ks: flags.ks, evalUsers: flags.evalUsers, batchSize: flags.evalBatchSize, onProgress: bar.update };
        const res =
          protocol === 'sampled'
            ? await evaluateSampled(scorer, split, {
                ...common,
                numNegatives: flags.numNegatives,
                rng: which === 'valid' ? rngs.sampledValid : rngs.sampledTest,
              })
            : await evaluateFullRanking(scorer, split, { ...common, rng: which === 'valid' ? rngs.fullValid : rngs.fullTest });
        rows.push(toRow(protocol, which, res, Math.round(performance.now() - t0) / 1000));
      } finally {
        bar.stop();
      }
    }
  }
  return rows;
}

/** The spec named by --model (required or detected from the file's bytes). */
export function resolveSpec(name: string | undefined, bytes?: Uint8Array, path?: string): ModelSpec {
  if (name !== undefined) {
    const spec = getModel(name);
    if (!spec) throw new UserError(`--model: unknown model "${name}" (available: ${modelNames().join(', ')})`);
    return spec;
  }
  if (bytes) {
    const spec = detectModel(bytes);
    if (!spec) throw new UserError(`${path}: not a model file seqrec knows (${modelNames().join(', ')}); pass --model`);
    return spec;
  }
  throw new UserError(`--model is required (available: ${modelNames().join(', ')})`);
}

/** Reads and parses a model file; errors name the file. */
export async function loadModelFile(path: string, modelName?: string): Promise<{ spec: ModelSpec; model: TrainedModel }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`--state_dict_path: cannot read ${path}${code ? ` (${code})` : ''}`);
  }
  const spec = resolveSpec(modelName, bytes, path);
  try {
    return { spec, model: spec.load(bytes) };
  } catch (err) {
    throw new UserError(`${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The model's items must be the dataset's (same dense ids for the same original ids). */
export function checkSameItems(model: TrainedModel, loaded: LoadedSplit): void {
  const a = model.items.toRaw;
  const b = loaded.data.items.toRaw;
  if (a.length !== b.length) {
    throw new UserError(`--dataset ${loaded.path}: ${b.length - 1} items, the model was trained on ${a.length - 1}`);
  }
  for (let i = 1; i < a.length; i++) {
    if (a[i] !== b[i]) throw new UserError(`--dataset ${loaded.path}: item ${i} is "${b[i]}" there and "${a[i]}" in the model`);
  }
}

export function evaluationHeader(loaded: LoadedSplit, flags: EvalFlags): RunResults['evaluation'] {
  return {
    protocols: flags.protocols,
    ks: flags.ks,
    numNegatives: flags.numNegatives,
    evalUsers: flags.evalUsers ?? null,
    seed: flags.seed,
  };
}

export function datasetHeader(loaded: LoadedSplit): RunResults['dataset'] {
  let interactions = 0;
  for (let u = 1; u <= loaded.data.userNum; u++) interactions += loaded.data.seqs[u].length;
  let evaluable = 0;
  for (let u = 1; u <= loaded.data.userNum; u++) if (loaded.split.test[u] !== 0) evaluable++;
  return {
    path: loaded.path,
    users: loaded.data.userNum,
    items: loaded.data.itemNum,
    interactions,
    evaluableUsers: evaluable,
    minInteractions: loaded.minInteractions,
  };
}

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

interface TrainingBar {
  update(done: number, total: number, label: string, info?: Readonly<Record<string, number>>): void;
  log(line: string): void;
  stop(): void;
}

/** One progress bar per epoch on a terminal (loss, lr, steps/s); plain log lines otherwise. */
function trainingBar(): TrainingBar {
  if (!process.stderr.isTTY) return { update() {}, log, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format: '{label} [{bar}] {value}/{total} steps | loss {loss} | lr {lr} | {sps} steps/s',
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let running = false;
  let currentLabel = '';
  return {
    update(done, total, label, info) {
      const payload = {
        label,
        loss: info?.loss?.toFixed(4) ?? '-',
        lr: info?.lr?.toPrecision(3) ?? '-',
        sps: info?.stepsPerSecond?.toFixed(1) ?? '-',
      };
      if (!running || label !== currentLabel) {
        if (running) bar.stop();
        bar.start(total, done, payload);
        running = true;
        currentLabel = label;
      } else {
        bar.update(done, payload);
      }
    },
    log(line) {
      if (running) {
        bar.stop();
        running = false;
      }
      log(line);
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}

/**
 * Model selection as the reference does it: every --eval_every epochs (and after the last one) the model
 * is evaluated on valid (sampled protocol, the same negatives each time); the best valid NDCG@10 is kept
 * on disk, and the final test numbers are those of that best checkpoint.
 */
class BestCheckpoint {
  private bestNdcg = -Infinity;
  private bestEpoch = 0;
  private saved = false;
  private readonly evalEvery: number;
  private readonly numEpochs: number | undefined;

  constructor(
    private readonly spec: ModelSpec,
    private readonly path: string,
    private readonly split: Split,
    private readonly flags: EvalFlags,
    options: Readonly<Record<string, unknown>>,
    private readonly logLine: (line: string) => void,
  ) {
    this.evalEvery = options.evalEvery === undefined ? 20 : Number(options.evalEvery);
    if (!(Number.isInteger(this.evalEvery) && this.evalEvery >= 1)) throw new UserError(`--eval_every: expected a positive integer, got ${this.evalEvery}`);
    this.numEpochs = options.numEpochs === undefined ? undefined : Number(options.numEpochs);
  }

  async onEpoch(info: { epoch: number; loss: number; model: TrainedModel; last?: boolean }, bar: TrainingBar): Promise<boolean> {
    const last = info.last ?? info.epoch === this.numEpochs;
    if (info.epoch % this.evalEvery !== 0 && !last) return false;
    const k = this.flags.ks.includes(10) ? 10 : this.flags.ks[0];
    const res = await evaluateSampled(info.model.scorer, this.split, {
      which: 'valid',
      ks: this.flags.ks,
      evalUsers: this.flags.evalUsers,
      numNegatives: this.flags.numNegatives,
      batchSize: this.flags.evalBatchSize,
      rng: runRngs(this.flags.seed).sampledValid,
    });
    const ndcg = res.metrics[`NDCG@${k}`];
    const improved = ndcg > this.bestNdcg;
    bar.log(
      `epoch ${info.epoch}: valid NDCG@${k} ${ndcg.toFixed(4)}, HR@${k} ${res.metrics[`HR@${k}`].toFixed(4)}` +
        (improved ? ' (best so far, saved)' : ` (best ${this.bestNdcg.toFixed(4)} at epoch ${this.bestEpoch})`),
    );
    if (improved) {
      this.bestNdcg = ndcg;
      this.bestEpoch = info.epoch;
      await writeFileAtomic(this.path, info.model.serialize());
      this.saved = true;
    }
    return false;
  }

  /** The model to report: the best saved checkpoint, or the final model when none was evaluated. */
  async finish(finalModel: TrainedModel): Promise<TrainedModel> {
    if (!this.saved) {
      await writeFileAtomic(this.path, finalModel.serialize());
      return finalModel;
    }
    this.logLine(`best valid epoch: ${this.bestEpoch}`);
    return this.spec.load(await readFile(this.path));
  }
}

export function register(program: Command): void {
  const cmd = program
    .command('train')
    .description(
      'train a model on --dataset (leave-one-out split), evaluate it on valid and test, print a results table, ' +
        'and write the model and results.json into --train_dir',
    );
  addModelOption(cmd, true);
  addDatasetOptions(cmd);
  addSnakeOption(cmd, 'train_dir', 'dir', 'output folder (default runs/<dataset>_<model>)');
  addSnakeOption(cmd, 'state_dict_path', 'file', 'start from this model file (with --inference_only: evaluate it only)');
  cmd.addOption(new Option('--inference_only [bool]', 'only evaluate --state_dict_path, as the reference (true|false; bare flag = true)'));
  cmd.addOption(new Option('--inference-only [bool]').hideHelp());
  addEvalOptions(cmd);
  addHyperOptions(cmd);
  cmd.action(async (opts: Opts) => {
    const modelName = snakeValue(opts, 'model');
    const spec = resolveSpec(modelName);
    const flags = evalFlagsFrom(opts);
    const trainOptions = trainOptionsFrom(opts);
    const inferenceOnly = boolFlag(opts, 'inference_only') ?? false;
    const statePath = snakeValue(opts, 'state_dict_path');
    if (inferenceOnly && !statePath) throw new UserError('--inference_only needs --state_dict_path');

    const loaded = await loadSplitFrom(opts);
    const trainDir = resolve(snakeValue(opts, 'train_dir') ?? join('runs', `${datasetName(loaded.path)}_${spec.name}`));
    log(`dataset ${loaded.path}: ${loaded.data.userNum} users, ${loaded.data.itemNum} items`);

    let model: TrainedModel;
    let modelPath: string;
    let trainSeconds: number | undefined;
    if (inferenceOnly) {
      model = (await loadModelFile(statePath!, spec.name)).model;
      checkSameItems(model, loaded);
      modelPath = resolve(statePath!);
    } else {
      if (statePath) throw new UserError(`--state_dict_path without --inference_only: resuming is not supported by ${spec.name}`);
      const rngs = runRngs(flags.seed);
      await mkdir(trainDir, { recursive: true });
      modelPath = join(trainDir, spec.fileName);
      const t0 = performance.now();
      const selection = new BestCheckpoint(spec, modelPath, loaded.split, flags, trainOptions, log);
      const bar = trainingBar();
      try {
        model = await spec.train(loaded.split, trainOptions, {
          rng: rngs.train,
          log: (line) => bar.log(line),
          progress: bar.update,
          onEpoch: (info) => selection.onEpoch(info, bar),
        });
      } finally {
        bar.stop();
      }
      trainSeconds = Math.round(performance.now() - t0) / 1000;
      const best = await selection.finish(model);
      model = best;
      log(`saved ${modelPath}`);
    }

    const rows = await runEvaluations(model.scorer, loaded.split, flags);
    process.stdout.write(`${formatResultsTable(rows)}\n`);
    const results: RunResults = {
      seqrec: VERSION,
      command: inferenceOnly ? 'train --inference_only' : 'train',
      model: spec.name,
      modelSettings: model.describe(),
      dataset: datasetHeader(loaded),
      evaluation: evaluationHeader(loaded, flags),
      results: rows,
      modelPath,
      ...(trainSeconds === undefined ? {} : { trainSeconds }),
      createdAt: new Date().toISOString(),
    };
    const resultsPath = join(trainDir, 'results.json');
    await writeJsonAtomic(resultsPath, results);
    log(`wrote ${resultsPath}`);
  });
}
