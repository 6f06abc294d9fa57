import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './cli.js';

/** One epoch's line of a run's log.jsonl. */
export interface EpochLog {
  epoch: number;
  loss: number;
  valid: Record<string, number>;
}

/** `seqrec train --model sasrec --threads 1` on `dataset` into `trainDir` with `flags`: its epochs' log and its model file. */
export async function trainSasrecInNode(
  dataset: string,
  trainDir: string,
  flags: Readonly<Record<string, number>>,
): Promise<{ log: EpochLog[]; bytes: Buffer }> {
  const r = await runCli([
    'train',
    '--model',
    'sasrec',
    '--dataset',
    dataset,
    '--train_dir',
    trainDir,
    '--threads',
    '1',
    ...Object.entries(flags).flatMap(([k, v]) => [`--${k}`, String(v)]),
  ]);
  assert.equal(r.code, 0, r.stderr);
  const log = readFileSync(join(trainDir, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as EpochLog);
  return { log, bytes: readFileSync(join(trainDir, 'sasrec.safetensors')) };
}
