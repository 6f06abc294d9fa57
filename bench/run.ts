/**
 * `npm run bench`: seqrec against the PyTorch reference (../shared/bench/pytorch-ref) in one invocation,
 * same data and hyper-parameters, one case after the other (never concurrently: 2 cores). Prints
 * ms/step, s/epoch, peak RSS and the ratio (reference time / seqrec time) per case.
 *
 *   node --import tsx bench/run.ts [--cases games,ml-100k] [--epochs 3] [--ref_threads 1]
 *        [--no_reference] [--json out.json]
 *
 * The reference needs python3 with torch + numpy (Debian: python3-torch python3-numpy
 * libopenblas0-pthread); without it only seqrec's figures are printed. Epoch 1 is excluded from the
 * mean on both sides (start-up). ML-100k is converted to SASRec format (5-core, one pass) first,
 * because the reference reads only "user item" files.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

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
        const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/run.ts'), 'convert', '--input', join(shared, 'data/ml-100k/u.data'),
          '--output', out, '--min_user_count', '5', '--min_item_count', '5', '--no_times'], { stdio: 'inherit' });
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

function runSeqrec(c: Case, epochs: number): Figures {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench/train-seqrec.ts'), '--dataset', c.dataset(),
    '--maxlen', String(c.maxlen), '--dropout', String(c.dropout), '--epochs', String(epochs)], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`seqrec run failed: ${r.stderr}`);
  const j = resultJson(r.stdout);
  return { ms_per_step: Number(j.ms_per_step), mean_epoch_s_excl_first: Number(j.mean_epoch_s_excl_first), peak_rss_mb: Number(j.peak_rss_mb_self) };
}

function runReference(c: Case, epochs: number, threads: number): Figures | undefined {
  const r = spawnSync('bash', [refScript, '--dataset', c.dataset(), '--maxlen', String(c.maxlen), '--dropout', String(c.dropout),
    '--epochs', String(epochs), '--threads', String(threads), '--eval_every', '0'], { encoding: 'utf8', maxBuffer: 1 << 26 });
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
const wanted = arg('cases', 'games,ml-100k').split(',');
const noReference = process.argv.includes('--no_reference');
const rows: Array<Record<string, unknown>> = [];
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, node ${process.version}; ${epochs} epochs per run, epoch 1 excluded`);
for (const c of CASES.filter((x) => wanted.includes(x.name))) {
  const ours = runSeqrec(c, epochs);
  const ref = noReference ? undefined : runReference(c, epochs, refThreads);
  const row = {
    case: `${c.name} (maxlen ${c.maxlen})`,
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
console.table(rows);
const out = arg('json', '');
if (out) writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), rows }, null, 2));
