/** Reading a finished run directory back in tests: per-epoch losses, metrics and the model's tensors. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSafetensors } from '../../src/engine/safetensors.js';

/** The training loss of each epoch, from log.jsonl. */
export function epochLosses(dir: string): number[] {
  return readFileSync(join(dir, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).loss);
}

/** The metrics of every results.json row, in order. */
export function runMetrics(dir: string): unknown[] {
  return JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')).results.map((r: { metrics: unknown }) => r.metrics);
}

/** Every tensor of the run's model file, as [name, values]. */
export function modelTensors(dir: string, file: string): Array<[string, number[]]> {
  return [...parseSafetensors(readFileSync(join(dir, file))).tensors].map(([n, t]) => [n, Array.from(t.data)]);
}

/** A resumed run equals the uninterrupted one: the same losses per epoch, results and model weights. */
export function assertSameRun(resumed: string, uninterrupted: string, modelFile: string): void {
  assert.deepEqual(epochLosses(resumed), epochLosses(uninterrupted));
  assert.deepEqual(runMetrics(resumed), runMetrics(uninterrupted));
  assert.deepEqual(modelTensors(resumed, modelFile), modelTensors(uninterrupted, modelFile));
}
