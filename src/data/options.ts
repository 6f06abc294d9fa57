/** The options of every command that reads a dataset, and loading the split they describe. */
import { basename } from 'node:path';
import { UserError } from '../core/errors.js';
import { choice, defineOptions, int, str, type ConfigOf } from '../core/options.js';
import { bundledDatasetPath } from './bundled.js';
import { DATA_FORMATS } from './formats.js';
import { loadDataset, type LoadOptions } from './load.js';
import { leaveOneOut, requireEvaluableUsers } from './split.js';
import type { Interactions, LoadedSplit } from './types.js';

export const datasetOptions = defineOptions({
  dataset: str({ help: 'interaction file (default: the bundled Amazon Games dataset)', arg: 'file' }),
  format: choice(DATA_FORMATS, { help: 'input format (auto: by file name, else by the first 1,000 lines; .gz is detected)', default: 'auto' }),
  user_col: str({ help: 'CSV/TSV/JSONL user column (default: user_id, userId, user, …)', arg: 'name' }),
  item_col: str({ help: 'CSV/TSV/JSONL item column (default: item_id, itemId, movieId, …)', arg: 'name' }),
  time_col: str({ help: 'CSV/TSV/JSONL time column (default: timestamp, time, …; "none" to ignore)', arg: 'name' }),
  min_user_count: int({ help: 'drop users with fewer events', min: 0 }),
  min_item_count: int({ help: 'drop items with fewer events', min: 0 }),
  kcore: choice(['one-pass', 'iterative'] as const, {
    help: 'one-pass (default: one filter on the raw counts, as SASRec/TiSASRec) or iterative (until stable)',
    arg: 'mode',
  }),
});

export type DatasetConfig = ConfigOf<typeof datasetOptions.options>;

export const splitOptions = defineOptions({
  min_interactions: int({
    help: 'leave-one-out: users with fewer interactions stay in train and are not evaluated (the SASRec.pytorch reference uses 4)',
    default: 3,
    min: 3,
  }),
});

export type SplitConfig = ConfigOf<typeof splitOptions.options>;

/** The --dataset path, or the bundled dataset. */
export function datasetPath(c: { readonly dataset?: string }): string {
  if (c.dataset !== undefined) return c.dataset;
  try {
    return bundledDatasetPath();
  } catch (err) {
    throw new UserError(`--dataset is required (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** How the options say to read and filter a dataset. */
export function loadOptionsOf(c: Partial<DatasetConfig>): LoadOptions {
  return {
    format: c.format,
    userCol: c.userCol,
    itemCol: c.itemCol,
    timeCol: c.timeCol,
    minUserCount: c.minUserCount,
    minItemCount: c.minItemCount,
    kcoreMode: c.kcore,
  };
}

/** The dataset the options name (the bundled one by default), read and filtered. */
export async function loadDatasetFrom(c: Partial<DatasetConfig>): Promise<{ path: string; data: Interactions }> {
  const path = datasetPath(c);
  return { path, data: await loadDataset(path, loadOptionsOf(c)) };
}

/** Loads the dataset the options name and splits it leave-one-out; refuses one with nobody to evaluate. */
export async function loadSplit(c: DatasetConfig & SplitConfig): Promise<LoadedSplit> {
  const { path, data } = await loadDatasetFrom(c);
  const split = leaveOneOut(data, c.minInteractions);
  requireEvaluableUsers(split, path);
  return { path, data, split, minInteractions: c.minInteractions };
}

/** A dataset's short name, for default run folders: the file name without extensions (Video.txt.gz → Video). */
export function datasetName(path: string): string {
  const b = basename(path);
  const stem = b.replace(/\.gz$/i, '').replace(/\.[^.]*$/, '');
  return stem || b;
}
