/** The options of every command that reads a dataset, and loading the split they describe. */
import { statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UserError } from '../core/errors.js';
import { choice, defineOptions, int, str, type ConfigOf } from '../core/options.js';
import { bundledDatasetPath } from './bundled.js';
import { defaultCacheDir, MOVIELENS } from './fetch.js';
import { readFeatureFile } from './feature-files.js';
import { type FeatureMatrix, featureMatrix } from './features.js';
import { DATA_FORMATS } from './formats.js';
import { loadDataset, type LoadOptions } from './load.js';
import { coldItemsSplit, coldUsersSplit, parseCold } from './cold.js';
import { type CtrSplit, ctrSplit, parseCtrLabels } from './ctr.js';
import { leaveOneOut, randomSplit, requireEvaluableUsers } from './split.js';
import type { Interactions, LoadedSplit, Split } from './types.js';

export const datasetOptions = defineOptions({
  dataset: str({
    help:
      'interaction file, or a NAME as the reference takes it: data/NAME.txt (in the working directory), else the file `seqrec data fetch NAME` ' +
      'cached, else the bundled dataset for Video or games (default: the bundled Amazon Games dataset)',
    arg: 'file|name',
  }),
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

const columnsHelp = (entity: string, example: string) =>
  `the columns of a CSV/TSV/JSONL ${entity} feature file, name:kind with kinds id, categorical, multi (a|b|c), numeric, text (e.g. "${example}")`;

export const featureOptions = defineOptions({
  user_features: str({ help: 'user feature file: MovieLens u.user or users.dat, or CSV/TSV/JSONL with --user_features_columns', arg: 'file' }),
  user_features_columns: str({ help: columnsHelp('user', 'user_id:id,age:numeric,country:categorical'), arg: 'spec' }),
  item_features: str({ help: 'item feature file: MovieLens u.item or movies.dat, or CSV/TSV/JSONL with --item_features_columns', arg: 'file' }),
  item_features_columns: str({ help: columnsHelp('item', 'item_id:id,genres:multi,title:text,year:numeric'), arg: 'spec' }),
});

export type FeatureConfig = ConfigOf<typeof featureOptions.options>;

/** The side features the options name, over the dataset's dense user and item ids. */
export async function loadFeatures(c: Partial<FeatureConfig>, data: Interactions): Promise<{ users?: FeatureMatrix; items?: FeatureMatrix }> {
  if (c.userFeaturesColumns !== undefined && c.userFeatures === undefined) throw new UserError('--user_features_columns needs --user_features');
  if (c.itemFeaturesColumns !== undefined && c.itemFeatures === undefined) throw new UserError('--item_features_columns needs --item_features');
  const users =
    c.userFeatures === undefined
      ? undefined
      : featureMatrix(await readFeatureFile(c.userFeatures, '--user_features', c.userFeaturesColumns), data.users);
  const items =
    c.itemFeatures === undefined
      ? undefined
      : featureMatrix(await readFeatureFile(c.itemFeatures, '--item_features', c.itemFeaturesColumns), data.items);
  return { ...(users ? { users } : {}), ...(items ? { items } : {}) };
}

export const splitOptions = defineOptions({
  min_interactions: int({
    help: 'leave-one-out: users with fewer interactions stay in train and are not evaluated (the SASRec.pytorch reference uses 4)',
    default: 3,
    min: 3,
  }),
  split: choice(['loo', 'random'] as const, {
    help:
      "loo (leave-one-out: last item test, second-last valid) | random (RecBole's RO split: each user's interactions shuffled by " +
      '--seed and cut by --split_ratio; ranked by full ranking with Recall@K, NDCG@K, Hit@K, MRR@K, Precision@K over several held-out items; see docs/metrics.md)',
    default: 'loo',
  }),
  split_ratio: str({ help: 'random split: train,valid,test ratios (default 0.8,0.1,0.1)', arg: 'a,b,c' }),
  cold: str({
    help:
      'cold start: users:F holds a fraction F of the users (drawn by --seed) out of training and evaluates them from their features ' +
      '(and --cold_history events); items:F holds F of the items out (all their events) and evaluates users on them, ranked among all items. ' +
      'Half of the held-out ones are valid, half test; see docs/cold-start.md',
    arg: 'users:F|items:F',
  }),
  task: choice(['ranking', 'ctr'] as const, {
    help:
      'ranking (the default: rank held-out items) | ctr (click-through, as RecBole reports FM/FFM: ratings become 0/1 labels by --ctr_labels, ' +
      'the labelled rows are split at random by --split_ratio (default 0.8,0.1,0.1, seeded by --seed), the model is trained pointwise by BCE ' +
      'and reports AUC and LogLoss on valid and test; fm and ffm; see docs/metrics.md)',
    default: 'ranking',
  }),
  ctr_labels: str({ help: '--task ctr: P,N: rating ≥ P is label 1, rating ≤ N label 0, ratings between are dropped (default 4,2)', arg: 'P,N' }),
  cold_history: int({
    help: '--cold users: the first N events (0–3) of a held-out user are their history, the next one the target (default 0: features alone)',
    min: 0,
    max: 3,
  }),
})
  .rule((c) => {
    if (c.cold === undefined) return c.coldHistory === undefined ? undefined : ['cold_history', 'is only read by --cold users:F'];
    const cold = parseCold(c.cold);
    if (!cold) return ['cold', `needs users:F or items:F with 0 < F < 1, e.g. users:0.1 (got "${c.cold}")`];
    if (c.split === 'random') return ['cold', 'evaluates one target per user, leave-one-out style: use it with --split loo'];
    if (cold.kind === 'items' && c.coldHistory !== undefined) return ['cold_history', 'is only read by --cold users:F'];
    return undefined;
  })
  .rule((c) => {
    if (c.task !== 'ctr') return c.ctrLabels === undefined ? undefined : ['ctr_labels', 'is only read by --task ctr'];
    if (c.split !== 'loo') return ['task', 'ctr splits the labelled rows itself (--split_ratio): leave --split out'];
    if (c.cold !== undefined) return ['task', 'ctr has no cold-start protocol: leave --cold out'];
    if (c.ctrLabels !== undefined && !parseCtrLabels(c.ctrLabels))
      return ['ctr_labels', `needs two numbers P,N with N < P, e.g. 4,2 (got "${c.ctrLabels}")`];
    return undefined;
  })
  .rule((c) => {
    if (c.splitRatio === undefined) return undefined;
    if (c.split !== 'random' && c.task !== 'ctr') return ['split_ratio', 'is only read by --split random and --task ctr'];
    return parseSplitRatio(c.splitRatio)
      ? undefined
      : ['split_ratio', `needs three numbers ≥ 0 with train > 0, e.g. 0.8,0.1,0.1 (got "${c.splitRatio}")`];
  });

/** The ratios of --split_ratio, or undefined when malformed. */
export function parseSplitRatio(text: string): number[] | undefined {
  const parts = text.split(',').map((t) => t.trim());
  if (parts.length !== 3 || parts.some((t) => t === '' || !Number.isFinite(Number(t)))) return undefined;
  const r = parts.map(Number);
  return r.every((x) => x >= 0) && r[0] > 0 ? r : undefined;
}

export type SplitConfig = ConfigOf<typeof splitOptions.options>;

/** The bundled dataset's names for `--dataset NAME`: its file's (SASRec's data/Video.txt) and its folder's. */
export const BUNDLED_NAMES: readonly string[] = ['Video', 'games'];

/** A path without a folder in it (and not `.` or `..`): a NAME the reference would look up as data/NAME.txt. */
export function isBareName(value: string): boolean {
  return value !== '' && value !== '.' && value !== '..' && !/[/\\]/.test(value);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Where `--dataset` was found, and the name of the dataset (for run folders). */
export interface ResolvedDataset {
  readonly path: string;
  /** the NAME given when it was looked up by name, else the file's name without extensions */
  readonly name: string;
}

/**
 * What `--dataset` names. An existing file is itself; a path with a folder in it is itself too (reading
 * it says what is wrong). A bare NAME that is no file is looked up as the reference does: data/NAME.txt
 * in the working directory (SASRec.pytorch's layout), then `<cache>/NAME.txt` (what `seqrec data fetch
 * NAME` writes), then the bundled dataset (NAME Video or games). When none exists the error is one
 * line naming the command that gets it.
 */
export function resolveDataset(value: string, cacheDir: string = defaultCacheDir()): ResolvedDataset {
  if (value === '-') return { path: '-', name: 'stdin' }; // standard input (data/lines.ts reads it once)
  if (isFile(value) || !isBareName(value)) return { path: value, name: datasetName(value) };
  const local = join('data', `${value}.txt`);
  const cached = join(cacheDir, `${value}.txt`);
  for (const path of [local, cached]) if (isFile(path)) return { path, name: value };
  if (BUNDLED_NAMES.includes(value)) {
    try {
      return { path: bundledDatasetPath(), name: value };
    } catch {
      // an incomplete installation: fall through to the error
    }
  }
  const how = Object.hasOwn(MOVIELENS, value)
    ? `get it with: seqrec data fetch ${value}`
    : `make it from a raw log with: seqrec convert --input LOG --output ${local}`;
  throw new UserError(`--dataset ${value}: no file ${value}, ${local} or ${cached}; ${how}`);
}

/** The --dataset path (a NAME looked up as resolveDataset() does), or the bundled dataset. */
export function datasetPath(c: { readonly dataset?: string }): string {
  if (c.dataset !== undefined) return resolveDataset(c.dataset).path;
  try {
    return bundledDatasetPath();
  } catch (err) {
    throw new UserError(`--dataset is required (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** The name of the dataset the options name, for run folders: the NAME looked up, else the file's name. */
export function datasetRunName(c: { readonly dataset?: string }, path: string): string {
  return c.dataset !== undefined ? resolveDataset(c.dataset).name : datasetName(path);
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

/** Splits `data` as the options say: leave-one-out, or the random split seeded by `seed`. */
export function splitData(data: Interactions, c: SplitConfig, seed: number): Split {
  // the labelled rows of --task ctr are no ranking split: only seqrec train (and grids) read them, through loadCtrSplit
  if (c.task === 'ctr') throw new UserError('--task ctr is run by seqrec train (and seqrec experiments) only: this command ranks items');
  const cold = c.cold === undefined ? undefined : parseCold(c.cold);
  if (cold) return cold.kind === 'users' ? coldUsersSplit(data, cold.fraction, c.coldHistory ?? 0, seed) : coldItemsSplit(data, cold.fraction, seed);
  return c.split === 'random' ? randomSplit(data, parseSplitRatio(c.splitRatio ?? '0.8,0.1,0.1')!, seed) : leaveOneOut(data, c.minInteractions);
}

/**
 * Loads the dataset the options name and splits it (leave-one-out, or the random split seeded by
 * `seed`), with the side features they name; refuses one with nobody to evaluate.
 */
export async function loadSplit(c: DatasetConfig & SplitConfig & Partial<FeatureConfig>, seed = 42): Promise<LoadedSplit> {
  const { path, data } = await loadDatasetFrom(c);
  const split = splitData(data, c, seed);
  requireEvaluableUsers(split, path);
  const features = await loadFeatures(c, data);
  const withFeatures = features.users || features.items ? { ...split, features } : split;
  return { path, data, split: withFeatures, minInteractions: c.minInteractions };
}

/** The labelled rows `--task ctr` reads (ratings kept, no k-core filter), split as the options say, with the side features they name. */
export async function loadCtrSplit(
  c: DatasetConfig & SplitConfig & Partial<FeatureConfig>,
  seed: number,
): Promise<{ path: string; split: CtrSplit; features: { users?: FeatureMatrix; items?: FeatureMatrix } }> {
  if (c.minUserCount !== undefined || c.minItemCount !== undefined)
    throw new UserError('--task ctr: the k-core filter (--min_user_count, --min_item_count) is not supported');
  const path = datasetPath(c);
  const data = await loadDataset(path, { ...loadOptionsOf(c), ratings: true });
  const split = ctrSplit(data, parseCtrLabels(c.ctrLabels ?? '4,2')!, parseSplitRatio(c.splitRatio ?? '0.8,0.1,0.1')!, seed, path);
  return { path, split, features: await loadFeatures(c, data) };
}

/** A dataset's short name, for default run folders: the file name without extensions (Video.txt.gz → Video). */
export function datasetName(path: string): string {
  const b = basename(path);
  const stem = b.replace(/\.gz$/i, '').replace(/\.[^.]*$/, '');
  return stem || b;
}
