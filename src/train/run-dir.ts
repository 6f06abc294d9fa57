/**
 * A training run's directory: the files it writes, the guards that keep a finished run from being
 * lost, and the store (store.ts) that keeps the best model, the log and the resume state there.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { appendFile, readFile, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { UserError } from '../core/errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { isSameFile } from '../io/paths.js';
import { referenceLogLine } from './reference-files.js';
import type { RunStore } from '../learn/store.js';

/** The files of a run besides the model's own. */
export interface RunFiles {
  readonly model: string;
  readonly log: string;
  readonly last: string;
  readonly config: string;
  readonly results: string;
  readonly summary: string;
  /** per-user ranks (--keep_ranks) */
  readonly ranks: string;
  /** the reference's args.txt (reference-files.ts) */
  readonly args: string;
  /** the reference's log.txt: valid and test NDCG@10, HR@10 after every evaluation */
  readonly referenceLog: string;
}

export function runFiles(dir: string, modelFileName: string): RunFiles {
  return {
    model: join(dir, modelFileName),
    log: join(dir, 'log.jsonl'),
    last: join(dir, 'last.safetensors'),
    config: join(dir, 'config.json'),
    results: join(dir, 'results.json'),
    summary: join(dir, 'summary.txt'),
    ranks: join(dir, 'ranks.tsv'),
    args: join(dir, 'args.txt'),
    referenceLog: join(dir, 'log.txt'),
  };
}

/**
 * Refuses a --train_dir where training would lose something, before anything is written: a path that
 * is not a directory, the dataset among the files a run writes, or a directory already holding a run
 * (its model, results.json or last.safetensors) unless --resume continues it or --overwrite replaces it.
 */
export function checkTrainDir(dir: string, files: RunFiles, dataset: string, how: { resume: boolean; overwrite: boolean }): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UserError(`${dir}: already exists and is not a directory`);
  for (const f of Object.values(files)) {
    if (isSameFile(dataset, f)) throw new UserError(`--train_dir ${dir}: the run would overwrite the dataset ${dataset}`);
  }
  if (how.resume || how.overwrite) return;
  // log.txt: also the reference's own run, when its folder is given as --train_dir
  const held = [files.model, files.results, files.last, files.referenceLog].filter((f) => existsSync(f));
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
export function refuseToReplaceTrainingResults(path: string, overwrite: boolean): void {
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

/** Keeps the log lines of epochs ≤ `epoch` (a killed run may have logged an epoch it did not checkpoint). */
export async function truncateLog(path: string, epoch: number): Promise<void> {
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

/** Removes a previous run's files (--overwrite: no trace of the old run, whichever model it was). */
export async function clearRun(files: RunFiles, modelFiles: readonly string[]): Promise<void> {
  for (const f of [...modelFiles, files.last, files.log, files.results, files.summary, files.ranks, files.referenceLog]) await rm(f, { force: true });
}

/**
 * The run's store in its directory: the best model at files.model, log.jsonl, last.safetensors, and
 * (unless `referenceLog` is false) the reference's log.txt, whose lines need test evaluated too.
 */
export class DirectoryStore implements RunStore {
  readonly appendEvaluation?: RunStore['appendEvaluation'];

  constructor(
    private readonly files: RunFiles,
    referenceLog = true,
  ) {
    if (referenceLog) {
      this.appendEvaluation = async (epoch, valid, test, k) => appendFile(files.referenceLog, `${referenceLogLine(epoch, valid, test, k)}\n`);
    }
  }

  get bestName(): string {
    return this.files.model;
  }

  async saveBest(bytes: Uint8Array): Promise<void> {
    await writeFileAtomic(this.files.model, bytes);
  }

  async loadBest(): Promise<Uint8Array> {
    try {
      return await readFile(this.files.model);
    } catch {
      throw new UserError(`cannot read the best checkpoint ${this.files.model}`);
    }
  }

  async appendLog(line: Readonly<Record<string, unknown>>): Promise<void> {
    await appendFile(this.files.log, `${JSON.stringify(line)}\n`);
  }

  async saveLast(chunks: Uint8Array[]): Promise<void> {
    await writeFileAtomic(this.files.last, chunks);
  }
}
