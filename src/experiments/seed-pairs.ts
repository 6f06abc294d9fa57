/**
 * Differences against a baseline config, paired by seed: per dataset, each other config's test metric
 * minus the baseline's on the same seed, as mean ± sample std over the seeds both have finished, and
 * on how many of those seeds the config came out higher. A seed fixes the split (random split), the
 * initialisation and the sampling of both runs, so pairing removes what the seed contributes to both;
 * each config's own spread over seeds keeps it.
 */
import { mean, metricOf, type RunGroup, std } from './run-files.js';

/** Which config the others are compared with: a model, and which of its configs when it has several. */
export interface BaselineSpec {
  readonly model: string;
  readonly config?: string;
}

export interface PairedCell {
  /** mean of (config − baseline) over the shared seeds */
  readonly mean: number;
  /** sample std of those differences */
  readonly std: number;
  /** seeds on which the config was higher */
  readonly higher: number;
  /** shared seeds with the metric in both runs */
  readonly n: number;
}

export interface SeedPairRow {
  readonly dataset: string;
  readonly model: string;
  readonly config: string;
  /** "model config" of the baseline */
  readonly baseline: string;
  /** one per column; undefined where no shared seed has the metric in both runs */
  readonly cells: ReadonlyArray<PairedCell | undefined>;
}

/** The report's headline test metrics among the columns: NDCG@10, HR@10 (Hit@10), Recall@10 and AUC of each protocol. */
export function pairedColumns(columns: readonly string[]): string[] {
  return columns.filter((c) => c.startsWith('test ') && /\s(NDCG@10|HR@10|Hit@10|Recall@10|AUC)$/.test(c));
}

function baselineOf(groups: readonly RunGroup[], spec: BaselineSpec | undefined): RunGroup | undefined {
  if (spec === undefined) return groups[0];
  return groups.find((g) => g.model === spec.model && (spec.config === undefined || g.config === spec.config));
}

/**
 * Per dataset with a baseline and at least one other config, the paired differences of every other
 * config. Groups in grid order; a dataset whose baseline has no finished run is left out.
 */
export function seedPairedDifferences(groups: readonly RunGroup[], columns: readonly string[], baseline?: BaselineSpec): SeedPairRow[] {
  const datasets = [...new Set(groups.map((g) => g.datasetName))];
  const rows: SeedPairRow[] = [];
  for (const dataset of datasets) {
    const here = groups.filter((g) => g.datasetName === dataset);
    const base = baselineOf(here, baseline);
    if (base === undefined) continue;
    const baseBySeed = new Map(base.runs.map((c) => [c.run.seed, c]));
    for (const g of here) {
      if (g === base) continue;
      const cells = columns.map((col): PairedCell | undefined => {
        const diffs: number[] = [];
        for (const c of g.runs) {
          const b = baseBySeed.get(c.run.seed);
          const x = metricOf(c, col);
          const y = b === undefined ? undefined : metricOf(b, col);
          if (x !== undefined && y !== undefined) diffs.push(x - y);
        }
        if (diffs.length === 0) return undefined;
        return { mean: mean(diffs), std: std(diffs), higher: diffs.filter((d) => d > 0).length, n: diffs.length };
      });
      if (cells.every((c) => c === undefined)) continue;
      rows.push({ dataset, model: g.model, config: g.config, baseline: `${base.model} ${base.config}`, cells });
    }
  }
  return rows;
}

/** "+0.0282 ± 0.0012 (3/3)": mean ± std of the differences, (seeds higher / seeds paired). */
export function formatPairedCell(c: PairedCell | undefined): string {
  if (c === undefined) return '-';
  const sign = c.mean > 0 ? '+' : c.mean < 0 ? '−' : '±';
  return `${sign}${Math.abs(c.mean).toFixed(4)} ± ${c.std.toFixed(4)} (${c.higher}/${c.n})`;
}

/** A row's cells as the reports print them: dataset, model, config, baseline, then one per column. */
export function seedPairCells(r: SeedPairRow): string[] {
  return [r.dataset, r.model, r.config, r.baseline, ...r.cells.map(formatPairedCell)];
}

export function seedPairsMarkdown(rows: readonly SeedPairRow[], columns: readonly string[]): string {
  const lines = [
    '## Paired by seed',
    '',
    'Each config minus the baseline on the same seed: mean ± sample std of the differences over the seeds both finished (seeds where the config is higher / seeds paired).',
    '',
    `| dataset | model | config | vs | ${columns.map((c) => `Δ ${c}`).join(' | ')} |`,
    `|${' --- |'.repeat(4 + columns.length)}`,
    ...rows.map((r) => `| ${seedPairCells(r).join(' | ')} |`),
  ];
  return `${lines.join('\n')}\n`;
}
