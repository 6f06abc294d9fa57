/** loopStateOf: which train_state a --resume accepts (the words of a real checkpoint are signed int32). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadedCheckpoint } from '../src/models/common/checkpoint-format.js';
import { loopStateOf } from '../src/train/loop.js';

const state = (patch: Record<string, unknown> = {}) => ({
  format: 'seqrec-train-state-1',
  epoch: 1,
  steps: 1,
  stepsPerEpoch: 1,
  adamStep: 1,
  // as written by a real run (Rng.getState mixes signed and unsigned words)
  sampler: { rng: [-1625464891, 1626685178, -1212949695, 2230874010], passRng: [1077714308, -1292517381, -1084662613, 3784407766], position: 2 },
  dropoutRng: [2324156213, 2271588603, 3338772019, 274446662, 0.25],
  schedule: { baseLr: 0.001 },
  ...patch,
});
const ckpt = (trainState: unknown): LoadedCheckpoint => ({ tensors: new Map(), config: undefined, extra: {}, trainState, optimizer: new Map() });

test('a real train_state is accepted: signed and unsigned 32-bit words, a spare normal', () => {
  assert.equal(loopStateOf(ckpt(state()), 'last.safetensors').epoch, 1);
});

test('stuck or out-of-range generator words and negative counters are refused', () => {
  const cases: Array<Record<string, unknown>> = [
    { sampler: { rng: [0, 0, 0, 0], passRng: [1, 2, 3, 4], position: 0 } },
    { dropoutRng: [2 ** 32, 0, 0, 0] },
    { dropoutRng: [-(2 ** 31) - 1, 1, 2, 3] },
    { dropoutRng: [1.5, 1, 2, 3] },
    { dropoutRng: [1, 2, 3, 4, 'x'] },
    { steps: -1 },
    { adamStep: -3 },
    { stepsPerEpoch: 0 },
  ];
  for (const patch of cases) {
    assert.throws(
      () => loopStateOf(ckpt(state(patch)), 'last.safetensors'),
      /last\.safetensors: cannot resume from it: train_state is malformed/,
      JSON.stringify(patch),
    );
  }
});
