/**
 * Packed causal attention kernels alone, on the segment layouts of real batches (the reference
 * sampler's, as bench/step.ts): min / median ms of forward (with dropout) and backward for the
 * reference and wasm kernels, and the wasm kernels' rate in GFLOPS (2·hd flops per query–key pair
 * per product: 2 products forward, 4 backward).
 *
 *   node --experimental-wasm-relaxed-simd --import tsx bench/attention.ts [--dataset games|ml-100k|all]
 *        [--heads 1] [--reps 20] [--no-reference] [--cpu]
 */
import { fileURLToPath } from 'node:url';
import { loadDataset, leaveOneOut, TrainSampler } from '../src/data/index.js';
import { PackedBatch } from '../src/engine/packing.js';
import { referenceKernels, type Kernels } from '../src/kernels/index.js';
import { createWasmKernelsSync } from '../src/kernels/wasm/index.js';
import { arg } from './args.js';

const which = arg('dataset', 'all');
const heads = Number(arg('heads', '1'));
const reps = Number(arg('reps', '20'));
const withRef = !process.argv.includes('--no-reference');
// --cpu: this process's CPU time instead of wall time (steadier on a shared machine)
const now = process.argv.includes('--cpu')
  ? () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    }
  : () => performance.now();
const specs = [
  { name: 'games', path: '../../shared/data/games/Video.txt', maxlen: 50, dropout: 0.5 },
  { name: 'ml-100k', path: '../../shared/data/ml-100k/u.data', maxlen: 200, dropout: 0.2 },
].filter((s) => which === 'all' || which === s.name);

const wasm = createWasmKernelsSync();
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `min ${s[0].toFixed(2).padStart(7)} ms  median ${s[s.length >> 1].toFixed(2).padStart(7)} ms`;
};

for (const spec of specs) {
  const split = leaveOneOut(await loadDataset(fileURLToPath(new URL(spec.path, import.meta.url))));
  const sampler = new TrainSampler(split, { batchSize: 128, maxlen: spec.maxlen, seed: 1 });
  const layout = new PackedBatch();
  layout.build(sampler.nextBatch().seqs, 128);
  const d = 50,
    hd = d / heads,
    ld = 3 * d,
    rows = layout.rows;
  let tri = 0,
    pairs = 0;
  for (let s = 0; s < layout.segCount; s++) {
    const n = layout.segLen[s];
    tri += (n * (n + 3)) / 2;
    pairs += (n * (n + 3)) / 2 - (layout.segPad[s] > 0 ? 0 : n);
  }
  const flopsF = 2 * 2 * hd * pairs * heads,
    flopsB = 4 * 2 * hd * pairs * heads;
  console.log(
    `\n${spec.name}: ${layout.segCount} segments, ${rows} rows, ${heads} head(s) of ${hd}, ${pairs} query-key pairs per head, dropout ${spec.dropout}`,
  );
  const run = (k: Kernels, label: string) => {
    const qkv = k.alloc(rows * ld),
      out = k.alloc(rows * d),
      dOut = k.alloc(rows * d),
      g = k.alloc(rows * ld);
    for (let i = 0; i < qkv.length; i++) qkv[i] = Math.sin(i * 0.37) * 1.2;
    for (let i = 0; i < dOut.length; i++) dOut[i] = Math.cos(i * 0.11);
    const probs = k.alloc(heads * tri),
      dropped = k.alloc(heads * tri);
    const state = Uint32Array.from([1, 2, 3, 4]);
    const tf: number[] = [],
      tb: number[] = [];
    const n = k === referenceKernels ? Math.max(2, Math.floor(reps / 5)) : reps;
    for (let r = 0; r < n + 1; r++) {
      let t0 = now();
      k.packedCausalAttentionForward(
        layout.segCount,
        heads,
        hd,
        layout.segStart,
        layout.segLen,
        layout.segPad,
        layout.padRow,
        qkv,
        0,
        qkv,
        d,
        qkv,
        2 * d,
        ld,
        spec.dropout,
        state,
        probs,
        0,
        dropped,
        0,
        out,
        0,
        d,
      );
      const f = now() - t0;
      t0 = now();
      k.packedCausalAttentionBackward(
        layout.segCount,
        heads,
        hd,
        layout.segStart,
        layout.segLen,
        layout.segPad,
        layout.padRow,
        qkv,
        0,
        qkv,
        d,
        qkv,
        2 * d,
        ld,
        probs,
        0,
        dropped,
        0,
        dOut,
        0,
        d,
        g,
        0,
        g,
        d,
        g,
        2 * d,
        ld,
      );
      const b = now() - t0;
      if (r > 0) {
        tf.push(f);
        tb.push(b);
      }
    }
    const gf = (fl: number, ts: number[]) => (fl / (Math.min(...ts) * 1e6)).toFixed(1);
    console.log(`  ${label.padEnd(18)} forward  ${stats(tf)}  (${gf(flopsF, tf)} GFLOPS)`);
    console.log(`  ${''.padEnd(18)} backward ${stats(tb)}  (${gf(flopsB, tb)} GFLOPS)`);
  };
  if (withRef) run(referenceKernels, 'reference');
  run(wasm, wasm.name);
}
