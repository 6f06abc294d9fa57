/**
 * `npm run bench`: seqrec against the PyTorch reference (../shared/bench/pytorch-ref) in one invocation,
 * same data and hyper-parameters, one case after the other (never concurrently: 2 cores). Prints the
 * figures of both sides and the ratio (reference time / seqrec time) per case and dataset.
 *
 *   node --import tsx bench/run.ts [--cases train,ce,eval,recommend,browser] [--datasets games,ml-100k]
 *        [--epochs 3] [--threads 1[,2]] [--ref_threads 1] [--repeats 3] [--reps 1000] [--ref_batch 128] [--ref_full_batch 128]
 *        [--ce_steps 20] [--ce_ref_steps 6] [--no_reference] [--json out.json]
 *
 * Cases (default: all):
 *   train      training epochs (bench/train-seqrec.ts vs the reference's bench.py): ms/step, s/epoch,
 *              peak RSS; seqrec once per --threads value (its wasm thread pool), the reference once. Epoch 1 is excluded from the mean on both sides (start-up).
 *   ce         training steps with the full-catalogue softmax (--loss ce; bench/ce-seqrec.ts vs
 *              bench/reference-ce.py, the reference model with every position's logits against item_emb and
 *              F.cross_entropy ignoring padding, as published SASRec+ code): median ms per step on both
 *              sides, and seqrec's floor, the loss's three [positions × d]·[d × items] GEMMs timed alone.
 *   eval       = sampled,full: evaluation of ALL evaluable users on the test split of an untrained
 *              SASRec (d=50, 2 blocks, 1 head), --repeats runs per side, min and median seconds:
 *     sampled    held-out item + 100 negatives (the reference's evaluate() candidates);
 *     full       every item scored, history excluded, rank of the held-out item.
 *   fm         training epochs of --model fm on ML-100k with u.user / u.item (bench/fm-seqrec.ts) against a
 *              PyTorch FM of the same sizes on the same exported data (bench/reference-fm.py): s/epoch, epoch 1 excluded.
 *   linear     the fit of EASE and SLIM (bench/linear-seqrec.ts, once per --threads) against numpy's EASE and
 *              scikit-learn's SLIM (ElasticNet per column; bench/reference-linear.py, needs a python with
 *              numpy, scipy and sklearn: Debian python3-sklearn) on the same exported train sets, with the
 *              largest weight difference; ML-100k 5-core, Games with --linear_ref_columns k: sklearn fits the
 *              first k columns and its time is extrapolated; numpy's EASE only up to 10,000 items (its
 *              float64 G, P and B). Not in the default cases.
 *   recommend  top-10 over all items for ONE user's history, in-process: p50/p99 over --reps calls
 *              (a full-window history and a median-length one), wall clock and the process's CPU time
 *              per call (on a loaded machine the wall-clock p99 is mostly preemption; CPU time is not).
 *   browser    SASRec training steps and per-history top-10 in headless Chromium vs Node, the same code and
 *              wasm kernels on one thread and on two (an isolated page's Web Workers; bench/browser.ts; not in
 *              the default cases): medians and ratios.
 * seqrec's side of eval/recommend is bench/eval-seqrec.ts, the reference's bench/reference-eval.py
 * (its model.py and data_partition, torch.no_grad(), eval mode; sampled with --ref_batch users per
 * predict call: 1 is evaluate()'s own loop, 128 measured 2.6x faster on Games; full ranking with
 * --ref_full_batch users per call, 128 measured no slower than 32, 64 or 512). The legacy `--cases games,ml-100k`
 * still means training on those datasets.
 *
 * The reference needs python3 with torch + numpy (Debian: python3-torch python3-numpy
 * libopenblas0-pthread); without it only seqrec's figures are printed. ML-100k is converted to SASRec
 * format (5-core, one pass) first, because the reference reads only "user item" files.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { arg } from './args.js';

const root = resolve(import.meta.dirname, '..');
const shared = resolve(root, '../shared');
const refScript = join(shared, 'bench/pytorch-ref/run.sh');
const work = join(root, '.cache/bench');
mkdirSync(work, { recursive: true });

interface Case {
  name: string;
  dataset: () => string;
  maxlen: number;
  dropout: number;
}

const CASES: Case[] = [
  { name: 'games', dataset: () => join(shared, 'data/games/Video.txt'), maxlen: 50, dropout: 0.5 },
  {
    name: 'ml-100k',
    dataset: () => {
      const out = join(work, 'ml-100k.txt');
      if (!existsSync(out)) {
        const r = spawnSync(
          process.execPath,
          [
            '--import',
            'tsx',
            join(root, 'src/cli/run.ts'),
            'convert',
            '--input',
            join(shared, 'data/ml-100k/u.data'),
            '--output',
            out,
            '--min_user_count',
            '5',
            '--min_item_count',
            '5',
            '--no_times',
          ],
          { stdio: 'inherit' },
        );
        if (r.status !== 0) throw new Error('converting ml-100k failed');
      }
      return out;
    },
    maxlen: 200,
    dropout: 0.2,
  },
];

interface Figures {
  ms_per_step: number;
  mean_epoch_s_excl_first: number;
  peak_rss_mb: number;
}

function resultJson(stdout: string): Record<string, unknown> {
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT_JSON '));
  if (!line) throw new Error(`no RESULT_JSON in output:\n${stdout.slice(-2000)}`);
  return JSON.parse(line.slice('RESULT_JSON '.length));
}

function runSeqrec(c: Case, epochs: number, threads: number): Figures {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      join(root, 'bench/train-seqrec.ts'),
      '--dataset',
      c.dataset(),
      '--maxlen',
      String(c.maxlen),
      '--dropout',
      String(c.dropout),
      '--epochs',
      String(epochs),
      '--threads',
      String(threads),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  if (r.status !== 0) throw new Error(`seqrec run failed: ${r.stderr}`);
  const j = resultJson(r.stdout);
  return { ms_per_step: Number(j.ms_per_step), mean_epoch_s_excl_first: Number(j.mean_epoch_s_excl_first), peak_rss_mb: Number(j.peak_rss_mb_self) };
}

function runReference(c: Case, epochs: number, threads: number): Figures | undefined {
  const r = spawnSync(
    'bash',
    [
      refScript,
      '--dataset',
      c.dataset(),
      '--maxlen',
      String(c.maxlen),
      '--dropout',
      String(c.dropout),
      '--epochs',
      String(epochs),
      '--threads',
      String(threads),
      '--eval_every',
      '0',
    ],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  if (r.status === 2 && /no python with torch/.test(r.stderr)) return undefined;
  if (r.status !== 0) throw new Error(`reference run failed: ${r.stderr.slice(-2000)}`);
  const j = resultJson(r.stdout);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  return {
    ms_per_step: Number(j.ms_per_step),
    mean_epoch_s_excl_first: Number(j.mean_epoch_s_excl_first),
    peak_rss_mb: rss ? Number(rss[1]) / 1024 : Number(j.peak_rss_mb_self),
  };
}

const epochs = Number(arg('epochs', '3'));
const refThreads = Number(arg('ref_threads', '1'));
const seqrecThreads = arg('threads', '1').split(',').map(Number);
if (seqrecThreads.some((t) => !Number.isInteger(t) || t < 1)) throw new Error('--threads: expected a list of positive integers, e.g. 1,2');
const repeats = Number(arg('repeats', '3'));
const reps = Number(arg('reps', '1000'));
const refBatch = Number(arg('ref_batch', '128'));
const refFullBatch = Number(arg('ref_full_batch', '128'));
const noReference = process.argv.includes('--no_reference');
const datasetNames = CASES.map((c) => c.name);
const caseArgs = arg('cases', 'train,ce,eval,recommend')
  .split(',')
  .filter((x) => x !== '');
// legacy: dataset names in --cases select training on those datasets
const legacyDatasets = caseArgs.filter((x) => datasetNames.includes(x));
const wantedCases = new Set(caseArgs.filter((x) => !datasetNames.includes(x)).flatMap((x) => (x === 'eval' ? ['sampled', 'full'] : [x])));
if (legacyDatasets.length > 0) wantedCases.add('train');
for (const c of wantedCases) {
  if (!['train', 'ce', 'sampled', 'full', 'recommend', 'serve', 'browser', 'fm', 'linear'].includes(c))
    throw new Error(`--cases: unknown case "${c}" (train, ce, eval, sampled, full, recommend, browser, fm, linear, ${datasetNames.join(', ')})`);
}
const wanted = arg('datasets', legacyDatasets.length > 0 ? legacyDatasets.join(',') : datasetNames.join(',')).split(',');
const datasets = CASES.filter((x) => wanted.includes(x.name));
const rows: Array<Record<string, unknown>> = [];
const evalRows: Array<Record<string, unknown>> = [];
const recRows: Array<Record<string, unknown>> = [];
let referenceSkipped = false;
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, node ${process.version}; load average ${load()}`);
console.log(`cases: ${[...wantedCases].join(', ')}; datasets: ${datasets.map((c) => c.name).join(', ')}`);
if (wantedCases.has('train')) console.log(`train: ${epochs} epochs per run, epoch 1 excluded`);

for (const c of datasets) {
  if (!wantedCases.has('train')) continue;
  const ref = noReference ? undefined : runReference(c, epochs, refThreads);
  if (!noReference && !ref) referenceSkipped = true;
  for (const threads of seqrecThreads) {
    const ours = runSeqrec(c, epochs, threads);
    const row = {
      case: `${c.name} (maxlen ${c.maxlen})`,
      seqrec_threads: threads,
      seqrec_ms_per_step: ours.ms_per_step,
      reference_ms_per_step: ref?.ms_per_step ?? null,
      speedup: ref ? Number((ref.mean_epoch_s_excl_first / ours.mean_epoch_s_excl_first).toFixed(2)) : null,
      seqrec_s_per_epoch: ours.mean_epoch_s_excl_first,
      reference_s_per_epoch: ref?.mean_epoch_s_excl_first ?? null,
      seqrec_peak_rss_mb: Math.round(ours.peak_rss_mb),
      reference_peak_rss_mb: ref ? Math.round(ref.peak_rss_mb) : null,
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
}
if (rows.length > 0) console.table(rows);

const pyCmd = (): string | undefined => {
  // PYTHON=... selects the interpreter (as run.sh); otherwise the first of python3, /usr/bin/python3 with torch
  for (const py of process.env.PYTHON ? [process.env.PYTHON] : ['python3', '/usr/bin/python3']) {
    if (spawnSync(py, ['-c', 'import torch, numpy'], { stdio: 'ignore' }).status === 0) return py;
  }
  return undefined;
};

// full-softmax (CE) training steps: seqrec against its GEMM floor and against PyTorch's CE step
const ceSteps = Number(arg('ce_steps', '20'));
const ceRefSteps = Number(arg('ce_ref_steps', '6'));
const ceRows: Array<Record<string, unknown>> = [];
const pythonForCe = wantedCases.has('ce') && !noReference ? pyCmd() : undefined;
for (const c of wantedCases.has('ce') ? datasets : []) {
  const common = ['--dataset', c.dataset(), '--maxlen', String(c.maxlen), '--dropout', String(c.dropout)];
  let ref: Record<string, unknown> | undefined;
  if (pythonForCe) {
    const p = spawnSync(
      pythonForCe,
      ['-u', join(root, 'bench/reference-ce.py'), ...common, '--steps', String(ceRefSteps), '--threads', String(refThreads)],
      {
        encoding: 'utf8',
        maxBuffer: 1 << 26,
      },
    );
    if (p.status !== 0) throw new Error(`reference CE run failed: ${p.stderr.slice(-2000)}`);
    ref = resultJson(p.stdout);
  } else if (!noReference) referenceSkipped = true;
  for (const threads of seqrecThreads) {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(root, 'bench/ce-seqrec.ts'), ...common, '--steps', String(ceSteps), '--threads', String(threads)],
      {
        encoding: 'utf8',
        maxBuffer: 1 << 26,
      },
    );
    if (r.status !== 0) throw new Error(`seqrec CE run failed: ${r.stderr.slice(-2000)}`);
    const ours = resultJson(r.stdout);
    const row = {
      case: `CE step, ${c.name} (maxlen ${c.maxlen}, ${ours.items} items, ${ours.mean_real_positions} positions)`,
      seqrec_threads: threads,
      seqrec_ms_per_step: ours.ms_per_step_median,
      gemm_floor_ms: ours.gemm_floor_ms,
      step_over_floor: ours.step_over_floor,
      reference_ms_per_step: ref?.ms_per_step_median ?? null,
      speedup: ref ? Number((Number(ref.ms_per_step_median) / Number(ours.ms_per_step_median)).toFixed(2)) : null,
    };
    ceRows.push(row);
    console.log(JSON.stringify(row));
  }
}
if (ceRows.length > 0) console.table(ceRows);

// the browser: Chromium vs Node on the same machine (bench/browser.ts), per dataset
const browserRows: Array<Record<string, unknown>> = [];
for (const c of wantedCases.has('browser') ? datasets : []) {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(root, 'bench/browser.ts'), '--dataset', c.dataset(), '--maxlen', String(c.maxlen), '--dropout', String(c.dropout)],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  if (r.status !== 0) throw new Error(`browser bench failed: ${r.stderr.slice(-2000)}`);
  const row = { case: `browser, ${c.name} (maxlen ${c.maxlen})`, ...resultJson(r.stdout) };
  browserRows.push(row);
  console.log(JSON.stringify(row));
}
if (browserRows.length > 0) console.table(browserRows);
// FM with side features on ML-100k: seqrec's epoch against a PyTorch FM on the data seqrec exports
const fmRows: Array<Record<string, unknown>> = [];
if (wantedCases.has('fm')) {
  const exported = join(work, 'fm-data.json');
  for (const threads of seqrecThreads) {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(root, 'bench/fm-seqrec.ts'),
        '--data_dir',
        join(shared, 'data/ml-100k'),
        '--epochs',
        String(epochs),
        '--export',
        exported,
        '--threads',
        String(threads),
      ],
      { encoding: 'utf8', maxBuffer: 1 << 26 },
    );
    if (r.status !== 0) throw new Error(`seqrec FM run failed: ${r.stderr.slice(-2000)}`);
    const ours = resultJson(r.stdout);
    const python = noReference ? undefined : pyCmd();
    let ref: Record<string, unknown> | undefined;
    if (python) {
      // the Debian torch reads these as OpenBLAS settings meant for node's kernels: not for the reference
      const env = { ...process.env };
      delete env.OPENBLAS_CORETYPE;
      delete env.OPENBLAS_L2_SIZE;
      const p = spawnSync(
        python,
        ['-u', join(root, 'bench/reference-fm.py'), '--data', exported, '--epochs', String(epochs), '--threads', String(refThreads)],
        {
          encoding: 'utf8',
          maxBuffer: 1 << 26,
          env,
        },
      );
      if (p.status !== 0) throw new Error(`reference FM run failed: ${p.stderr.slice(-2000)}`);
      ref = resultJson(p.stdout);
    } else if (!noReference) referenceSkipped = true;
    const row = {
      case: `FM epoch, ML-100k + u.user/u.item (${ours.users} users, ${ours.items} items, ${ours.user_features}+${ours.item_features} features, d 50)`,
      seqrec_threads: threads,
      seqrec_s_per_epoch: ours.mean_epoch_s_excl_first,
      seqrec_cpu_s_per_epoch: ours.mean_epoch_cpu_s_excl_first,
      reference_s_per_epoch: ref?.mean_epoch_s_excl_first ?? null,
      reference_cpu_s_per_epoch: ref?.mean_epoch_cpu_s_excl_first ?? null,
      speedup: ref ? Number((Number(ref.mean_epoch_s_excl_first) / Number(ours.mean_epoch_s_excl_first)).toFixed(2)) : null,
      seqrec_examples: ours.examples_per_epoch,
      reference_examples: ref?.examples_per_epoch ?? null,
      load: load(),
    };
    fmRows.push(row);
    console.log(JSON.stringify(row));
  }
}
if (fmRows.length > 0) console.table(fmRows);

const evalCases = ['sampled', 'full', 'recommend'].filter((x) => wantedCases.has(x));
const ratio = (ref: number | undefined, ours: number) => (ref === undefined ? null : Number((ref / ours).toFixed(2)));
const python = evalCases.length > 0 && !noReference ? pyCmd() : undefined;
for (const c of evalCases.length > 0 ? datasets : []) {
  const common = [
    '--dataset',
    c.dataset(),
    '--maxlen',
    String(c.maxlen),
    '--cases',
    evalCases.join(','),
    '--repeats',
    String(repeats),
    '--reps',
    String(reps),
  ];
  const loadBefore = load();
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench/eval-seqrec.ts'), ...common], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`seqrec eval run failed: ${r.stderr.slice(-2000)}`);
  process.stdout.write(
    r.stdout
      .split('\n')
      .filter((l) => l && !l.startsWith('RESULT_JSON'))
      .map((l) => `  seqrec ${c.name}: ${l}\n`)
      .join(''),
  );
  const ours = resultJson(r.stdout);
  let ref: Record<string, unknown> | undefined;
  if (python) {
    const p = spawnSync(
      python,
      [
        '-u',
        join(root, 'bench/reference-eval.py'),
        ...common,
        '--threads',
        String(refThreads),
        '--batch',
        String(refBatch),
        '--full_batch',
        String(refFullBatch),
      ],
      { encoding: 'utf8', maxBuffer: 1 << 26 },
    );
    if (p.status !== 0) throw new Error(`reference eval run failed: ${p.stderr.slice(-2000)}`);
    process.stdout.write(
      p.stdout
        .split('\n')
        .filter((l) => l && !l.startsWith('RESULT_JSON'))
        .map((l) => `  reference ${c.name}: ${l}\n`)
        .join(''),
    );
    ref = resultJson(p.stdout);
  } else if (!noReference) referenceSkipped = true;
  for (const name of ['sampled', 'full'] as const) {
    if (!wantedCases.has(name)) continue;
    const o = ours[name] as { min_s: number; median_s: number; batch: number };
    const f = ref?.[name] as { min_s: number; median_s: number; batch: number } | undefined;
    const row = {
      case: `${name} eval, ${c.name} (maxlen ${c.maxlen})`,
      users: ours.eval_users,
      reference_users: ref?.eval_users ?? null,
      candidates: name === 'sampled' ? 101 : ours.items,
      seqrec_min_s: o.min_s,
      seqrec_median_s: o.median_s,
      reference_min_s: f?.min_s ?? null,
      reference_median_s: f?.median_s ?? null,
      speedup_median: ratio(f?.median_s, o.median_s),
      speedup_min: ratio(f?.min_s, o.min_s),
      seqrec_batch: o.batch,
      reference_batch: f?.batch ?? null,
      load_before: loadBefore,
    };
    evalRows.push(row);
    console.log(JSON.stringify(row));
  }
  if (wantedCases.has('recommend')) {
    type Rec = Record<string, { used_len: number; p50_ms: number; p99_ms: number; min_ms: number; cpu_p50_ms: number; cpu_p99_ms: number }>;
    const o = ours.recommend as Rec;
    const f = ref?.recommend as Rec | undefined;
    for (const label of Object.keys(o)) {
      const row = {
        case: `recommend top-10, ${c.name} (maxlen ${c.maxlen}), ${label} history (${o[label].used_len} items)`,
        seqrec_p50_ms: o[label].p50_ms,
        seqrec_p99_ms: o[label].p99_ms,
        reference_p50_ms: f?.[label]?.p50_ms ?? null,
        reference_p99_ms: f?.[label]?.p99_ms ?? null,
        speedup_p50: ratio(f?.[label]?.p50_ms, o[label].p50_ms),
        speedup_p99: ratio(f?.[label]?.p99_ms, o[label].p99_ms),
        seqrec_cpu_p50_ms: o[label].cpu_p50_ms,
        seqrec_cpu_p99_ms: o[label].cpu_p99_ms,
        reference_cpu_p50_ms: f?.[label]?.cpu_p50_ms ?? null,
        reference_cpu_p99_ms: f?.[label]?.cpu_p99_ms ?? null,
        reps,
      };
      recRows.push(row);
      console.log(JSON.stringify(row));
    }
  }
}
// EASE and SLIM fits against numpy / scikit-learn on the same train sets (bench/linear-seqrec.ts, bench/reference-linear.py)
const linearRows: Array<Record<string, unknown>> = [];
const linearRefColumns = Number(arg('linear_ref_columns', '0'));
const sklearnPython = (): string | undefined => {
  for (const py of process.env.PYTHON ? [process.env.PYTHON] : ['python3', '/usr/bin/python3']) {
    if (spawnSync(py, ['-c', 'import numpy, scipy, sklearn'], { stdio: 'ignore' }).status === 0) return py;
  }
  return undefined;
};
for (const c of wantedCases.has('linear') ? datasets : []) {
  const exported = join(work, `linear-${c.name}`);
  const dataset = c.name === 'ml-100k' ? join(shared, 'data/ml-100k/u.data') : c.dataset();
  const minCount = c.name === 'ml-100k' ? '5' : '0';
  const ours = seqrecThreads.map((threads, k) => {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(root, 'bench/linear-seqrec.ts'),
        '--dataset',
        dataset,
        '--min_count',
        minCount,
        '--threads',
        String(threads),
        ...(k === 0 ? ['--export', exported] : []),
      ],
      { encoding: 'utf8', maxBuffer: 1 << 26 },
    );
    if (r.status !== 0) throw new Error(`seqrec EASE/SLIM fit failed: ${r.stderr.slice(-2000)}`);
    return resultJson(r.stdout);
  });
  const python = noReference ? undefined : sklearnPython();
  let ref: Record<string, unknown> | undefined;
  if (python) {
    const env = { ...process.env };
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
    const models = Number(ours[0].items) <= 10_000 ? 'ease,slim' : 'slim';
    const p = spawnSync(
      python,
      [
        join(root, 'bench/reference-linear.py'),
        '--data',
        exported,
        '--models',
        models,
        '--threads',
        String(refThreads),
        '--slim_columns',
        String(linearRefColumns),
      ],
      { encoding: 'utf8', maxBuffer: 1 << 26, env },
    );
    if (p.status !== 0) throw new Error(`reference EASE/SLIM fit failed: ${p.stderr.slice(-2000)}`);
    ref = resultJson(p.stdout);
  } else if (!noReference) referenceSkipped = true;
  for (const [k, o] of ours.entries()) {
    const row = {
      case: `EASE / SLIM fit, ${c.name} (${o.users} users, ${o.items} items)`,
      seqrec_threads: seqrecThreads[k],
      seqrec_ease_s: Number(Number(o.ease_fit_s).toFixed(2)),
      reference_ease_s: ref?.ease_fit_s === undefined ? null : Number(Number(ref.ease_fit_s).toFixed(2)),
      ease_speedup: ref?.ease_fit_s === undefined ? null : Number((Number(ref.ease_fit_s) / Number(o.ease_fit_s)).toFixed(2)),
      ease_max_abs_diff: ref?.ease_max_abs_diff ?? null,
      seqrec_slim_s: Number(Number(o.slim_fit_s).toFixed(2)),
      reference_slim_s: ref ? Number(Number(ref.slim_fit_s).toFixed(2)) : null,
      reference_slim_extrapolated: ref?.slim_fit_extrapolated ?? null,
      slim_speedup: ref ? Number((Number(ref.slim_fit_s) / Number(o.slim_fit_s)).toFixed(2)) : null,
      slim_max_abs_diff: ref?.slim_max_abs_diff ?? null,
      slim_support_agreement: ref?.slim_support_agreement ?? null,
      reference_threads: refThreads,
      load: load(),
    };
    linearRows.push(row);
    console.log(JSON.stringify(row));
  }
}
if (linearRows.length > 0) console.table(linearRows);
if (evalRows.length > 0) console.table(evalRows);
if (recRows.length > 0) console.table(recRows);
if (referenceSkipped) console.log('reference skipped: no python with torch + numpy (seqrec figures only)');
console.log(`load average at the end ${load()}`);
const out = arg('json', '');
if (out)
  writeFileSync(
    out,
    JSON.stringify(
      { date: new Date().toISOString(), rows, ce: ceRows, fm: fmRows, linear: linearRows, eval: evalRows, recommend: recRows, browser: browserRows },
      null,
      2,
    ),
  );
if (wantedCases.has('serve'))
  spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench/serve.ts'), ...process.argv.slice(2)], { stdio: 'inherit', cwd: root });
