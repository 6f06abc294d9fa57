/**
 * Whether a finished run folder holds the results of the run asked for now: a grid whose flags
 * were edited after a run finished would otherwise report the old run's results under the new flags.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { referenceArgs } from './reference-files.js';
import type { TrainRequest } from './request.js';
import { resultFlags } from './run.js';

/** The run folder's args.txt as `name → printed value`, or undefined when it has none readable. */
async function recordedArgs(dir: string): Promise<Record<string, string> | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, 'args.txt'), 'utf8');
  } catch {
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const comma = line.indexOf(',');
    if (comma > 0) out[line.slice(0, comma)] = line.slice(comma + 1);
  }
  return out;
}

/**
 * The first flag that changes results whose value in the finished run's args.txt differs from the
 * request's, worded for the user; undefined when they agree. Flags the file does not record (added
 * to seqrec after the run) are not compared, nor is a folder without args.txt.
 */
export async function recordedFlagChange(req: TrainRequest, dir: string): Promise<string | undefined> {
  const saved = await recordedArgs(dir);
  if (saved === undefined) return undefined;
  const now = referenceArgs(req, { dataset: '', trainDir: dir });
  for (const name of Object.keys(resultFlags(req))) {
    if (!(name in saved) || !(name in now)) continue;
    if (saved[name] !== now[name]) return `--${name} is ${now[name]} now but was ${saved[name]} when it ran`;
  }
  return undefined;
}
