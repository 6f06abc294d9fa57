export type { IdMap, Interactions, LoadedSplit, Split, TrainBatch } from './types.js';
export { readInteractions, detectFileFormat, DATA_FORMATS, type DataFormat, type ReadOptions } from './readers.js';
export { parseInteractionText } from './text.js';
export { kcore, type KcoreMode, type KcoreOptions } from './kcore.js';
export { leaveOneOut, requireEvaluableUsers, evaluableUserCount } from './split.js';
export {
  TrainSampler,
  buildHistory,
  buildHistoryTimes,
  leftPad,
  USER_SAMPLING_MODES,
  type UserSampling,
  type SamplerOptions,
  type SamplerState,
  type ClozeOptions,
} from './sampler.js';
export { datasetStats, formatStats, type DatasetStats } from './stats.js';
export { bundledDatasetPath, BUNDLED_DATASET } from './bundled.js';
export { writeSasrecFile, writeSequencesFile, writeIdMaps, idMapPaths, type WriteOptions } from './writer.js';
export { fetchMovieLens, defaultCacheDir, MOVIELENS, type MovieLensName, type FetchOptions, type FetchResult } from './fetch.js';
export { scaleTimes, relationMatrix } from './time.js';

export { loadDataset, type LoadOptions } from './load.js';
export {
  datasetOptions,
  splitOptions,
  loadSplit,
  loadDatasetFrom,
  datasetPath,
  datasetName,
  type DatasetConfig,
  type SplitConfig,
} from './options.js';
