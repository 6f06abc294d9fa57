/** Tape semantics: accumulation, zeroGrad, noGrad, buffer reuse, rng hand-off. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ops from '../src/engine/ops.js';
import { Rng } from '../src/engine/rng.js';
import { Tape, getTape, noGrad, setTape } from '../src/engine/tape.js';
import { Parameter } from '../src/engine/tensor.js';
import { getKernels, referenceKernels, setKernels } from '../src/kernels/index.js';

const p = (vals: number[], shape = [vals.length]) => new Parameter(Float32Array.from(vals), shape);

test('parameter gradients accumulate across backward calls until zeroed', () => {
  const tape = getTape();
  const w = p([1, 2, 3]);
  const x = p([4, 5, 6]);
  for (let k = 0; k < 2; k++) {
    tape.backward(ops.sumSquares(ops.mul(w, x)));
    tape.reset();
  }
  // d/dw Σ (w x)² = 2 w x², twice
  assert.deepEqual([...w.grad!], [64, 200, 432]);
  w.grad!.fill(0);
  tape.backward(ops.sumSquares(w));
  tape.reset();
  assert.deepEqual([...w.grad!], [2, 4, 6]);
});

test('a tensor used by two ops receives both gradients', () => {
  const tape = getTape();
  const a = p([1, -2]);
  const y = ops.add(ops.scale(a, 3), ops.mul(a, a)); // 3a + a²
  tape.backward(y, Float32Array.from([1, 1]));
  tape.reset();
  assert.deepEqual([...a.grad!], [5, -1]);
});

test('noGrad records nothing and outputs do not require grad', () => {
  const a = p([1, 2]);
  const y = noGrad(() => ops.scale(a, 2));
  assert.equal(y.requiresGrad, false);
  assert.throws(() => getTape().backward(y, Float32Array.from([1, 1])), /does not depend/);
  getTape().reset();
});

test('backward without a seed needs a scalar', () => {
  const a = p([1, 2]);
  assert.throws(() => getTape().backward(ops.scale(a, 2)), /seed/);
  getTape().reset();
});

test('after reset, a same-shaped step allocates no new buffers', () => {
  let allocs = 0;
  const counting = { ...referenceKernels, name: 'counting', alloc: (n: number) => {
      allocs++;
      return new Float32Array(n);
    },
  };
  const prevK = getKernels();
  setKernels(counting);
  const prevTape = setTape(new Tape());
  try {
    const x = p([0.5, -1, 2, 0.1, 0.3, -0.7], [2, 3]);
    const w = p([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [2, 3]);
    const g = p([1, 1]);
    const b = p([0, 0]);
    const step = () => {
      const tape = getTape();
      const y = ops.layerNorm(ops.relu(ops.linear(x, w, null)), g, b);
      tape.backward(ops.sumSquares(y));
      tape.reset();
    };
    step();
    const first = allocs;
    assert.ok(first > 0);
    step();
    step();
    assert.equal(allocs, first);
  } finally {
    setTape(prevTape);
    setKernels(prevK);
  }
});

test('dropout takes the rng state from and back to the Rng, keeping its cached normal', () => {
  const a = new Rng(3);
  const b = new Rng(3);
  a.normal();
  b.normal(); // both now hold a spare normal deviate
  const x = p(new Array(10).fill(1));
  ops.dropout(x, 0.5, a);
  getTape().reset();
  for (let i = 0; i < 10; i++) b.nextFloat();
  assert.equal(a.normal(), b.normal()); // the spare survived
  assert.equal(a.nextU32(), b.nextU32()); // and the stream advanced by exactly 10 draws
});

test('dropout is the identity in eval mode or with p = 0', () => {
  const x = p([1, 2, 3]);
  const rng = new Rng(1);
  assert.equal(ops.dropout(x, 0.5, rng, false), x);
  assert.equal(ops.dropout(x, 0, rng), x);
});
