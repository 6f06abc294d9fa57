import { asKey } from '../core/options.js';
import { fromEvents, type Event } from '../data/events.js';
import type { DataFormat } from '../data/formats.js';
import { loadDataset as loadFile } from '../data/load.js';
import { datasetOptions, loadFeatures as readFeatures, loadOptionsOf } from '../data/options.js';
import type { Interactions, SideFeatures } from '../data/types.js';
import { refuseUnknown } from './options.js';

export { fromEvents, type Event };

/** How a dataset file is read and filtered (the CLI's --format, --user_col, … --kcore). */
export interface DatasetOptions {
  /** 'auto' (default): by file name, else by content */
  readonly format?: DataFormat;
  /** CSV/TSV/JSONL user column (default: user_id, userId, user, …) */
  readonly userCol?: string;
  /** CSV/TSV/JSONL item column (default: item_id, itemId, movieId, …) */
  readonly itemCol?: string;
  /** 'none' ignores any time column */
  readonly timeCol?: string;
  /** k-core: drop users with fewer events */
  readonly minUserCount?: number;
  /** k-core: drop items with fewer events */
  readonly minItemCount?: number;
  /** 'one-pass' (default, as SASRec) or 'iterative' (until stable) */
  readonly kcore?: 'one-pass' | 'iterative';
}

const readingOptions = datasetOptions.pick('format', 'user_col', 'item_col', 'time_col', 'min_user_count', 'min_item_count', 'kcore');

/**
 * Reads an interaction file: SASRec text ("user item [time]"), one sequence per line ("user item1
 * item2 …"), MovieLens ratings.dat / u.data, CSV, TSV or JSONL, plain or gzipped; ids become dense
 * 1..N and each user's events are put in time order.
 */
export async function loadDataset(path: string, options: DatasetOptions = {}): Promise<Interactions> {
  refuseUnknown(options, [readingOptions]);
  return loadFile(path, loadOptionsOf(readingOptions.parse(options, asKey)));
}

/** Which feature files to read for a dataset (the CLI's --user_features, --item_features and their _columns). */
export interface FeatureFiles {
  /** a user feature file: MovieLens u.user or users.dat, or CSV/TSV/JSONL with userFeaturesColumns */
  readonly userFeatures?: string;
  /** its columns, name:kind with kinds id, categorical, multi, numeric, text (e.g. "user_id:id,age:numeric") */
  readonly userFeaturesColumns?: string;
  /** an item feature file: MovieLens u.item or movies.dat, or CSV/TSV/JSONL with itemFeaturesColumns */
  readonly itemFeatures?: string;
  /** its columns (e.g. "item_id:id,genres:multi,title:text") */
  readonly itemFeaturesColumns?: string;
}

/**
 * Reads side-feature files over `data`'s user and item ids (MovieLens u.user/u.item/users.dat/movies.dat
 * by name, else CSV/TSV/JSONL with declared columns), for train()'s `features`.
 */
export async function loadFeatures(data: Interactions, files: FeatureFiles): Promise<SideFeatures> {
  return readFeatures(files, data);
}
