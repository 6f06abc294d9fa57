/**
 * Batch sampling vs the training step, and what `--num_workers` does about it.
 *
 * Default (share): times TrainSampler.nextBatch and the model's trainStep separately, single thread,
 * WebAssembly kernels, reference defaults (d 50, 2 blocks, 1 head, B 128, dropout 0.2):
 * SASRec on the bundled Amazon Games data at maxlen 50 and 200, and TiSASRec (maxlen 50, time_span
 * 256) on a timed dataset, where it also times the per-batch time preparation that runs inside the
 * step (TimeBatchLayout.build: relation indices and their per-sequence compaction).
 *
 * --epochs: training time per step through the real loop (train/loop.ts runEpochs) with
 * --num_workers 0, 1, 2 and kernel --threads 1, 2, the variants interleaved round by round; prints
 * the minimum over rounds (the machine may be loaded) and the consumer's wait for the worker.
 * Worker start-up (once per run) is outside the timed epochs and printed separately.
 *
 *   node --import tsx bench/sampling-share.ts [--steps 40] [--timed ml-100k-with-times.txt]
 *   node --import tsx bench/sampling-share.ts --epochs [--steps 24] [--rounds 3] [--ml100k ml-100k.txt] [--timed …] [--only NAME-PART]
 *
 * Without --ml100k / --timed the ML-100k and TiSASRec cases are skipped.
 */
import { loadavg } from 'node:os';
import { bundledDatasetPath, leaveOneOut, loadDataset, TrainSampler, type Split, type TrainBatch } from '../src/data/index.js';
import { PrefetchSampler } from '../src/data/prefetch.js';
import { fitTimeScaling, scaleSplitTimes } from '../src/data/time.js';
import { Rng } from '../src/engine/rng.js';
import { TimeBatchLayout } from '../src/engine/time-attention.js';
import { getKernels } from '../src/kernels/index.js';
import { useWasmKernels } from '../src/kernels/wasm/install.js';
import { startKernelThreads } from '../src/kernels/wasm/pool-start.js';
import type { Model, Network } from '../src/models/contract.js';
import { SASRec } from '../src/models/sasrec/sasrec.js';
import { TiSASRec } from '../src/models/tisasrec/tisasrec.js';
import { Adam } from '../src/optim/adam.js';
import { runEpochs } from '../src/train/loop.js';
import { trainingOptions } from '../src/learn/options.js';
import { trainStep } from '../src/learn/step.js';

useWasmKernels();
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const epochsMode = process.argv.includes('--epochs');
const steps = Number(arg('--steps') ?? (epochsMode ? 24 : 40));
const rounds = Number(arg('--rounds') ?? 3);
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

interface Case {
  name: string;
  split: Split;
  maxlen: number;
  model: () => Network;
  timed: boolean;
}

const cases: Case[] = [];
const games = leaveOneOut(await loadDataset(bundledDatasetPath()), 3);
const sasrecCase = (name: string, split: Split, maxlen: number): Case => ({
  name,
  split,
  maxlen,
  timed: false,
  model: () => new SASRec({ itemNum: split.data.itemNum, maxlen, hiddenUnits: 50, numBlocks: 2, numHeads: 1, dropoutRate: 0.2 }, { seed: 1 }),
});
cases.push(sasrecCase('SASRec Games maxlen 50', games, 50));
if (!epochsMode) cases.push(sasrecCase('SASRec Games maxlen 200', games, 200));
const ml = arg('--ml100k');
if (ml) cases.push(sasrecCase('SASRec ML-100k maxlen 200', leaveOneOut(await loadDataset(ml), 3), 200));
const timedPath = arg('--timed');
if (timedPath) {
  const data = await loadDataset(timedPath);
  const split = leaveOneOut(data, 3);
  const scaled = scaleSplitTimes(split, fitTimeScaling(data, 1));
  cases.push({
    name: 'TiSASRec ML-100k maxlen 50',
    split: scaled,
    maxlen: 50,
    timed: true,
    model: () =>
      new TiSASRec(
        { itemNum: data.itemNum, maxlen: 50, hiddenUnits: 50, numBlocks: 2, numHeads: 1, dropoutRate: 0.2, l2Emb: 0.00005, timeSpan: 256 },
        { seed: 1 },
      ),
  });
}

const only = arg('--only');
if (only) cases.splice(0, cases.length, ...cases.filter((c) => c.name.includes(only)));
console.log(`load average before: ${load()}`);

if (!epochsMode) {
  for (const c of cases) {
    const model = c.model();
    const opt = new Adam(model.namedParameters(), { lr: 0.001 });
    const sampler = new TrainSampler(c.split, { batchSize: 128, maxlen: c.maxlen, rng: new Rng(1) });
    const layout = new TimeBatchLayout();
    let batch: TrainBatch | undefined;
    let tSample = 0;
    let tStep = 0;
    let tLayout = 0;
    for (let s = 0; s < steps + 3; s++) {
      const a = performance.now();
      batch = sampler.nextBatch(batch);
      const b = performance.now();
      trainStep(model, opt, batch);
      const c2 = performance.now();
      if (c.timed) layout.build(batch.seqs, 128, { packed: true, timeSpan: 256, times: batch.times });
      const d = performance.now();
      if (s >= 3) {
        tSample += b - a;
        tStep += c2 - b;
        tLayout += d - c2;
      }
    }
    const share = (100 * tSample) / (tSample + tStep);
    console.log(
      `${c.name}: sampling ${(tSample / steps).toFixed(2)} ms/batch, step ${(tStep / steps).toFixed(1)} ms → sampling is ${share.toFixed(1)}% of a step` +
        (c.timed
          ? `; time preparation inside the step (TimeBatchLayout.build) ${(tLayout / steps).toFixed(2)} ms = ${((100 * tLayout) / tStep).toFixed(1)}% of it`
          : ''),
    );
  }
} else {
  const snapshot = { describe: () => ({}) } as unknown as Model;
  for (const c of cases) {
    const perEpoch = Math.ceil(c.split.data.userNum / 128);
    const stepsPerEpoch = Math.min(perEpoch, steps);
    const numEpochs = Math.max(1, Math.ceil(steps / stepsPerEpoch));
    const variants: { threads: number; workers: number }[] = [
      { threads: 1, workers: 0 },
      { threads: 1, workers: 1 },
      { threads: 2, workers: 0 },
      { threads: 2, workers: 1 },
      { threads: 2, workers: 2 },
    ];
    const key = (v: { threads: number; workers: number }) => `threads ${v.threads}, workers ${v.workers}`;
    const runs = new Map<string, { msPerStep: number; takeMs: number; waits: number; firstMs: number }[]>();
    const startMs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const v of variants) {
        const pool = await startKernelThreads(getKernels(), v.threads);
        try {
          const model = c.model();
          const opt = new Adam(model.namedParameters(), { lr: 0.001 });
          const sampler = new TrainSampler(c.split, { batchSize: 128, maxlen: c.maxlen, rng: new Rng(1) });
          // warm-up outside the timing (JIT, kernel buffers)
          for (let s = 0; s < 2; s++) trainStep(model, opt, sampler.nextBatch());
          if (v.workers > 0 && v.threads === 1) {
            const t0 = performance.now();
            const p = await PrefetchSampler.start(sampler);
            startMs.push(performance.now() - t0);
            await p.close();
          }
          // the main thread's time in taking batches: nextBatch (0 workers) or PrefetchSampler.next
          let takeMs = 0;
          let waits = 0;
          const sample = sampler.nextBatch.bind(sampler);
          sampler.nextBatch = (out?: TrainBatch) => {
            const t = performance.now();
            const b = sample(out);
            takeMs += performance.now() - t;
            return b;
          };
          let stats: PrefetchSampler['stats'] | undefined;
          const origStart = PrefetchSampler.start;
          PrefetchSampler.start = async (s, o) => {
            const p = await origStart.call(PrefetchSampler, s, o);
            stats = p.stats;
            return p;
          };
          const history: number[] = [];
          try {
            const training = { ...trainingOptions.parse({}), numEpochs, numWorkers: v.workers };
            await runEpochs(model, opt, sampler, snapshot, training, { onEpoch: (info) => void history.push(info.seconds) }, stepsPerEpoch);
          } finally {
            PrefetchSampler.start = origStart;
          }
          const n = numEpochs * stepsPerEpoch;
          let take = takeMs / n;
          let firstMs = 0;
          if (stats) {
            // after the first batch, which waits for the worker's start (once per run)
            take = stats.takeMs / (stats.batches - 1);
            waits = stats.waits;
            firstMs = stats.firstMs;
          }
          const seconds = history.reduce((s, h) => s + h, 0);
          const list = runs.get(key(v)) ?? [];
          list.push({ msPerStep: (1000 * seconds) / n, takeMs: take, waits, firstMs });
          runs.set(key(v), list);
        } finally {
          await pool?.close();
        }
      }
    }
    console.log(`\n${c.name}: ${numEpochs} × ${stepsPerEpoch} steps (a full epoch is ${perEpoch}), ${rounds} rounds; load now ${load()}`);
    const min = (xs: number[]) => Math.min(...xs);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const base = new Map<number, number>();
    for (const v of variants) {
      const list = runs.get(key(v))!;
      const ms = list.map((x) => x.msPerStep);
      if (v.workers === 0) base.set(v.threads, min(ms));
      const rel = v.workers === 0 ? '' : ` (${(((min(ms) - base.get(v.threads)!) / base.get(v.threads)!) * 100).toFixed(1)}% vs 0 workers)`;
      console.log(
        `  ${key(v)}: min ${min(ms).toFixed(1)} / median ${median(ms).toFixed(1)} ms/step, ${((min(ms) * perEpoch) / 1000).toFixed(2)} s/epoch${rel}; ` +
          `main thread taking batches ${median(list.map((x) => x.takeMs)).toFixed(3)} ms/step (median)` +
          (v.workers > 0
            ? ` (first batch ${median(list.map((x) => x.firstMs)).toFixed(0)} ms), batch not ready ${median(list.map((x) => x.waits))}× after it`
            : ''),
      );
    }
    if (startMs.length) console.log(`  worker start-up (once per run): min ${Math.min(...startMs).toFixed(0)} ms`);
  }
}
console.log(`load average after: ${load()}`);
