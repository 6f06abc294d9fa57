import { UserError } from '../cli/errors.js';
import { kcore, type KcoreMode } from './kcore.js';
import { readInteractions, type ReadOptions } from './readers.js';
import type { Interactions } from './types.js';

export type { IdMap, Interactions, Split, TrainBatch } from './types.js';
export { readInteractions, DATA_FORMATS, type DataFormat, type ReadOptions } from './readers.js';
export { kcore, type KcoreMode, type KcoreOptions } from './kcore.js';
export { leaveOneOut, requireEvaluableUsers, evaluableUserCount } from './split.js';
export { TrainSampler, buildHistory, buildHistoryTimes, leftPad, USER_SAMPLING_MODES, type UserSampling, type SamplerOptions, type SamplerState } from './sampler.js';
export { datasetStats, formatStats, type DatasetStats } from './stats.js';
export { bundledDatasetPath, BUNDLED_DATASET } from './bundled.js';
export { writeSasrecFile, writeIdMaps, idMapPaths, type WriteOptions } from './writer.js';
export { fetchMovieLens, defaultCacheDir, MOVIELENS, type MovieLensName, type FetchOptions, type FetchResult } from './fetch.js';
export { scaleTimes, relationMatrix } from './time.js';

export interface LoadOptions extends ReadOptions {
  /** k-core thresholds; 0 or absent = no filtering */
  minUserCount?: number;
  minItemCount?: number;
  kcoreMode?: KcoreMode;
}

/** Reads a dataset and applies the optional k-core filter. */
export async function loadDataset(path: string, options: LoadOptions = {}): Promise<Interactions> {
  const data = await readInteractions(path, options);
  const minUserCount = options.minUserCount ?? 0;
  const minItemCount = options.minItemCount ?? 0;
  if (minUserCount <= 0 && minItemCount <= 0) return data;
  const filtered = kcore(data, { minUserCount, minItemCount, mode: options.kcoreMode });
  if (filtered.userNum === 0) {
    throw new UserError(`${path}: no interactions left after filtering (--min_user_count ${minUserCount}, --min_item_count ${minItemCount})`);
  }
  return filtered;
}
