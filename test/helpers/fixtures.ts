/** Loading the PyTorch parity fixtures (../shared/fixtures, $SEQREC_SHARED/fixtures, or $SEQREC_FIXTURES) and comparing arrays. */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseSafetensors } from '../../src/engine/safetensors.js';
import { sharedPath } from './shared.js';

export const FIXTURES_DIR = process.env.SEQREC_FIXTURES ?? sharedPath('fixtures');

export interface Fixture {
  name: string;
  dir: string;
  config: Record<string, unknown>;
  inputs: Record<string, unknown>;
  weights: Map<string, { shape: number[]; data: Float32Array }>;
  expected: Map<string, { shape: number[]; data: Float32Array }>;
}

/** Names of fixture folders whose config.json has the given "model". */
export function fixtureFolders(model: string): string[] {
  if (!existsSync(FIXTURES_DIR)) return [];
  return readdirSync(FIXTURES_DIR)
    .filter((n) => {
      const cfg = join(FIXTURES_DIR, n, 'config.json');
      if (!statSync(join(FIXTURES_DIR, n)).isDirectory() || !existsSync(cfg)) return false;
      return (JSON.parse(readFileSync(cfg, 'utf8')) as { model?: string }).model === model;
    })
    .sort();
}

export function loadFixture(name: string): Fixture {
  const dir = join(FIXTURES_DIR, name);
  const st = (f: string) => parseSafetensors(new Uint8Array(readFileSync(join(dir, f)))).tensors;
  return {
    name,
    dir,
    config: JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')),
    inputs: JSON.parse(readFileSync(join(dir, 'inputs.json'), 'utf8')),
    weights: st('weights.safetensors'),
    expected: st('expected.safetensors'),
  };
}

/** A [B][L] JSON array → flat Int32Array. */
export function flatInts(rows: unknown): Int32Array {
  return Int32Array.from((rows as number[][]).flat());
}

/**
 * Element-wise |a − e| ≤ atol + rtol·|e|; throws naming the worst element. Returns the max relative
 * error (for reporting).
 */
export function assertClose(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-4, atol = 1e-6): number {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  let worst = -1;
  let worstExcess = 0;
  let maxRel = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const err = Math.abs(a - e);
    const tol = atol + rtol * Math.abs(e);
    if (!(err <= tol)) {
      const excess = Number.isNaN(err) ? Infinity : err / tol;
      if (excess > worstExcess) {
        worstExcess = excess;
        worst = i;
      }
    }
    maxRel = Math.max(maxRel, err / Math.max(Math.abs(e), atol / rtol));
  }
  if (worst >= 0) {
    throw new Error(`${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (tolerance ${rtol} rel + ${atol} abs)`);
  }
  return maxRel;
}
