/** `seqrec experiments`: every run of a grid file, one after another, resumable; then the reports. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import { makeDirs } from '../io/dirs.js';
import { type DirLock, holdDir, liveHolder } from '../io/lock.js';
import { recordedFlagChange } from '../train/finished-run.js';
import { parseTrainRequest } from '../train/request.js';
import { runTraining } from '../train/run.js';
import { loadGrid, planRuns } from './grid.js';
import { writeReports } from './report.js';
import { readRunFiles } from './run-files.js';

/** One run: `seqrec train`'s options as the grid gives them (snake_case names, string values). */
export type TrainFn = (options: Record<string, unknown>, io: { log(line: string): void }) => Promise<unknown>;

/** The real run: the same request parsing and training as `seqrec train`. */
export const trainRun: TrainFn = (options, io) => runTraining(parseTrainRequest(options), io);

export interface ExperimentOptions {
  /** the output folder (default: the grid's "out", else <grid name>-results next to the grid file) */
  readonly out?: string;
  readonly log?: (line: string) => void;
  /** how one run trains (default trainRun; tests count calls instead) */
  readonly train?: TrainFn;
  /**
   * work beside a process already running this grid: take no lock on the output folder and train only
   * the runs no live process holds (each run's folder has its own lock), so N processes share one grid
   */
  readonly join?: boolean;
  /**
   * train only the runs of these seeds now (each must be one of the grid's); the others stay planned
   * for a later pass, and the reports cover every finished run
   */
  readonly seeds?: readonly number[];
  /**
   * train only the runs these selectors name now: each is `model`, `config`, `dataset` or several of
   * them joined by "/" in that order (`Games/neumf`, `sasrec/loss=ce`); the others stay planned
   */
  readonly only?: readonly string[];
  /** train nothing: write the reports over the runs finished so far (beside a running grid too) */
  readonly reportOnly?: boolean;
}

export interface ExperimentSummary {
  readonly out: string;
  readonly ran: number;
  readonly skipped: number;
  /** runs another process was training (their results join the reports of whichever process ends last) */
  readonly elsewhere: number;
  /** unfinished runs left out by `seeds` or `only` */
  readonly deferred: number;
  readonly files: { csv: string; md: string; html: string };
}

export async function runExperiments(gridPath: string, options: ExperimentOptions = {}): Promise<ExperimentSummary> {
  const say = options.log ?? ((l: string) => void process.stderr.write(`${l}\n`));
  const train = options.train ?? trainRun;
  const grid = loadGrid(gridPath);
  const { out, runs } = planRuns(grid, gridPath, options.out);
  const seeds = options.seeds ? new Set(options.seeds) : undefined;
  if (seeds) {
    const planned = new Set(runs.map((r) => r.seed));
    const unknown = [...seeds].filter((s) => !planned.has(s));
    if (unknown.length > 0) throw new UserError(`--seeds ${unknown.join(',')}: not among the grid's seeds (${[...planned].join(', ')})`);
  }
  const named = options.only ? selectedBy(options.only, runs) : undefined;
  const selected = (r: PlannedRuns[number]) => (seeds === undefined || seeds.has(r.seed)) && (named === undefined || named(r));
  for (const r of runs) if (!existsSync(r.dataset)) throw new UserError(`${gridPath}: dataset ${r.dataset} not found`);
  // the finished runs' files feed the reports: a damaged one stops the command before any training
  const damaged: string[] = [];
  for (const r of runs) {
    if (!existsSync(join(r.dir, 'results.json'))) continue;
    try {
      readRunFiles(r.dir);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      damaged.push(e.message);
    }
  }
  if (damaged.length > 0) {
    throw new UserError(
      damaged.length === 1 ? damaged[0] : `${damaged[0]} (and ${damaged.length - 1} more damaged run file${damaged.length > 2 ? 's' : ''})`,
    );
  }
  await refuseChangedFinishedRuns(runs);
  // one `experiments` per output folder unless the others `join` it (a dead one's lock is taken over)
  let lock: DirLock | undefined;
  if (options.join || options.reportOnly) await makeDirs(out);
  else lock = await holdDir(out, 'experiments output folder', say);
  try {
    return await runAll(grid, runs, out, train, say, options.reportOnly ? () => false : selected);
  } finally {
    lock?.release();
  }
}

type PlannedRuns = ReturnType<typeof planRuns>['runs'];

/** The run's dataset, model and config as the selectors of `only` read them. */
const runPath = (r: PlannedRuns[number]) => [r.datasetName, r.model, r.config];

/**
 * Which runs `--only` names: a selector's "/"-separated parts must be parts of a run's
 * dataset/model/config in that order (`Games/lr=0.01` skips the model), "_" and "-" alike (configs are
 * named with the flag's kebab-case, users type the snake_case flag). A selector that names no run of the
 * grid is refused, listing what there is.
 */
function selectedBy(selectors: readonly string[], runs: PlannedRuns): (r: PlannedRuns[number]) => boolean {
  const canonical = (part: string) => part.replace(/_/g, '-');
  const matches = (sel: string, r: PlannedRuns[number]) => {
    const path = runPath(r).map(canonical);
    let at = 0;
    for (const part of sel.split('/').map(canonical)) {
      while (at < path.length && path[at] !== part) at++;
      if (at === path.length) return false;
      at++;
    }
    return true;
  };
  for (const sel of selectors) {
    if (!runs.some((r) => matches(sel, r))) {
      const have = [...new Set(runs.map((r) => runPath(r).join('/')))];
      throw new UserError(`--only ${sel}: names no run of the grid (its runs are ${have.join(', ')})`);
    }
  }
  return (r) => selectors.some((sel) => matches(sel, r));
}

/** `seqrec train`'s options for one run of the grid (snake_case names, string values). */
function trainOptions(r: PlannedRuns[number]): Record<string, unknown> {
  const opts: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r.flags)) opts[k.replace(/-/g, '_')] = String(v);
  return { ...opts, model: r.model, dataset: r.dataset, train_dir: r.dir, seed: String(r.seed) };
}

/**
 * A finished run is skipped; when the grid's flags for it have changed since it ran, its results are
 * not the grid's, so the command stops before training anything and names the folder to delete.
 */
async function refuseChangedFinishedRuns(runs: PlannedRuns): Promise<void> {
  const changed: string[] = [];
  for (const r of runs) {
    if (!existsSync(join(r.dir, 'results.json'))) continue;
    let change: string | undefined;
    try {
      change = await recordedFlagChange(parseTrainRequest(trainOptions(r)), r.dir);
    } catch (e) {
      if (e instanceof UserError) continue; // a flag the run refuses: training it would fail and say so
      throw e;
    }
    if (change) changed.push(`${r.dir} finished with other flags (${change}); delete that folder to rerun it with the grid's flags`);
  }
  if (changed.length > 0) {
    throw new UserError(changed.length === 1 ? changed[0] : `${changed[0]} (and ${changed.length - 1} more such run folders)`);
  }
}

async function runAll(
  grid: ReturnType<typeof loadGrid>,
  runs: PlannedRuns,
  out: string,
  train: TrainFn,
  say: (line: string) => void,
  selected: (r: PlannedRuns[number]) => boolean,
): Promise<ExperimentSummary> {
  let ran = 0;
  let skipped = 0;
  let elsewhere = 0;
  let deferred = 0;
  const failed: string[] = [];
  for (const [i, r] of runs.entries()) {
    const tag = `[${i + 1}/${runs.length}] ${r.datasetName} ${r.model} ${r.config} seed ${r.seed}`;
    if (existsSync(join(r.dir, 'results.json'))) {
      say(`${tag}: done already, skipped`);
      skipped++;
      continue;
    }
    if (!selected(r)) {
      deferred++;
      continue;
    }
    const holder = liveHolder(r.dir);
    if (holder !== undefined) {
      say(`${tag}: being trained by process ${holder}, left to it`);
      elsewhere++;
      continue;
    }
    const resume = existsSync(join(r.dir, 'last.safetensors'));
    say(`${tag}: ${resume ? 'resuming' : 'training'} in ${r.dir}`);
    const opts = { ...trainOptions(r), ...(resume ? { resume: true } : { overwrite: true }) };
    await makeDirs(r.dir);
    try {
      await train(opts, { log: (l) => say(`  ${l}`) });
      ran++;
    } catch (e) {
      const taker = liveHolder(r.dir);
      if (taker !== undefined && taker !== process.pid) {
        // another process took the run between the check above and this run's lock: it is that one's
        say(`${tag}: being trained by process ${taker}, left to it`);
        elsewhere++;
        continue;
      }
      // one failing run (a flag one model refuses, a dataset without timestamps) does not stop the grid
      const msg = e instanceof Error ? e.message : String(e);
      say(`${tag}: FAILED: ${msg}`);
      failed.push(`${r.datasetName} ${r.model} ${r.config} seed ${r.seed}: ${msg}`);
    }
  }
  const { damaged: unreadable, ...files } = await writeReports(out, runs, {
    ...(grid.table ? { table: grid.table } : {}),
    ...(grid.time_figure ? { timeFigure: grid.time_figure } : {}),
    ...(grid.sweep_figure ? { sweepFigure: grid.sweep_figure } : {}),
    ...(grid.baseline ? { baseline: grid.baseline } : {}),
  });
  say(`wrote ${files.csv}, ${files.md}, ${files.html}`);
  for (const d of unreadable) {
    say(`${d.run.datasetName} ${d.run.model} ${d.run.config} seed ${d.run.seed}: FAILED: ${d.message}`);
    failed.push(`${d.run.datasetName} ${d.run.model} ${d.run.config} seed ${d.run.seed}: ${d.message}`);
  }
  if (failed.length > 0) {
    throw new UserError(`${failed.length} of ${runs.length} runs failed (first: ${failed[0]}); the reports cover the others`);
  }
  return { out, ran, skipped, elsewhere, deferred, files };
}
