/**
 * The in-process floor of `seqrec serve`: one history scored (scoreAll) and ranked (top-10), as a
 * request without batching does, on real histories of the model file. A microbench for profiling
 * (`node --cpu-prof --import tsx bench/serve-floor.ts FILE [runs]`); it prints p50 / p99 / mean after a
 * warm-up and the load average beside them.
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
for (let r = 0; r < runs; r++) {
  const t = performance.now();
  recommendTopK(model.scorer, { items: histories[r % histories.length] }, 10);
  ms.push(performance.now() - t);
}
const timed = ms.slice(warmup).sort((a, b) => a - b);
const pct = (q: number) => timed[Math.floor(q * timed.length)].toFixed(3);
const mean = (timed.reduce((a, b) => a + b, 0) / timed.length).toFixed(3);
const load = loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');
console.log(`${model.name} (${model.scorer.itemNum} items): floor p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, mean ${mean} ms; load ${load}`);
model.dispose();
