import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Parameter } from '../src/engine/tensor.js';
import { makeOptimizer } from '../src/learn/optimizer.js';
import { Adagrad } from '../src/optim/adagrad.js';
import { Adam } from '../src/optim/adam.js';
import { runCli } from './helpers/cli.js';

/** The authors' update in float64: G += g², v = μv − lr·g/√(G + 1e-6), θ += v. */
function byHand(theta: number[], grads: number[][], lr: number, mu: number, rowLength: number): number[] {
  const w = theta.slice();
  const G = w.map(() => 0);
  const v = w.map(() => 0);
  for (const g of grads) {
    for (let r = 0; r < w.length; r += rowLength) {
      if (g.slice(r, r + rowLength).every((x) => x === 0)) continue; // an untouched row does not move
      for (let j = r; j < r + rowLength; j++) {
        G[j] += g[j] * g[j];
        v[j] = mu * v[j] - (lr * g[j]) / Math.sqrt(G[j] + 1e-6);
        w[j] += v[j];
      }
    }
  }
  return w;
}

test('Adagrad with momentum follows the GRU4Rec authors’ update; a row with no gradient keeps its weights and its velocity', () => {
  const start = [0.5, -0.3, 0.2, 0.1, -0.4, 0.7];
  const p = new Parameter(Float32Array.from(start), [3, 2]);
  // row 1 is touched at steps 1 and 3 only: between them its velocity must wait, not carry it on
  const grads = [
    [0.1, -0.2, 0.3, 0.05, 0, 0],
    [0.3, 0.1, 0, 0, -0.2, 0.4],
    [-0.05, 0.2, -0.1, 0.2, 0, 0],
  ];
  const opt = new Adagrad([['w', p] as const], { lr: 0.2, momentum: 0.3 });
  for (const g of grads) {
    p.grad = Float32Array.from(g);
    opt.step();
  }
  const want = byHand(start, grads, 0.2, 0.3, 2);
  for (let i = 0; i < 6; i++) assert.ok(Math.abs(p.data[i] - want[i]) < 1e-6, `element ${i}: ${p.data[i]} vs ${want[i]}`);
  // the same steps with dense momentum (every row moving every step) would differ on row 1
  const dense = byHand(start, grads, 0.2, 0.3, 6);
  assert.ok(Math.abs(dense[2] - want[2]) > 1e-3, 'the row rule is exercised');
  assert.equal(opt.stepCount, 3);
});

test('Adagrad without momentum is plain dense Adagrad (a zero gradient moves nothing)', () => {
  const start = [1, -2, 0.5];
  const p = new Parameter(Float32Array.from(start), [3]);
  const grads = [
    [0.5, 0, -1],
    [0.25, 0.5, 0],
  ];
  const opt = new Adagrad([p], { lr: 0.1 });
  for (const g of grads) {
    p.grad = Float32Array.from(g);
    opt.step();
  }
  const want = [
    1 - 0.1 * (0.5 / Math.sqrt(0.25 + 1e-6)) - 0.1 * (0.25 / Math.sqrt(0.3125 + 1e-6)),
    -2 - 0.1 * (0.5 / Math.sqrt(0.25 + 1e-6)),
    0.5 + 0.1 * (1 / Math.sqrt(1 + 1e-6)),
  ];
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(p.data[i] - want[i]) < 1e-6, `element ${i}`);
});

test('Adagrad state round-trips: a copy continues identically; a state of another optimiser is refused', () => {
  const mk = () => new Parameter(Float32Array.from([0.1, 0.2, 0.3, 0.4]), [2, 2]);
  const [p, q] = [mk(), mk()];
  const a = new Adagrad([['w', p] as const], { lr: 0.05, momentum: 0.5 });
  p.grad = Float32Array.from([0.3, -0.1, 0, 0]);
  a.step();
  const st = a.getState();
  assert.deepEqual(Object.keys(st.buffers), ['sum', 'momentum_buffer']);
  q.data.set(p.data);
  const b = new Adagrad([['w', q] as const], { lr: 0.05, momentum: 0.5 });
  b.setState({ ...st, buffers: { sum: st.buffers.sum.map((x) => x.slice()), momentum_buffer: st.buffers.momentum_buffer.map((x) => x.slice()) } });
  assert.equal(b.stepCount, 1);
  for (const g of [
    [0.2, 0.2, 0.1, 0],
    [0, 0, 0.3, -0.2],
  ]) {
    p.grad = Float32Array.from(g);
    q.grad = Float32Array.from(g);
    a.step();
    b.step();
  }
  assert.deepEqual([...q.data], [...p.data]);
  const adam = new Adam([['w', mk()] as const]);
  assert.throws(() => b.setState(adam.getState()), /Adagrad\.setState: no "sum" buffers/);
});

test('makeOptimizer builds the one the options name', () => {
  const p = new Parameter(new Float32Array(2), [2]);
  assert.ok(makeOptimizer([['w', p]], { optimizer: 'adagrad', lr: 0.2, momentum: 0.3 }) instanceof Adagrad);
  const adam = makeOptimizer([['w', p]], { optimizer: 'adam', lr: 0.001, momentum: 0 });
  assert.ok(adam instanceof Adam);
  assert.deepEqual(adam.bufferNames, ['exp_avg', 'exp_avg_sq']);
});

test('--momentum without --optimizer adagrad, and an unknown optimiser, are one-line errors', async () => {
  const m = await runCli(['train', '--model', 'sasrec', '--dataset', 'nowhere.txt', '--momentum', '0.3']);
  assert.equal(m.code, 2);
  assert.equal(m.stderr, 'seqrec: --momentum: only with --optimizer adagrad\n');
  const o = await runCli(['train', '--model', 'sasrec', '--dataset', 'nowhere.txt', '--optimizer', 'sgd']);
  assert.equal(o.code, 2);
  assert.equal(o.stderr, 'seqrec: --optimizer: expected adam or adagrad, got "sgd"\n');
});
