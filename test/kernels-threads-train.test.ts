/**
 * Training with the wasm thread pool is bit-identical to one thread: SASRec (packed path, wasm
 * kernels, dropout on; 1 and 2 heads, post- and pre-LN) trained a few Adam steps with the pool's
 * thresholds at 0 (every GEMM and attention call split across 2 threads) ends with every parameter,
 * every loss and the predictions exactly equal to the one-thread run. And `seqrec train --threads 2`
 * exits normally (workers stopped) with the same log and metrics as `--threads 1`.
 */
import assert from 'node:assert/strict';
import { test, after } from 'node:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../src/engine/rng.js';
import { Tape, setTape } from '../src/engine/tape.js';
import { referenceKernels, setKernels } from '../src/kernels/index.js';
import { createWasmKernelsSync } from '../src/kernels/wasm/index.js';
import { startThreadPool } from '../src/kernels/wasm/pool-start.js';
import type { SASRecConfig } from '../src/models/sasrec/sasrec.js';
import { TiSASRec, type TiSASRecConfig } from '../src/models/tisasrec/tisasrec.js';
import { Adam } from '../src/optim/adam.js';
import { runCli } from './helpers/cli.js';
import { writeRingDataset } from './helpers/datasets.js';
import { leftPaddedBatch } from './helpers/batches.js';
import { trainSASRecAndPredict } from './helpers/sasrec-train.js';
import { trainStep } from '../src/learn/step.js';
import { lossFor, lossOptions } from '../src/losses/index.js';
import { SASRec } from '../src/models/sasrec/sasrec.js';

const L = 30;
const ITEMS = 60;

const makeBatch = (lengths: number[], rng: Rng) => leftPaddedBatch(lengths, rng, L, ITEMS);

const wasm = createWasmKernelsSync();
const pool = await startThreadPool(wasm, 2, { gemmMinFlops: 0, attnMinWork: 0, rangeMinElems: 0, adaptive: false, timeoutMs: 20_000 });
wasm.parallel.runner = null;
after(() => pool.close());

/** Row lengths of every training batch here (full, empty and one-item rows among them). */
const LENGTHS = [30, 1, 5, 0, 9, 3, 12, 7, 30, 17, 22, 2, 29, 8, 11, 4];

/** Runs `fn` on the wasm kernels, split across the pool's 2 threads or not, on a fresh tape; restores the reference kernels. */
function onWasm<T>(threads: boolean, fn: () => T): T {
  setKernels(wasm);
  wasm.parallel.runner = threads ? pool : null;
  const prev = setTape(new Tape());
  try {
    return fn();
  } finally {
    setTape(prev);
    wasm.parallel.runner = null;
    setKernels(referenceKernels);
  }
}

function train(threads: boolean, cfg: SASRecConfig, steps: number) {
  return onWasm(threads, () => trainSASRecAndPredict(cfg, steps, LENGTHS));
}

function same(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < b.length; i++) if (!Object.is(a[i], b[i])) assert.fail(`${what}[${i}]: 2 threads ${a[i]}, 1 thread ${b[i]}`);
}

for (const heads of [1, 2]) {
  for (const normFirst of [false, true]) {
    test(`SASRec on 2 threads = 1 thread, bit for bit (dropout 0.3, ${heads} head(s), ${normFirst ? 'pre' : 'post'}-LN)`, { timeout: 120_000 }, () => {
      const cfg: SASRecConfig = { itemNum: ITEMS, maxlen: L, hiddenUnits: 20, numBlocks: 2, numHeads: heads, dropoutRate: 0.3, normFirst, l2Emb: 0.001 };
      const one = train(false, cfg, 4);
      const before = { ...pool.splits };
      const two = train(true, cfg, 4);
      // the calls really were split
      assert.ok(pool.splits.gemm > before.gemm && pool.splits.attnForward > before.attnForward && pool.splits.attnBackward > before.attnBackward && pool.splits.range > before.range);
      same(two.losses, one.losses, 'loss');
      assert.equal(two.params.size, one.params.size);
      for (const [name, p] of one.params) same(two.params.get(name)!, p, name);
      same(two.scores, one.scores, 'predict');
    });
  }
}

/** SASRec with sampled softmax over K = 8 negatives per position: the fused gather-dot kernels' path. */
function trainSampled(threads: boolean, steps: number) {
  return onWasm(threads, () => {
    const K = 8;
    const cfg: SASRecConfig = { itemNum: ITEMS, maxlen: L, hiddenUnits: 20, numBlocks: 1, numHeads: 1, dropoutRate: 0.2 };
    const model = new SASRec(cfg, { seed: 4, loss: lossFor(lossOptions.parse({ loss: 'sampled_softmax', train_negatives: K }), ITEMS) });
    const adam = new Adam(model.namedParameters(), { lr: 0.01, betas: [0.9, 0.98] });
    const rng = new Rng(13);
    const losses: number[] = [];
    for (let s = 0; s < steps; s++) {
      const b = makeBatch(LENGTHS, rng);
      const neg = new Int32Array(b.pos.length * K);
      for (let i = 0; i < b.pos.length; i++) if (b.pos[i] !== 0) for (let k = 0; k < K; k++) neg[i * K + k] = 1 + rng.nextInt(ITEMS);
      losses.push(trainStep(model, adam, { ...b, neg, negatives: K }));
    }
    return { losses, params: new Map(model.namedParameters().map(([n, p]) => [n, p.data.slice()] as const)) };
  });
}

test('SASRec with sampled softmax (K 8) on 2 threads = 1 thread, bit for bit; the gather-dot kernels split', { timeout: 120_000 }, () => {
  const one = trainSampled(false, 3);
  const before = { ...pool.splits };
  const two = trainSampled(true, 3);
  assert.ok(pool.splits.gatherDot > before.gatherDot && pool.splits.gatherDotBackward > before.gatherDotBackward, JSON.stringify(pool.splits));
  same(two.losses, one.losses, 'loss');
  for (const [name, p] of one.params) same(two.params.get(name)!, p, name);
});

function trainTi(threads: boolean, cfg: TiSASRecConfig, steps: number) {
  return onWasm(threads, () => {
    const model = new TiSASRec(cfg, { seed: 3 });
    const adam = new Adam(model.namedParameters(), { lr: 0.01, betas: [0.9, 0.98] });
    const rng = new Rng(12);
    const losses: number[] = [];
    for (let s = 0; s < steps; s++) {
      const b = makeBatch(LENGTHS, rng);
      const times = new Float64Array(b.seqs.length);
      for (let i = 0; i < times.length; i++) if (b.seqs[i] !== 0) times[i] = (i % L) * 2 + rng.nextInt(3);
      losses.push(trainStep(model, adam, { ...b, times }));
    }
    return { losses, params: new Map(model.namedParameters().map(([n, p]) => [n, p.data.slice()] as const)) };
  });
}

test('TiSASRec on 2 threads = 1 thread, bit for bit (dropout 0.3, 2 heads)', { timeout: 120_000 }, () => {
  const cfg: TiSASRecConfig = { itemNum: ITEMS, maxlen: L, hiddenUnits: 20, numBlocks: 2, numHeads: 2, dropoutRate: 0.3, timeSpan: 16 };
  const one = trainTi(false, cfg, 3);
  const before = { ...pool.splits };
  const two = trainTi(true, cfg, 3);
  assert.ok(pool.splits.gemm > before.gemm && pool.splits.range > before.range);
  same(two.losses, one.losses, 'loss');
  for (const [name, p] of one.params) same(two.params.get(name)!, p, name);
});

test('seqrec train --threads 2 exits normally and matches --threads 1', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'seqrec-threads-'));
  try {
    const dataset = writeRingDataset(join(dir, 'ring.txt'));
    const args = ['train', '--model', 'sasrec', '--dataset', dataset, '--maxlen', '8', '--hidden_units', '16', '--num_blocks', '1',
      '--num_heads', '2', '--dropout_rate', '0.2', '--batch_size', '16', '--lr', '0.01', '--seed', '7', '--num_epochs', '2', '--eval_every', '2'];
    const runs = [];
    for (const threads of ['1', '2']) {
      const d = join(dir, `t${threads}`);
      const r = await runCli([...args, '--threads', threads, '--train_dir', d]);
      assert.equal(r.code, 0, r.stderr);
      const log = readFileSync(join(d, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const results = JSON.parse(readFileSync(join(d, 'results.json'), 'utf8')).results.map((x: { metrics: unknown }) => x.metrics);
      runs.push({ losses: log.map((l: { loss: number }) => l.loss), results });
    }
    assert.deepEqual(runs[1], runs[0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
