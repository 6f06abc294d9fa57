/** The tape's buffer pool with shapes that vary per step (the packed padding-skip path). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../src/engine/rng.js';
import { Tape, poolCapacity } from '../src/engine/tape.js';
import { getKernels, referenceKernels, setKernels } from '../src/kernels/index.js';

test('poolCapacity: ≥ n, at most 12.5% slack above 64, monotone, 8 capacities per power of two', () => {
  let prev = 0;
  const caps = new Set<number>();
  for (let n = 0; n <= 5000; n++) {
    const c = poolCapacity(n);
    assert.ok(c >= n && Number.isInteger(c), `capacity ${c} for ${n}`);
    if (n > 64) assert.ok(c <= n * 1.125, `capacity ${c} for ${n}`);
    else assert.equal(c, n);
    assert.ok(c >= prev);
    prev = c;
    if (n > 1024 && n <= 2048) caps.add(c);
  }
  assert.equal(caps.size, 8);
});

test('steps with varying sizes reuse a bounded set of buffers; alloc returns exactly n floats', () => {
  let allocs = 0;
  const counting = { ...referenceKernels, name: 'counting', alloc: (n: number) => {
      allocs++;
      return new Float32Array(n);
    },
  };
  const prev = getKernels();
  setKernels(counting);
  try {
    const tape = new Tape();
    const rng = new Rng(3);
    for (let step = 0; step < 300; step++) {
      for (let k = 0; k < 3; k++) {
        const n = 4096 + rng.nextInt(4096);
        const buf = tape.alloc(n);
        assert.equal(buf.length, n);
        buf.fill(k); // writable, distinct from the other live buffers
      }
      tape.reset();
    }
    // sizes in [4096, 8192): 9 capacities (4096, 4608, …, 8192), at most 3 live buffers each
    assert.ok(allocs <= 27, `${allocs} allocations`);
    // live buffers never alias each other
    const a = tape.alloc(5000);
    const b = tape.alloc(5001);
    a.fill(1);
    b.fill(2);
    assert.ok(a.every((x) => x === 1));
    tape.reset();
  } finally {
    setKernels(prev);
  }
});
