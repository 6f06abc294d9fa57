/**
 * The in-process floor of `seqrec serve`: one history scored (scoreAll) and ranked (top-10), as a
 * request without batching does, on real histories of the model file. A microbench for profiling
 * (`node --cpu-prof --import tsx bench/serve-floor.ts FILE [runs]`); it prints p50 / p99 / mean wall time
 * after a warm-up, the CPU time per call (less disturbed by other processes on a loaded machine than
 * the wall time) and the load average.
 */
import { loadavg } from 'node:os';
import { loadModel } from '../src/api/model-file.js';
import { recommendTopK } from '../src/eval/recommend.js';

const file = process.argv[2];
if (!file) throw new Error('usage: bench/serve-floor.ts MODEL_FILE [runs]');
const runs = Number(process.argv[3] ?? 3000);
const warmup = Math.min(500, Math.floor(runs / 4));
const model = await loadModel(file);
const histories = (model.histories ?? []).slice(1, 2001).filter((h) => h.length > 0);
if (histories.length === 0) throw new Error(`${file}: the model file holds no histories`);
const ms: number[] = [];
let cpuStart = process.cpuUsage();
for (let r = 0; r < runs; r++) {
  if (r === warmup) cpuStart = process.cpuUsage();
  const t = performance.now();
  recommendTopK(model.scorer, { items: histories[r % histories.length] }, 10);
  ms.push(performance.now() - t);
}
const cpu = process.cpuUsage(cpuStart);
const cpuMs = ((cpu.user + cpu.system) / 1000 / (runs - warmup)).toFixed(3);
const timed = ms.slice(warmup).sort((a, b) => a - b);
const pct = (q: number) => timed[Math.floor(q * timed.length)].toFixed(3);
const mean = (timed.reduce((a, b) => a + b, 0) / timed.length).toFixed(3);
const load = loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');
console.log(
  `${model.name} (${model.scorer.itemNum} items): floor p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, mean ${mean} ms; CPU ${cpuMs} ms per call; load ${load}`,
);
model.dispose();
