/**
 * The shared datasets and PyTorch fixtures the suite reads: `../shared` beside the checkout, or the
 * folder named by $SEQREC_SHARED (for a checkout that lives elsewhere).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = path.resolve(fileURLToPath(import.meta.url), '../../..');

export const SHARED_DIR = path.resolve(repoRoot, process.env.SEQREC_SHARED ?? '../shared');

/** A path under the shared folder, e.g. sharedPath('data/games/Video.txt'). */
export const sharedPath = (...parts: string[]): string => path.join(SHARED_DIR, ...parts);

/** The shared fixtures folder as a file URL ending in '/', for `new URL(name, SHARED_FIXTURES_URL)`. */
export const SHARED_FIXTURES_URL = pathToFileURL(sharedPath('fixtures') + path.sep);

/**
 * `{ skip: NEEDS_SHARED }` for a test that reads the shared folder: when the whole folder is absent (a
 * checkout that does not sit beside it, and no $SEQREC_SHARED) the test is skipped, saying so; when the
 * folder is there, a missing file in it still fails the test.
 */
export const NEEDS_SHARED: string | false = existsSync(SHARED_DIR)
  ? false
  : `needs the shared datasets and fixtures, and ${SHARED_DIR} does not exist (set SEQREC_SHARED to their folder)`;

/** The same for the parity fixtures, which $SEQREC_FIXTURES can provide on its own. */
export const NEEDS_SHARED_FIXTURES: string | false = process.env.SEQREC_FIXTURES ? false : NEEDS_SHARED;
