import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../core/errors.js';
import { bool, choice, defineOptions, int, num, str } from '../core/options.js';
import { pairedComparison, perUserMetric, type PairedSummary } from '../eval/paired.js';
import { pairRanks, parseRanks, type RanksFile } from '../eval/ranks.js';
import { addOptions, commandGroups } from './flags.js';

const compareOptions = defineOptions({
  metric: str({ help: 'the per-user metric: HR@K, NDCG@K or MRR', default: 'NDCG@10', arg: 'name' }),
  split: choice(['valid', 'test', 'both'] as const, { help: 'which held-out split to compare', default: 'test' }),
  resamples: int({ help: 'bootstrap resamples and sign-flip permutations', default: 10_000, min: 100, max: 10_000_000 }),
  confidence: num({ help: 'confidence level of the interval', default: 0.95, min: 0.5, max: 0.999 }),
  seed: int({ help: 'random seed of the resampling', default: 1, min: 0, max: 2 ** 32 - 1 }),
  json: bool({ help: 'print the comparisons as JSON instead of a table', default: false }),
});

/** A ranks file, or a run folder holding the ranks.tsv that `train --keep_ranks` wrote. */
async function readRanksFile(path: string): Promise<RanksFile> {
  let file = path;
  try {
    if ((await stat(path)).isDirectory()) file = join(path, 'ranks.tsv');
  } catch {
    throw new UserError(`${path}: no such file or folder`);
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UserError(`${file}: cannot be read (train --keep_ranks writes ranks.tsv into its --train_dir; eval --ranks_out writes one)`);
  }
  return { path: file, rows: parseRanks(text, file) };
}

/** "a,b,c" → its paths, each a ranks file or a run folder. */
async function readRanksList(list: string): Promise<RanksFile[]> {
  const paths = list.split(',').filter((p) => p !== '');
  if (paths.length === 0) throw new UserError(`"${list}": no ranks file given`);
  return Promise.all(paths.map(readRanksFile));
}

const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(4)}`;

function formatTable(rows: ReadonlyArray<{ protocol: string; split: string; summary: PairedSummary }>, metric: string, confidence: number): string {
  const header = [
    'protocol',
    'split',
    'users',
    `baseline ${metric}`,
    'candidate',
    'diff',
    `${Math.round(confidence * 100)}% CI`,
    'p',
    'wins/ties/losses',
  ];
  const lines = rows.map(({ protocol, split, summary: s }) => [
    protocol,
    split,
    String(s.users),
    s.baseline.toFixed(4),
    s.candidate.toFixed(4),
    signed(s.diff),
    `[${signed(s.ciLow)}, ${signed(s.ciHigh)}]`,
    s.p < 0.0001 ? '<0.0001' : s.p.toFixed(4),
    `${s.wins}/${s.ties}/${s.losses}`,
  ]);
  const widths = header.map((h, j) => Math.max(h.length, ...lines.map((l) => l[j].length)));
  return [header, ...lines]
    .map((cells) =>
      cells
        .map((c, j) => c.padEnd(widths[j]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function register(program: Command): void {
  const cmd = program
    .command('compare')
    .argument('<baseline>', 'ranks file or run folder (train --keep_ranks), or several separated by commas (e.g. one per seed)')
    .argument('<candidate>', 'the same for the other model, paired with the baseline by position')
    .description(
      'paired comparison of two models evaluated on the same users: per-user metric difference, its bootstrap confidence interval ' +
        'and a sign-flip permutation p-value, per protocol and split (the runs must hold out the same users: same data, --seed, --cold)',
    );
  addOptions(cmd, commandGroups(compareOptions));
  cmd.action(async (baselineList: string, candidateList: string, opts: Record<string, unknown>) => {
    const c = compareOptions.parse(opts);
    const value = perUserMetric(c.metric);
    const paired = pairRanks(await readRanksList(baselineList), await readRanksList(candidateList)).filter(
      (g) => c.split === 'both' || g.split === c.split,
    );
    if (paired.length === 0) throw new UserError(`--split ${c.split}: the ranks files hold no such split`);
    const rows = paired.map((g) => ({
      protocol: g.protocol,
      split: g.split,
      summary: pairedComparison(Float64Array.from(g.baseline, value), Float64Array.from(g.candidate, value), c),
    }));
    const out = c.json
      ? JSON.stringify(
          rows.map((r) => ({ protocol: r.protocol, split: r.split, metric: c.metric, ...r.summary })),
          null,
          2,
        )
      : formatTable(rows, c.metric, c.confidence);
    process.stdout.write(`${out}\n`);
  });
}
