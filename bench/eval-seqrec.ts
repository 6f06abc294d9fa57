/**
 * seqrec's side of the evaluation / inference benchmark (bench/reference-eval.py is the PyTorch
 * reference's): an untrained SASRec (d=50, 2 blocks, 1 head, xavier init as the reference trainer) on
 * a dataset, timed on
 *
 *   sampled    evaluation of ALL evaluable users on the test split, sampled protocol (held-out item +
 *              100 negatives drawn as the reference's evaluate(), train items excluded) — the code
 *              `seqrec eval --protocol sampled` runs (evaluateSampled, default batch of 256 users);
 *   full       the same users, full ranking (every item scored, history excluded, rank of the held-out
 *              item) — evaluateFullRanking, default batch of 128 users;
 *   recommend  top-10 over all items for ONE user's history, in-process (recommendTopK: the path
 *              `seqrec recommend` takes after loading the model), p50/p99 over --reps calls after
 *              --warmup calls (wall clock, and this process's CPU time per call, which a loaded machine's
 *              preemptions do not inflate); users: the longest history (a full maxlen window) and a median one.
 *
 * Every evaluation timing covers candidate drawing, history building, scoring and ranking, as the
 * reference's loop does. Prints one line per timing and a RESULT_JSON line.
 *
 *   node --import tsx bench/eval-seqrec.ts --dataset F --maxlen 50 [--cases sampled,full,recommend]
 *        [--repeats 3] [--reps 1000] [--warmup 20] [--batch N] [--kernels wasm|reference] [--packed true|false]
 *        [--min_interactions 4]
 */
import { loadDataset, leaveOneOut } from '../src/data/index.js';
import { Rng } from '../src/engine/rng.js';
import { evaluateFullRanking, evaluateSampled, selectEvalUsers } from '../src/eval/protocols.js';
import { getKernels } from '../src/kernels/index.js';
import { SASRec } from '../src/models/sasrec/sasrec.js';
import { recommendTopK } from '../src/eval/recommend.js';
import { arg } from './args.js';
import { useWasmKernels } from '../src/kernels/wasm/install.js';

const dataset = arg('dataset', '');
if (!dataset) {
  console.error('usage: bench/eval-seqrec.ts --dataset F [--maxlen 50] [--cases sampled,full,recommend] [--repeats 3] [--reps 200]');
  process.exit(2);
}
const maxlen = Number(arg('maxlen', '200'));
const cases = arg('cases', 'sampled,full,recommend').split(',');
const repeats = Number(arg('repeats', '3'));
const reps = Number(arg('reps', '1000'));
const warmup = Number(arg('warmup', '20'));
const batchArg = arg('batch', '');
const kernels = arg('kernels', 'wasm');
const packed = arg('packed', 'true') !== 'false';
const seed = Number(arg('seed', '42'));

if (kernels === 'wasm') useWasmKernels();

const data = await loadDataset(dataset);
// 4 = the reference's data_partition (users with < 4 interactions have no valid/test item)
const split = leaveOneOut(data, Number(arg('min_interactions', '4')));
const rng = new Rng(seed);
const model = new SASRec(
  { itemNum: data.itemNum, maxlen, hiddenUnits: 50, numBlocks: 2, numHeads: 1, dropoutRate: 0.2 },
  { rng: rng.fork(), packed },
);
model.eval();
const users = selectEvalUsers(split, 'test');

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  return { min: s[0], median: q(0.5), max: s[s.length - 1] };
};
const round = (x: number, n = 3) => Number(x.toFixed(n));

const result: Record<string, unknown> = {
  side: 'seqrec',
  kernels: getKernels().name,
  packed,
  users: data.userNum,
  items: data.itemNum,
  eval_users: users.length,
  maxlen,
};

const batchSize = batchArg ? Number(batchArg) : undefined;
for (const name of ['sampled', 'full'] as const) {
  if (!cases.includes(name)) continue;
  const secs: number[] = [];
  let metrics: Record<string, number> = {};
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    const res =
      name === 'sampled'
        ? await evaluateSampled(model, split, { which: 'test', rng: new Rng(seed + r), batchSize })
        : await evaluateFullRanking(model, split, { which: 'test', batchSize });
    const dt = (performance.now() - t0) / 1000;
    secs.push(dt);
    metrics = res.metrics;
    if (res.users !== users.length) throw new Error(`${name}: evaluated ${res.users} users, expected ${users.length}`);
    console.log(
      `${name} run ${r + 1}: ${dt.toFixed(3)} s for ${res.users} users (${((1e6 * dt) / res.users).toFixed(1)} µs/user), NDCG@10 ${res.metrics['NDCG@10'].toFixed(4)}`,
    );
  }
  const st = stats(secs);
  result[name] = {
    s: secs.map((x) => round(x)),
    min_s: round(st.min),
    median_s: round(st.median),
    batch: batchSize ?? (name === 'sampled' ? 256 : 128),
    ndcg10: round(metrics['NDCG@10'], 4),
    hr10: round(metrics['HR@10'], 4),
  };
}

if (cases.includes('recommend')) {
  // the longest test history (train + valid, cut to maxlen) and a median-length one
  const order = Array.from(users).sort((a, b) => split.train[a].length - split.train[b].length || a - b);
  const picks = { long: order[order.length - 1], median: order[Math.floor(order.length / 2)] };
  const rec: Record<string, unknown> = {};
  for (const [label, u] of Object.entries(picks)) {
    const history = Int32Array.from([...split.train[u], split.valid[u]]);
    for (let i = 0; i < warmup; i++) recommendTopK(model, { user: u, items: history }, 10);
    const ms: number[] = [];
    const cpuMs: number[] = [];
    let top: number[] = [];
    for (let i = 0; i < reps; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const best = recommendTopK(model, { user: u, items: history }, 10);
      ms.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpuMs.push((c.user + c.system) / 1000);
      top = best.map((b) => b.item);
    }
    const quant = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
    };
    const q = quant(ms);
    const qc = quant(cpuMs);
    rec[label] = {
      user: u,
      history_len: history.length,
      used_len: Math.min(history.length, maxlen),
      reps,
      p50_ms: round(q(0.5)),
      p99_ms: round(q(0.99)),
      min_ms: round(q(0)),
      cpu_p50_ms: round(qc(0.5)),
      cpu_p99_ms: round(qc(0.99)),
      top10: top,
    };
    console.log(
      `recommend (${label} history, ${Math.min(history.length, maxlen)} items): p50 ${q(0.5).toFixed(3)} ms, p99 ${q(0.99).toFixed(3)} ms over ${reps} (CPU time p50 ${qc(0.5).toFixed(3)}, p99 ${qc(0.99).toFixed(3)} ms)`,
    );
  }
  result.recommend = rec;
}
result.peak_rss_mb_self = round(process.resourceUsage().maxRSS / 1024, 1);
console.log(`RESULT_JSON ${JSON.stringify(result)}`);
