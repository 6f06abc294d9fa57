import { UserError } from '../core/errors.js';
import { kcore, type KcoreMode } from './kcore.js';
import { readInteractions, type ReadOptions } from './readers.js';
import type { Interactions } from './types.js';

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
