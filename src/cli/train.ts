import { appendFile, readFile, rm } from 'node:fs/promises';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { UserError } from './errors.js';
import { isSameFile } from './output-paths.js';
import { checkAtMost } from '../train/config-checks.js';
import { addSnakeOption, intFlag, snakeValue } from './data.js';
import {
  addDatasetOptions,
  boolFlag,
  addEvalOptions,
  addHyperOptions,
  addModelOption,
  datasetName,
  evalFlagsFrom,
  loadSplitFrom,
  flagsIgnoredBy,
  trainOptionsFrom,
  type EvalFlags,
  type LoadedSplit,
  type Opts,
} from './options.js';
import { Rng } from '../engine/rng.js';
import { evaluateFullRanking, evaluateSampled } from '../eval/protocols.js';
import type { Scorer } from '../eval/types.js';
import type { Split } from '../data/types.js';
import { detectModel, getModel, modelNames, type EpochInfo, type ModelSpec, type TrainedModel } from '../models/registry.js';
import { loadCheckpoint, type LoadedCheckpoint } from '../train/checkpoint.js';
import { loopStateOf } from '../train/loop.js';
import { writeFileAtomic } from '../train/atomic.js';
import { formatResultsTable, toRow, writeJsonAtomic, type EvalRow, type RunResults } from '../train/results.js';

import { VERSION } from '../version.js';
import { getKernels } from '../kernels/index.js';
import { releaseScratchPools } from '../engine/tape.js';
import { defaultThreads, startKernelThreads } from '../kernels/wasm/pool.js';
import { makeDirs } from '../data/dirs.js';
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
    if (!spec) throw new UserError(`${path}: not a model file seqrec knows (${modelNames().join(', ')}), or a damaged one; with --model it says what is wrong`);
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
    throw modelFileError(path, err);
  }
}

/** A model file's load error as one line naming the file (the loaders call the file "checkpoint"). */
function modelFileError(path: string, err: unknown): UserError {
  const message = err instanceof Error ? err.message : String(err);
  return new UserError(`${path}: ${message.replace(/^checkpoint: /, '')}`);
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
function trainingBar(plain: (line: string) => void = log): TrainingBar {
  if (!process.stderr.isTTY || plain !== log) return { update() {}, log: plain, stop() {} };
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

/** Early stopping, model selection and the resume state of `train`, as stored in train_state.caller. */
interface SelectionState {
  /** best valid NDCG@k so far (null: none evaluated) */
  bestNdcg: number | null;
  bestEpoch: number;
  bestMetrics: Record<string, number> | null;
  saved: boolean;
  /** evaluations since the last gain > min_delta */
  wait: number;
  /** true once early stopping ended the run */
  stopped: boolean;
  /** training seconds so far, over all resumed pieces */
  trainSeconds: number;
  epochs: number;
  /** the data it trains on (checked on resume) */
  dataset?: { users: number; items: number; interactions: number };
}

/**
 * Model selection as the reference does it: every --eval_every epochs (and after the last one) the model
 * is evaluated on valid (sampled protocol, the same negatives each time); the best valid NDCG@10 is kept
 * on disk, and the final test numbers are those of that best checkpoint. Early stopping: after
 * --patience evaluations in a row whose valid NDCG@10 does not exceed the best so far by more than
 * --min_delta, training stops. After each epoch it appends a line to log.jsonl and writes
 * last.safetensors (the full training state, for --resume).
 */
class BestCheckpoint {
  state: SelectionState = { bestNdcg: null, bestEpoch: 0, bestMetrics: null, saved: false, wait: 0, stopped: false, trainSeconds: 0, epochs: 0 };
  private readonly evalEvery: number;
  private readonly numEpochs: number | undefined;

  constructor(
    private readonly spec: ModelSpec,
    private readonly path: string,
    private readonly files: { log: string; last: string },
    private readonly split: Split,
    private readonly flags: EvalFlags,
    options: Readonly<Record<string, unknown>>,
    private readonly stopping: { patience: number | undefined; minDelta: number },
    private readonly logLine: (line: string) => void,
  ) {
    this.evalEvery = options.evalEvery === undefined ? 20 : Number(options.evalEvery);
    if (!(Number.isInteger(this.evalEvery) && this.evalEvery >= 1)) throw new UserError(`--eval_every: expected a positive integer, got ${this.evalEvery}`);
    this.numEpochs = options.numEpochs === undefined ? undefined : Number(options.numEpochs);
  }

  get k(): number {
    return this.flags.ks.includes(10) ? 10 : this.flags.ks[0];
  }

  async onEpoch(info: EpochInfo, bar: TrainingBar): Promise<boolean> {
    const last = info.last ?? info.epoch === this.numEpochs;
    const st = this.state;
    st.epochs = info.epoch;
    st.trainSeconds += info.seconds ?? 0;
    let valid: Record<string, number> | undefined;
    if (info.epoch % this.evalEvery === 0 || last) {
      const k = this.k;
      const t0 = performance.now();
      // training's scratch memory and evaluation's one after the other, never both at once: a large
      // TiSASRec (maxlen 200, d 200) needs each alone within wasm's 4 GiB, not their sum
      releaseScratchPools();
      const res = await evaluateSampled(info.model.scorer, this.split, {
        which: 'valid',
        ks: this.flags.ks,
        evalUsers: this.flags.evalUsers,
        numNegatives: this.flags.numNegatives,
        batchSize: this.flags.evalBatchSize,
        rng: runRngs(this.flags.seed).sampledValid,
      });
      releaseScratchPools();
      st.trainSeconds += (performance.now() - t0) / 1000;
      valid = res.metrics;
      const ndcg = res.metrics[`NDCG@${k}`];
      const best = st.bestNdcg ?? -Infinity;
      const improved = ndcg > best;
      if (ndcg - best > this.stopping.minDelta) st.wait = 0;
      else st.wait++;
      bar.log(
        `epoch ${info.epoch}: valid NDCG@${k} ${ndcg.toFixed(4)}, HR@${k} ${res.metrics[`HR@${k}`].toFixed(4)}` +
          (improved ? ' (best so far, saved)' : ` (best ${best.toFixed(4)} at epoch ${st.bestEpoch})`),
      );
      if (improved) {
        st.bestNdcg = ndcg;
        st.bestEpoch = info.epoch;
        st.bestMetrics = { ...res.metrics };
        await writeFileAtomic(this.path, info.model.serialize());
        st.saved = true;
      }
      if (this.stopping.patience !== undefined && st.wait >= this.stopping.patience && !last) {
        st.stopped = true;
        bar.log(`early stopping after epoch ${info.epoch}: no valid NDCG@${k} gain > ${this.stopping.minDelta} in ${st.wait} evaluations`);
      }
    }
    const line = {
      epoch: info.epoch,
      loss: info.loss,
      lr: info.lr ?? null,
      seconds: info.seconds === undefined ? null : Math.round(info.seconds * 1000) / 1000,
      steps: info.steps ?? null,
      ...(valid ? { valid } : {}),
    };
    await appendFile(this.files.log, `${JSON.stringify(line)}\n`);
    if (info.checkpoint) await writeFileAtomic(this.files.last, info.checkpoint(this.state));
    return st.stopped;
  }

  /** The model to report: the best saved checkpoint, or the final model when none was evaluated. */
  async finish(finalModel: TrainedModel | undefined): Promise<TrainedModel> {
    if (!this.state.saved) {
      if (!finalModel) throw new UserError(`--resume: the run had finished but ${this.path} is missing`);
      await writeFileAtomic(this.path, finalModel.serialize());
      return finalModel;
    }
    this.logLine(`best valid epoch: ${this.state.bestEpoch}`);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(this.path);
    } catch {
      throw new UserError(`cannot read the best checkpoint ${this.path}`);
    }
    try {
      return this.spec.load(bytes);
    } catch (err) {
      throw modelFileError(this.path, err);
    }
  }
}

function selectionStateOf(ckpt: LoadedCheckpoint, path: string): SelectionState {
  const loop = loopStateOf(ckpt, path);
  const c = loop.caller as Partial<SelectionState> | undefined;
  const ok =
    c !== undefined && c !== null && typeof c === 'object' &&
    (c.bestNdcg === null || typeof c.bestNdcg === 'number') && Number.isInteger(c.bestEpoch) && typeof c.saved === 'boolean' &&
    Number.isInteger(c.wait) && typeof c.stopped === 'boolean' && typeof c.trainSeconds === 'number' && Number.isInteger(c.epochs);
  if (!ok) throw new UserError(`${path}: cannot resume from it: train_state.caller is malformed`);
  return { ...(c as SelectionState), bestMetrics: c.bestMetrics ?? null };
}

/** Keeps the log lines of epochs ≤ `epoch` (a killed run may have logged an epoch it did not checkpoint). */
async function truncateLog(path: string, epoch: number): Promise<void> {
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return;
  }
  const keep = text.split('\n').filter((l) => {
    if (l.trim() === '') return false;
    try {
      return (JSON.parse(l) as { epoch?: number }).epoch! <= epoch;
    } catch {
      return false;
    }
  });
  await writeFileAtomic(path, keep.map((l) => `${l}\n`).join(''));
}

function floatFlag(opts: Opts, snake: string, dflt: number): number {
  const v = snakeValue(opts, snake);
  if (v === undefined) return dflt;
  const x = Number(v.trim());
  if (v.trim() === '' || !Number.isFinite(x) || x < 0) throw new UserError(`--${snake}: expected a number ≥ 0, got "${v}"`);
  return x;
}

/** What a train run produced (results.json plus where things are). */
export interface TrainRun {
  readonly trainDir: string;
  readonly results: RunResults;
  readonly summary: string;
}

export interface TrainIo {
  /** log lines (stderr by default) */
  log?(line: string): void;
  /** the results table (stdout by default) */
  out?(text: string): void;
}

/**
 * Refuses a --train_dir where training would lose something, before anything is written: a path that
 * is not a directory, the dataset among the files a run writes, or a directory already holding a run
 * (its model, results.json or last.safetensors) unless --resume continues it or --overwrite replaces it.
 */
function checkTrainDir(
  dir: string, dataset: string, written: readonly string[], runMarkers: readonly string[], how: { resume: boolean; overwrite: boolean },
): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UserError(`${dir}: already exists and is not a directory`);
  for (const f of written) {
    if (isSameFile(dataset, f)) throw new UserError(`--train_dir ${dir}: the run would overwrite the dataset ${dataset}`);
  }
  if (how.resume || how.overwrite) return;
  const held = runMarkers.filter((f) => existsSync(f));
  if (held.length > 0) {
    throw new UserError(
      `--train_dir ${dir} already holds a run (${basename(held[0])}): --resume continues it, --overwrite replaces it, or choose another --train_dir`,
    );
  }
}

/**
 * --inference_only writes results.json into --train_dir, by default the training run's own folder:
 * it may not replace the results of a training run there (an earlier --inference_only's it may).
 */
function refuseToReplaceTrainingResults(path: string, overwrite: boolean): void {
  if (overwrite || !existsSync(path)) return;
  let command: unknown;
  try {
    command = (JSON.parse(readFileSync(path, 'utf8')) as { command?: unknown }).command;
  } catch {
    command = undefined;
  }
  if (command !== 'train --inference_only') {
    throw new UserError(`--inference_only would replace ${path}, the results of a training run: pass another --train_dir, or --overwrite`);
  }
}

/** `seqrec train` with parsed flags (snake_case or camelCase keys, values as strings or typed). */
export async function runTrain(opts: Opts, io: TrainIo = {}): Promise<TrainRun> {
  // --threads: intra-op threads for the wasm kernels (default: every core); stopped on any exit
  const threads = intFlag(opts, 'threads', 1) ?? defaultThreads();
  checkAtMost('threads', threads, 256); // each thread is a worker with its own wasm instance
  const pool = await startKernelThreads(getKernels(), threads);
  try {
    return await runTrainOnThreads(opts, io);
  } finally {
    await pool?.close();
  }
}

/**
 * The models a run builds hold kernel-backend memory that the garbage collector cannot reclaim (the
 * wasm arena); they are disposed when the run ends, so that runs in one process (`seqrec experiments`)
 * do not pile up.
 */
async function runTrainOnThreads(opts: Opts, io: TrainIo): Promise<TrainRun> {
  const owned = new Set<TrainedModel>();
  try {
    return await trainAndEvaluate(opts, io, owned);
  } finally {
    for (const m of owned) m.dispose?.();
    releaseScratchPools();
  }
}

async function trainAndEvaluate(opts: Opts, io: TrainIo, owned: Set<TrainedModel>): Promise<TrainRun> {
  const say = io.log ?? log;
  const out = io.out ?? ((text: string) => void process.stdout.write(text));
  const modelName = snakeValue(opts, 'model');
  const spec = resolveSpec(modelName);
  const flags = evalFlagsFrom(opts);
  const trainOptions = trainOptionsFrom(opts);
  const inferenceOnly = boolFlag(opts, 'inference_only') ?? false;
  const resume = boolFlag(opts, 'resume') ?? false;
  const overwrite = boolFlag(opts, 'overwrite') ?? false;
  if (overwrite && resume) throw new UserError('--overwrite cannot be combined with --resume');
  const statePath = snakeValue(opts, 'state_dict_path');
  const patience = intFlag(opts, 'patience', 1);
  const minDelta = floatFlag(opts, 'min_delta', 0);
  if (inferenceOnly && !statePath) throw new UserError('--inference_only needs --state_dict_path');
  if (inferenceOnly && resume) throw new UserError('--resume cannot be combined with --inference_only');

  const loaded = await loadSplitFrom(opts);
  const trainDir = resolve(snakeValue(opts, 'train_dir') ?? join('runs', `${datasetName(loaded.path)}_${spec.name}`));
  // the files of a run besides the model's own (spec.fileName)
  const files = {
    log: join(trainDir, 'log.jsonl'), last: join(trainDir, 'last.safetensors'), config: join(trainDir, 'config.json'),
    results: join(trainDir, 'results.json'), summary: join(trainDir, 'summary.txt'),
  };
  say(`dataset ${loaded.path}: ${loaded.data.userNum} users, ${loaded.data.itemNum} items`);

  let model: TrainedModel;
  let modelPath: string;
  let trainSeconds: number | undefined;
  let selection: BestCheckpoint | undefined;
  const t0 = performance.now();
  if (inferenceOnly) {
    refuseToReplaceTrainingResults(files.results, overwrite);
    model = (await loadModelFile(statePath!, spec.name)).model;
    owned.add(model);
    checkSameItems(model, loaded);
    modelPath = resolve(statePath!);
  } else {
    if (statePath) throw new UserError(`--state_dict_path without --inference_only: use --resume to continue a run in --train_dir`);
    const rngs = runRngs(flags.seed);
    modelPath = join(trainDir, spec.fileName);
    checkTrainDir(trainDir, loaded.path, [modelPath, ...Object.values(files)], [modelPath, files.results, files.last], { resume, overwrite });
    // every flag is checked before the directory is touched
    spec.checkOptions?.(loaded.split, trainOptions);
    const ignored = flagsIgnoredBy(spec.name, trainOptions);
    if (ignored.length > 0) say(`note: --model ${spec.name} does not use ${ignored.map((f) => `--${f}`).join(', ')}; ignored`);
    selection = new BestCheckpoint(spec, modelPath, files, loaded.split, flags, trainOptions, { patience, minDelta }, say);
    let resumeFrom: LoadedCheckpoint | undefined;
    let resumedEpoch = 0;
    if (resume) {
      if (!existsSync(files.last)) throw new UserError(`--resume: no ${files.last} to resume from (train without --resume first)`);
      resumeFrom = await loadCheckpoint(files.last);
      selection.state = selectionStateOf(resumeFrom, files.last);
      const was = selection.state.dataset;
      const now = datasetHeader(loaded);
      if (was && (was.users !== now.users || was.items !== now.items || was.interactions !== now.interactions)) {
        throw new UserError(
          `--resume: ${files.last} was trained on ${was.users} users, ${was.items} items, ${was.interactions} interactions; ` +
            `--dataset ${loaded.path} has ${now.users}, ${now.items}, ${now.interactions}`,
        );
      }
      resumedEpoch = loopStateOf(resumeFrom, files.last).epoch;
    } else {
      const h = datasetHeader(loaded);
      selection.state.dataset = { users: h.users, items: h.items, interactions: h.interactions };
    }
    const sel = selection;
    // the directory is written only once training is about to start: after the model has checked its
    // options and, with --resume, that the checkpoint fits (a refused run leaves the directory as it was)
    let prepared = false;
    const prepareDir = async () => {
      if (prepared) return;
      prepared = true;
      await makeDirs(trainDir);
      if (resume) {
        await truncateLog(files.log, resumedEpoch); // drops lines it cannot read, and any past the checkpoint
        // resuming a finished run trains nothing: its config.json stays the one it was trained with
        if (finished) return;
      } else {
        // --overwrite: no trace of the old run, whichever model it was
        const modelFiles = modelNames().map((n) => join(trainDir, getModel(n)!.fileName));
        for (const f of [...modelFiles, files.last, files.log, files.results, files.summary]) await rm(f, { force: true });
      }
      await writeJsonAtomic(files.config, {
        seqrec: VERSION,
        command: 'train',
        model: spec.name,
        dataset: loaded.path,
        trainDir,
        options: trainOptions,
        evaluation: flags,
        patience: patience ?? null,
        minDelta,
        resumedFromEpoch: resume ? resumedEpoch : null,
        startedAt: new Date().toISOString(),
      });
    };
    const numEpochs = trainOptions.numEpochs === undefined ? undefined : Number(trainOptions.numEpochs);
    const finished = selection.state.stopped || (resume && numEpochs !== undefined && resumedEpoch >= numEpochs);
    let trained: TrainedModel | undefined;
    if (finished) {
      say(`--resume: the run in ${trainDir} had already finished (epoch ${resumedEpoch}${selection.state.stopped ? ', stopped early' : ''})`);
    } else {
      const bar = trainingBar(say);
      try {
        trained = await spec.train(loaded.split, trainOptions, {
          rng: rngs.train,
          log: (line) => bar.log(line),
          progress: bar.update,
          onStart: prepareDir,
          onEpoch: (info) => sel.onEpoch(info, bar),
          ...(resumeFrom ? { resumeFrom } : {}),
        });
        owned.add(trained);
      } finally {
        bar.stop();
      }
    }
    trainSeconds = selection.state.epochs > 0 ? Math.round(selection.state.trainSeconds * 1000) / 1000 : Math.round(performance.now() - t0) / 1000;
    await prepareDir(); // models without epochs never call onStart
    model = await selection.finish(trained);
    owned.add(model);
    say(`saved ${modelPath}`);
  }

  releaseScratchPools(); // training is over: its scratch memory goes to evaluation
  const rows = await runEvaluations(model.scorer, loaded.split, flags);
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
  await writeJsonAtomic(files.results, results);
  say(`wrote ${files.results}`);

  let summary = '';
  if (selection) {
    const st = selection.state;
    const k = selection.k;
    const testRow = rows.find((r) => r.split === 'test');
    const fmt = (m: Record<string, number> | null | undefined) =>
      m ? Object.entries(m).map(([n, v]) => `${n} ${v.toFixed(4)}`).join(', ') : '-';
    summary = [
      `model ${spec.name}, dataset ${loaded.path}`,
      st.epochs === 0
        ? `fitted in ${trainSeconds?.toFixed(1)} s (no epochs)`
        : `trained ${st.epochs} epochs${st.stopped ? ` (stopped early: patience ${patience}, min_delta ${minDelta})` : ''} in ${trainSeconds?.toFixed(1)} s`,
      st.bestEpoch > 0 ? `best epoch ${st.bestEpoch}: valid NDCG@${k} ${(st.bestNdcg ?? 0).toFixed(4)} (${fmt(st.bestMetrics)})` : 'no validation run',
      `test (${testRow?.protocol ?? '-'}): ${fmt(testRow?.metrics)}`,
    ].join('\n');
    await writeFileAtomic(files.summary, `${summary}\n`);
    for (const l of summary.split('\n')) say(`summary: ${l}`);
  }
  // stdout last: every file is on disk even if standard output cannot be written
  out(`${formatResultsTable(rows)}\n`);
  return { trainDir, results, summary };
}

export function register(program: Command): void {
  const cmd = program
    .command('train')
    .description(
      'train a model on --dataset (leave-one-out split), evaluate it on valid and test, print a results table, ' +
        'and write the model, results.json, log.jsonl (one line per epoch), config.json, summary.txt and ' +
        'last.safetensors (resume state) into --train_dir',
    );
  addModelOption(cmd, true);
  addDatasetOptions(cmd);
  addSnakeOption(cmd, 'train_dir', 'dir', 'output folder (default runs/<dataset>_<model>)');
  addSnakeOption(cmd, 'state_dict_path', 'file', 'with --inference_only: evaluate this model file only');
  cmd.addOption(new Option('--inference_only [bool]', 'only evaluate --state_dict_path, as the reference (true|false; bare flag = true)'));
  cmd.addOption(new Option('--inference-only [bool]').hideHelp());
  cmd.addOption(
    new Option(
      '--overwrite [bool]',
      'train into a --train_dir that already holds a run (its results.json, model or last.safetensors), replacing it; ' +
        'without it such a directory is refused, so a finished run is never lost by accident',
    ),
  );
  cmd.addOption(
    new Option(
      '--resume [bool]',
      'continue the run in --train_dir from its last.safetensors (written atomically after every epoch: weights, Adam state, ' +
        'sampler/dropout RNG states, best-so-far and early-stopping state); at most the interrupted epoch is lost, and with the same ' +
        'flags the result is identical to an uninterrupted run. --num_epochs may be raised; other hyper-parameters must match',
    ),
  );
  addSnakeOption(
    cmd,
    'patience',
    'n',
    'early stopping: stop after N evaluations in a row (see --eval_every) whose valid NDCG@10 does not beat the best so far by more ' +
      'than --min_delta; test metrics are those of the best checkpoint (default: no early stopping)',
  );
  addSnakeOption(cmd, 'min_delta', 'x', 'early stopping: the valid NDCG@10 gain that counts as an improvement (default 0)');
  addSnakeOption(
    cmd,
    'threads',
    'n',
    'threads for the WebAssembly kernels (default: os.availableParallelism()): large GEMMs (split by rows/columns/batch) and ' +
      'packed attention (split by sequences) run on worker threads sharing the memory, each call only while splitting measures ' +
      'faster than one thread (cores busy with other work: it stays on one); small calls always stay on one thread. Results are ' +
      'bit-identical for any N; 1 = single-threaded, no workers. No effect with SEQREC_KERNELS=reference',
  );
  addEvalOptions(cmd);
  addHyperOptions(cmd);
  cmd.action(async (opts: Opts) => {
    await runTrain(opts);
  });
}
