/**
 * `seqrec train` as a function: load the dataset, guard the run directory, train (or, with
 * --inference_only, load) the model, evaluate it on valid and test, and write config.json,
 * results.json and summary.txt beside the model, log.jsonl and last.safetensors; and the reference's
 * args.txt and log.txt (reference-files.ts).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UserError } from '../core/errors.js';
import { VERSION } from '../core/version.js';
import { datasetRunName, isBareName, loadSplit } from '../data/options.js';
import type { LoadedSplit } from '../data/types.js';
import { releaseScratchPools } from '../engine/tape.js';
import { protocolsOf } from '../eval/options.js';
import { checkSampledNegatives, RANDOM_SPLIT_IS_FULL_RANKING } from '../eval/protocols.js';
import { formatRanks, type RankList } from '../eval/ranks.js';
import type { RunResults } from '../eval/results.js';
import type { EvalProgress } from '../eval/run.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { makeDirs } from '../io/dirs.js';
import { holdDir } from '../io/lock.js';
import { getKernels } from '../kernels/index.js';
import { defaultThreads, startKernelThreads } from '../kernels/wasm/pool-start.js';
import type { Model } from '../models/contract.js';
import { allModels } from '../models/registry.js';
import { loadCheckpoint } from './checkpoint.js';
import { runCtrTraining } from './ctr-run.js';
import { loopStateOf } from './loop.js';
import { evaluateModel } from './evaluate.js';
import { loadModelFile } from './model-file.js';
import { argsText, REFERENCE_LOG_HEADER, referenceArgs, truncateReferenceLog } from './reference-files.js';
import type { TrainRequest } from './request.js';
import { checkTrainDir, clearRun, DirectoryStore, refuseToReplaceTrainingResults, runFiles, truncateLog, type RunFiles } from './run-dir.js';
import { selectionMetric, selectionStateOf, type SelectionState } from '../learn/selection.js';
import { datasetSize, isFinished, trainModel, type TrainPlan } from './train.js';

export interface TrainIo {
  /** log lines (stderr by default) */
  log?(line: string): void;
  /** progress inside a training epoch */
  progress?(done: number, total: number, label: string, info?: Readonly<Record<string, number>>): void;
  /** progress of each evaluation */
  evalProgress?: EvalProgress;
}

/** What a train run produced: results.json's content, the summary, and where the files are. */
export interface TrainRun {
  readonly trainDir: string;
  readonly results: RunResults;
  readonly summary: string;
}

const stderrLine = (line: string): void => void process.stderr.write(`${line}\n`);

/** Runs a training request on its kernel threads; every model it builds is disposed when it ends. */
export async function runTraining(req: TrainRequest, io: TrainIo = {}): Promise<TrainRun> {
  const pool = await startKernelThreads(getKernels(), req.run.threads ?? defaultThreads());
  const owned = new Set<Model>();
  try {
    if (req.dataset.task === 'ctr') return await runCtrTraining(req, io, (dataset) => trainDirOf(req.run.trainDir, dataset, req.spec.name));
    return await trainAndEvaluate(req, io, owned);
  } finally {
    for (const m of owned) m.dispose();
    releaseScratchPools();
    await pool?.close();
  }
}

/**
 * The run's folder: `--train_dir` when it is a path with a folder in it; a bare NAME is the
 * reference's `<dataset>_<NAME>` (`--dataset ml-1m --train_dir default` → ml-1m_default); by default
 * runs/<dataset>_<model>.
 */
export function trainDirOf(given: string | undefined, dataset: string, model: string): string {
  if (given === undefined) return join('runs', `${dataset}_${model}`);
  return isBareName(given) ? `${dataset}_${given}` : given;
}

async function trainAndEvaluate(req: TrainRequest, io: TrainIo, owned: Set<Model>): Promise<TrainRun> {
  const say = io.log ?? stderrLine;
  const { spec, run } = req;
  if (run.device !== undefined && run.device !== 'cpu') {
    say(`note: --device ${run.device}: seqrec computes on the CPU (WebAssembly kernels, ${run.threads ?? defaultThreads()} threads); continuing`);
  }
  const loaded = await loadSplit(req.dataset, req.seed);
  const trainDir = resolve(trainDirOf(run.trainDir, datasetRunName(req.dataset, loaded.path), spec.name));
  const files = runFiles(trainDir, spec.fileName);
  // one run per directory: a second run into it refuses (a dead run's lock is taken over)
  const lock = await holdDir(trainDir, '--train_dir', say);
  try {
    return await trainAndEvaluateIn(req, io, owned, loaded, trainDir, files, say);
  } finally {
    lock.release();
  }
}

async function trainAndEvaluateIn(
  req: TrainRequest,
  io: TrainIo,
  owned: Set<Model>,
  loaded: LoadedSplit,
  trainDir: string,
  files: RunFiles,
  say: (line: string) => void,
): Promise<TrainRun> {
  const { spec, run } = req;
  say(`dataset ${loaded.path}: ${loaded.data.userNum} users, ${loaded.data.itemNum} items`);
  // the reference's args.txt: the options as given (dataset, train_dir) and as used
  const args = argsText(referenceArgs(req, { dataset: req.dataset.dataset ?? loaded.path, trainDir: run.trainDir ?? trainDir }));

  // the data-dependent limits, before anything is trained or written
  const selectsSampled = !run.inferenceOnly && spec.learning.kind === 'gradient' && req.training.selectProtocol === 'sampled';
  if (loaded.split.random && (selectsSampled || protocolsOf(req.evaluation).includes('sampled'))) throw new UserError(RANDOM_SPLIT_IS_FULL_RANKING);
  if (selectsSampled || protocolsOf(req.evaluation).includes('sampled')) {
    const flags = selectsSampled ? '--eval_protocol full --select_protocol full' : '--eval_protocol full';
    checkSampledNegatives(loaded.split, req.evaluation.numNegatives, `rank every item instead (${flags}), or leave such users out of the data`);
  }

  let model: Model;
  let modelPath: string;
  let state: SelectionState | undefined;
  let trainSeconds: number | undefined;
  if (run.inferenceOnly) {
    refuseToReplaceTrainingResults(files.results, run.overwrite);
    // the model named, else the file's; what a PyTorch state dict does not record, the flags say, as in the reference
    model = (await loadModelFile(run.stateDictPath!, req.modelNamed ? spec.name : undefined, req.modelOptions)).model;
    owned.add(model);
    modelPath = resolve(run.stateDictPath!);
    await makeDirs(trainDir);
    await writeFileAtomic(files.args, args);
  } else {
    modelPath = files.model;
    checkTrainDir(trainDir, files, loaded.path, run);
    if (req.ignored.length > 0) say(`note: --model ${spec.name} does not use ${req.ignored.map((f) => `--${f}`).join(', ')}; ignored`);
    const t0 = performance.now();
    const trained = await train(req, loaded, trainDir, files, say, io, args);
    model = trained.model;
    owned.add(model);
    state = trained.state;
    const kept = trained.finished ? await readResults(files.results) : undefined;
    if (kept) {
      // a finished run is not rewritten: its results stay those it was trained and evaluated with
      say(`--resume: its ${files.results} is kept as it is (--overwrite trains the run again)`);
      return { trainDir, results: kept, summary: await readText(files.summary) };
    }
    trainSeconds = state.epochs > 0 ? Math.round(state.trainSeconds * 1000) / 1000 : Math.round(performance.now() - t0) / 1000;
    say(`saved ${modelPath}`);
  }

  releaseScratchPools(); // training is over: its scratch memory goes to evaluation
  const command = run.inferenceOnly ? 'train --inference_only' : 'train';
  const ranks: RankList[] | undefined = run.keepRanks ? [] : undefined;
  const evaluated = await evaluateModel(model, loaded, req.evaluation, req.seed, { command, modelPath, progress: io.evalProgress, ranksOut: ranks });
  const results: RunResults = trainSeconds === undefined ? evaluated : { ...evaluated, trainSeconds };
  const rows = results.results;
  if (ranks) {
    // before results.json, which marks the run finished
    await writeFileAtomic(files.ranks, formatRanks(ranks, loaded.data));
    say(`wrote ${files.ranks}`);
  }
  await writeJsonAtomic(files.results, results);
  say(`wrote ${files.results}`);

  let summary = '';
  if (state) {
    summary = summaryText(req, loaded, state, rows, trainSeconds ?? 0);
    await writeFileAtomic(files.summary, `${summary}\n`);
    for (const l of summary.split('\n')) say(`summary: ${l}`);
  }
  return { trainDir, results, summary };
}

/**
 * Trains into the run directory. The directory is written only once training is about to start:
 * after the model has checked the data and, with --resume, the checkpoint has been restored (a
 * refused run leaves the directory as it was).
 */
async function train(
  req: TrainRequest,
  loaded: LoadedSplit,
  trainDir: string,
  files: RunFiles,
  say: (line: string) => void,
  io: TrainIo,
  args: string,
) {
  const { spec, run } = req;
  // the reference's log.txt: the lines of a model evaluated during training
  const referenceLog = run.referenceLog && spec.learning.kind === 'gradient';
  const plan: TrainPlan = { spec, options: req.modelOptions, training: req.training, evaluation: req.evaluation, seed: req.seed };
  const now = datasetSize(loaded.split);
  let resume: { checkpoint: Awaited<ReturnType<typeof loadCheckpoint>>; state: SelectionState } | undefined;
  let resumedEpoch = 0;
  if (run.resume) {
    if (!existsSync(files.last)) throw new UserError(`--resume: no ${files.last} to resume from (train without --resume first)`);
    const checkpoint = await loadCheckpoint(files.last);
    const state = selectionStateOf(checkpoint, files.last);
    const was = state.dataset;
    if (was && (was.users !== now.users || was.items !== now.items || was.interactions !== now.interactions)) {
      throw new UserError(
        `--resume: ${files.last} was trained on ${was.users} users, ${was.items} items, ${was.interactions} interactions; ` +
          `--dataset ${loaded.path} has ${now.users}, ${now.items}, ${now.interactions}`,
      );
    }
    // a checkpoint from before the flags were kept: the run's config.json says what it was started with
    const mismatch = state.flags
      ? flagMismatch(state.flags, resultFlags(req))
      : flagMismatch(await legacyFlags(files.config), resultFlags(req), true);
    if (mismatch) throw new UserError(`--resume: ${mismatch}`);
    resumedEpoch = loopStateOf(checkpoint, files.last).epoch;
    resume = { checkpoint, state };
  }
  const finished = resume !== undefined && isFinished(resume.state, req.training, { resume });
  if (finished) say(`--resume: the run in ${trainDir} had already finished (epoch ${resumedEpoch}${resume!.state.stopped ? ', stopped early' : ''})`);

  const prepareDir = async () => {
    await makeDirs(trainDir);
    if (run.resume) {
      await truncateLog(files.log, resumedEpoch); // drops lines it cannot read, and any past the checkpoint
      // resuming a finished run trains nothing: its config.json stays the one it was trained with
      if (finished) return;
      if (referenceLog) await truncateReferenceLog(files.referenceLog, resumedEpoch);
    } else {
      await clearRun(
        files,
        allModels().map((m) => join(trainDir, m.fileName)),
      );
      if (referenceLog) await writeFileAtomic(files.referenceLog, `${REFERENCE_LOG_HEADER}\n`);
    }
    await writeJsonAtomic(files.config, configJson(req, loaded, trainDir, run.resume ? resumedEpoch : null));
    await writeFileAtomic(files.args, args);
  };

  const store = new DirectoryStore(files, referenceLog);
  const result = await trainModel(plan, loaded.split, {
    store,
    log: say,
    progress: io.progress,
    onStart: prepareDir,
    flags: resultFlags(req),
    threads: req.run.threads ?? defaultThreads(),
    ...(resume ? { resume } : {}),
  });
  return { ...result, finished };
}

/**
 * Every flag that changes a run's results, by its snake_case name: the model's options, the loop's
 * (but --num_epochs, which a resumed run may raise, and --num_workers, which gives the same batches),
 * evaluation but its batch size, the seed, and how the dataset is read and split (not its path).
 */
export function resultFlags(req: TrainRequest): Record<string, unknown> {
  const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  const out: Record<string, unknown> = { model: req.spec.name };
  const add = (group: Readonly<Record<string, unknown>>, skip: readonly string[] = []) => {
    for (const [k, v] of Object.entries(group)) if (!skip.includes(k) && v !== undefined) out[snake(k)] = v;
  };
  add(req.modelOptions);
  if (req.spec.learning.kind === 'gradient') add(req.training, ['numEpochs', 'numWorkers']);
  add(req.evaluation, ['evalBatchSize']);
  add(req.dataset, ['dataset']);
  out.seed = req.seed;
  return out;
}

/**
 * Result flags added after checkpoints were first written, each with the value that reproduces what a
 * run did before the flag existed: an older checkpoint without the flag resumes when the flag has it.
 */
const FLAGS_ADDED_LATER: Readonly<Record<string, unknown>> = { split: 'loo', task: 'ranking', id_dropout: 0, optimizer: 'adam', momentum: 0 };

/**
 * The first flag whose value differs from the checkpoint's (none recorded: not checked); `onlySaved`:
 * only the flags recorded (an older run's config.json, which lacks some).
 */
function flagMismatch(saved: Record<string, unknown> | undefined, now: Record<string, unknown>, onlySaved = false): string | undefined {
  if (!saved) return undefined;
  for (const k of new Set([...(onlySaved ? [] : Object.keys(now)), ...Object.keys(saved)])) {
    if (!(k in saved) && k in FLAGS_ADDED_LATER && JSON.stringify(now[k]) === JSON.stringify(FLAGS_ADDED_LATER[k])) continue;
    const [a, b] = [JSON.stringify(now[k]), JSON.stringify(saved[k])];
    if (a !== b) return `--${k} is ${a ?? 'not given'} now but ${b ?? 'not given'} in the checkpoint (the results would not be the run's)`;
  }
  return undefined;
}

/** The result flags an older run's config.json records (its options, evaluation and seed), if readable. */
async function legacyFlags(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    const c = JSON.parse(await readFile(path, 'utf8')) as { model?: string; options?: Record<string, unknown>; evaluation?: Record<string, unknown> };
    if (typeof c.options !== 'object' || typeof c.evaluation !== 'object' || c.options === null || c.evaluation === null) return undefined;
    const snake = (k: string) => k.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`);
    const out: Record<string, unknown> = {};
    if (typeof c.model === 'string') out.model = c.model;
    for (const [k, v] of Object.entries(c.options)) if (!['numEpochs', 'numWorkers'].includes(k) && v !== undefined) out[snake(k)] = v;
    for (const [k, v] of Object.entries(c.evaluation)) if (!['evalBatchSize', 'protocols'].includes(k) && v !== undefined) out[snake(k)] = v;
    return out;
  } catch {
    return undefined;
  }
}

/** config.json: what the run was asked to do. */
function configJson(req: TrainRequest, loaded: LoadedSplit, trainDir: string, resumedFromEpoch: number | null): Record<string, unknown> {
  const gradient = req.spec.learning.kind === 'gradient';
  return {
    seqrec: VERSION,
    command: 'train',
    model: req.spec.name,
    dataset: loaded.path,
    trainDir,
    options: gradient ? { ...req.modelOptions, ...req.training } : { ...req.modelOptions },
    evaluation: { ...req.evaluation, protocols: protocolsOf(req.evaluation), seed: req.seed },
    resumedFromEpoch,
    startedAt: new Date().toISOString(),
  };
}

function summaryText(req: TrainRequest, loaded: LoadedSplit, st: SelectionState, rows: RunResults['results'], trainSeconds: number): string {
  const metric = selectionMetric(req.training, req.evaluation);
  const testRow = rows.find((r) => r.split === 'test' && r.protocol === req.training.selectProtocol) ?? rows.find((r) => r.split === 'test');
  const fmt = (m: Record<string, number> | null | undefined) =>
    m
      ? Object.entries(m)
          .map(([n, v]) => `${n} ${v.toFixed(4)}`)
          .join(', ')
      : '-';
  const { patience, minDelta } = req.training;
  return [
    `model ${req.spec.name}, dataset ${loaded.path}`,
    st.epochs === 0
      ? `fitted in ${trainSeconds.toFixed(1)} s (no epochs)`
      : `trained ${st.epochs} epochs${st.stopped ? ` (stopped early: patience ${patience}, min_delta ${minDelta})` : ''} in ${trainSeconds.toFixed(1)} s`,
    st.bestEpoch > 0 ? `best epoch ${st.bestEpoch}: valid ${metric} ${(st.bestNdcg ?? 0).toFixed(4)} (${fmt(st.bestMetrics)})` : 'no validation run',
    `test (${testRow?.protocol ?? '-'}): ${fmt(testRow?.metrics)}`,
  ].join('\n');
}

async function readText(path: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trimEnd();
  } catch {
    return '';
  }
}

/** A finished run's results.json, or undefined when it is missing or unreadable (then it is written again). */
async function readResults(path: string): Promise<RunResults | undefined> {
  try {
    const r = JSON.parse(await readFile(path, 'utf8')) as RunResults;
    return Array.isArray(r?.results) ? r : undefined;
  } catch {
    return undefined;
  }
}
