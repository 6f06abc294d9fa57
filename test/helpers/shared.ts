/**
 * The shared datasets and PyTorch fixtures the suite reads: `../shared` beside the checkout, or the
 * folder named by $SEQREC_SHARED (for a checkout that lives elsewhere).
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = path.resolve(fileURLToPath(import.meta.url), '../../..');

export const SHARED_DIR = path.resolve(repoRoot, process.env.SEQREC_SHARED ?? '../shared');

/** A path under the shared folder, e.g. sharedPath('data/games/Video.txt'). */
export const sharedPath = (...parts: string[]): string => path.join(SHARED_DIR, ...parts);

/** The shared fixtures folder as a file URL ending in '/', for `new URL(name, SHARED_FIXTURES_URL)`. */
export const SHARED_FIXTURES_URL = pathToFileURL(sharedPath('fixtures') + path.sep);
