/**
 * TiSASRec vs SASRec training step: median and min time of one trainStep (forward + backward + Adam)
 * at the same settings, on ML-100k (../shared/data/ml-100k/u.data, 5-core one-pass), d = 50, 2 blocks,
 * 1 head, B = 128, dropout 0.2, time_span 256, at maxlen 50 and 200, with the WebAssembly kernels
 * (GEMM, attention, TiSASRec's time-aware softmax and relation kernels, element-wise) unless
 * --kernels reference.
 *
 *   node --import tsx bench/tisasrec-step.ts [--maxlen 50,200] [--kernels wasm|reference]
 *        [--steps N] [--rounds R] [--warmup W] [--paths packed,dense] [--cpu] [--json]
 *
 * Batches are drawn beforehand by the reference sampler (TiSASRec's from the time-scaled split; the
 * per-batch relation matrices are built inside trainStep, so they are timed). Rounds interleave the
 * configurations; the machine is shared with other work, so the median and the min over all timed steps
 * are reported (the min is the steadier on a loaded machine), each with its ratio to SASRec's.
 * Single thread. The V8 flag for relaxed SIMD is set at start-up, as the CLI does. At maxlen 200 the
 * dense paths of both models plus the packed ones exceed the wasm backend's 2 GiB memory in one
 * process: run `--paths dense` on its own there.
 */
import v8 from 'node:v8';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Tape, setTape } from '../src/engine/tape.js';
import { loadDataset, leaveOneOut, TrainSampler, type TrainBatch } from '../src/data/index.js';
import { fitTimeScaling, scaleSplitTimes } from '../src/data/time.js';
import { referenceKernels, setKernels, type Kernels } from '../src/kernels/index.js';
import { SASRec } from '../src/models/sasrec/sasrec.js';
import { TiSASRec } from '../src/models/tisasrec/tisasrec.js';
import { Adam } from '../src/optim/adam.js';
import { arg } from './args.js';
import { trainStep } from '../src/learn/step.js';
import type { Network } from '../src/models/contract.js';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

const maxlens = arg('maxlen', '50,200').split(',').map(Number);
const kernelsArg = arg('kernels', 'wasm');
const paths = arg('paths', 'packed').split(',') as Array<'packed' | 'dense'>;
const stepsArg = arg('steps', '');
const rounds = Number(arg('rounds', '3'));
const warmup = Number(arg('warmup', '2'));
const json = process.argv.includes('--json');
// --cpu: this process's CPU time instead of wall time (steadier when other work shares the cores)
const useCpu = process.argv.includes('--cpu');
const now = useCpu
  ? () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    }
  : () => performance.now();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface Config {
  name: string;
  model: Network;
  adam: Adam;
  tape: Tape;
  batches: TrainBatch[];
  times: number[];
}

async function main(): Promise<void> {
  const wasm = kernelsArg === 'wasm' ? await import('../src/kernels/wasm/index.js') : null;
  // a fresh backend per maxlen: the tape pools of the previous configurations live in its memory
  const freshKernels = (): Kernels => {
    const k = wasm ? wasm.createWasmKernelsSync() : referenceKernels;
    setKernels(k);
    return k;
  };
  const file = fileURLToPath(new URL('../../shared/data/ml-100k/u.data', import.meta.url));
  if (!existsSync(file)) throw new Error(`${file} not found`);
  const data = await loadDataset(file, { minUserCount: 5, minItemCount: 5 });
  const split = leaveOneOut(data);
  const scaled = scaleSplitTimes(split, fitTimeScaling(data));
  const B = 128;
  const rows: Array<Record<string, unknown>> = [];
  for (const L of maxlens) {
    const k = freshKernels();
    const nBatches = 8;
    const draw = (s: typeof split) => {
      const sampler = new TrainSampler(s, { batchSize: B, maxlen: L, seed: 1 });
      return Array.from({ length: nBatches }, () => sampler.nextBatch());
    };
    const plain = draw(split);
    const timed = draw(scaled);
    let real = 0;
    for (const b of plain) for (const x of b.seqs) if (x !== 0) real++;
    const realFrac = real / (nBatches * B * L);
    const steps = stepsArg ? Number(stepsArg) : L >= 200 ? 4 : 10;
    const common = { itemNum: data.itemNum, maxlen: L, hiddenUnits: 50, numBlocks: 2, numHeads: 1, dropoutRate: 0.2 };
    const configs: Config[] = [];
    for (const path of paths) {
      const packed = path === 'packed';
      const s = new SASRec(common, { seed: 42, packed });
      configs.push({ name: `sasrec ${path}`, model: s, adam: new Adam(s.namedParameters()), tape: new Tape(), batches: plain, times: [] });
      const t = new TiSASRec({ ...common, timeSpan: 256, l2Emb: 0.00005 }, { seed: 42, packed });
      configs.push({ name: `tisasrec ${path}`, model: t, adam: new Adam(t.namedParameters()), tape: new Tape(), batches: timed, times: [] });
    }
    let bi = 0;
    for (let r = 0; r < rounds; r++) {
      for (const c of configs) {
        const prev = setTape(c.tape);
        try {
          const w = r === 0 ? warmup : 1;
          for (let s = 0; s < w + steps; s++) {
            const batch = c.batches[(bi + s) % nBatches];
            const t0 = now();
            const loss = trainStep(c.model, c.adam, batch);
            const dt = now() - t0;
            if (!Number.isFinite(loss)) throw new Error(`${c.name}: loss ${loss}`);
            if (s >= w) c.times.push(dt);
          }
        } finally {
          setTape(prev);
        }
      }
      bi += steps + 1;
    }
    const base = new Map<string, { median: number; min: number }>();
    for (const c of configs) {
      const ms = median(c.times);
      const min = Math.min(...c.times);
      const path = c.name.split(' ')[1];
      if (c.name.startsWith('sasrec')) base.set(path, { median: ms, min });
      const sas = base.get(path)!;
      const row = {
        maxlen: L,
        realTokens: realFrac,
        kernels: k.name,
        clock: useCpu ? 'cpu' : 'wall',
        config: c.name,
        medianMs: ms,
        minMs: min,
        steps: c.times.length,
        ratioToSasrec: ms / sas.median,
        minRatioToSasrec: min / sas.min,
      };
      rows.push(row);
      if (!json) {
        console.log(
          `ML-100k L=${L} (real ${(100 * realFrac).toFixed(1)}%) ${k.name} ${c.name.padEnd(16)} median ${ms.toFixed(1)} ms, min ${min.toFixed(1)} ms ${useCpu ? 'CPU' : 'wall'} over ${c.times.length} steps` +
            (c.name.startsWith('tisasrec') ? `  (${(ms / sas.median).toFixed(2)}× SASRec by median, ${(min / sas.min).toFixed(2)}× by min)` : ''),
        );
      }
    }
  }
  if (json) console.log(JSON.stringify(rows, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
