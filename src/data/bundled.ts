import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Name of the dataset shipped with the package (SASRec authors' Amazon "Video Games" file). */
export const BUNDLED_DATASET = 'games/Video.txt.gz';

/**
 * Absolute path of the bundled dataset, `<package>/data/games/Video.txt.gz`. This module sits two
 * levels below the package root both as src/data/*.ts and as dist/data/*.js.
 */
export function bundledDatasetPath(): string {
  const path = fileURLToPath(new URL(`../../data/${BUNDLED_DATASET}`, import.meta.url));
  if (!existsSync(path)) throw new Error(`bundled dataset missing: ${path} (is the package installed completely?)`);
  return path;
}
