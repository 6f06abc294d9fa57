import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSchedule, isConstant, lrAt } from '../src/optim/schedule.js';
import { leaveOneOut } from '../src/data/split.js';
import { Rng } from '../src/engine/rng.js';
import { asKey } from '../src/core/options.js';
import { sasrec } from '../src/models/sasrec/spec.js';
import { trainNetwork } from '../src/train/loop.js';
import { trainingOptions } from '../src/learn/options.js';
import { buildNetwork } from '../src/train/train.js';
import type { Interactions } from '../src/data/types.js';

test('step decay: lr · rate^floor(step / N), counted in optimizer steps', () => {
  const s = { baseLr: 0.01, decayStep: 3, decayRate: 0.5 };
  assert.deepEqual(
    [0, 1, 2, 3, 5, 6, 9].map((k) => lrAt(s, k)),
    [0.01, 0.01, 0.01, 0.005, 0.005, 0.0025, 0.00125],
  );
});

test('linear warm-up: lr · (step+1)/W for the first W steps, then lr', () => {
  const s = { baseLr: 0.001, warmupSteps: 4 };
  assert.deepEqual(
    [0, 1, 2, 3, 4, 100].map((k) => lrAt(s, k)),
    [0.00025, 0.0005, 0.00075, 0.001, 0.001, 0.001],
  );
});

test('warm-up and decay compose multiplicatively; the decay clock starts at step 0', () => {
  const s = { baseLr: 1, warmupSteps: 4, decayStep: 2, decayRate: 0.1 };
  const got = [0, 1, 2, 3, 4, 5].map((k) => lrAt(s, k));
  const want = [0.25, 0.5, 0.75 * 0.1, 1 * 0.1, 0.1 ** 2, 0.1 ** 2];
  for (const [i, g] of got.entries()) assert.ok(Math.abs(g - want[i]) < 1e-15, `step ${i}: ${g} vs ${want[i]}`);
  assert.equal(isConstant(s), false);
  assert.equal(isConstant({ baseLr: 1 }), true);
});

test('invalid schedules are refused naming the flag', () => {
  assert.throws(() => checkSchedule({ baseLr: 1, warmupSteps: -1 }), /--warmup_steps/);
  assert.throws(() => checkSchedule({ baseLr: 1, decayStep: 2, decayRate: 0 }), /--lr_decay_rate/);
  assert.throws(() => trainingOptions.parse({ lr_decay_step: '5' }), { message: /^--lr_decay_step: needs --lr_decay_rate$/ });
  assert.throws(() => trainingOptions.parse({ lr_decay_rate: '0.5' }), { message: /^--lr_decay_rate: needs --lr_decay_step$/ });
  assert.throws(() => trainingOptions.parse({ warmup_steps: '-1' }), { message: /^--warmup_steps: expected an integer ≥ 0, got -1$/ });
  assert.throws(() => trainingOptions.parse({ lrDecayRate: 0 }, asKey), { message: /^lrDecayRate: expected a number > 0, got 0$/ });
});

test('the training loop sets the scheduled lr before every step', async () => {
  // 80 users, batch 16 → 5 steps per epoch; the epoch's last step is 4, 9, 14
  const seqs: Int32Array[] = [new Int32Array(0)];
  for (let u = 1; u <= 80; u++) seqs.push(Int32Array.from({ length: 6 + (u % 5) }, (_, t) => 1 + ((u + t) % 20)));
  const ids = (n: number, p: string) => ({ toRaw: ['', ...Array.from({ length: n }, (_, i) => `${p}${i + 1}`)], toIndex: new Map<string, number>() });
  const data = { userNum: 80, itemNum: 20, seqs, users: ids(80, 'u'), items: ids(20, 'i') } as unknown as Interactions;
  const split = leaveOneOut(data, 3);
  const lrs: number[] = [];
  const training = trainingOptions.parse({ batchSize: 16, numEpochs: 3, lr: 0.01, warmupSteps: 10, lrDecayStep: 7, lrDecayRate: 0.5 }, asKey);
  const options = sasrec.options.parse({ maxlen: 6, hiddenUnits: 8, numBlocks: 1 }, asKey);
  const model = await trainNetwork(buildNetwork(sasrec, split, options, training, new Rng(1)), training, {
    onEpoch: (info) => void lrs.push(info.lr),
  });
  model.dispose();
  // step 4: warm-up 5/10 → 0.005; step 9: warm-up done, decay 0.5 → 0.005; step 14: 0.25 → 0.0025
  assert.deepEqual(lrs, [0.005, 0.005, 0.0025]);
});
