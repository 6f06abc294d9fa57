/**
 * A paper's results table from an experiment: methods as columns, for each dataset and metric a row
 * of ours (test, mean ± sample std over seeds) and a row of the paper's figures, and columns of the
 * improvement of one method over the best of each group of methods — ours and the paper's.
 */
import type { TableSpec } from './grid.js';
import { type Collected, mean, type RunGroup, std } from './run-files.js';

/** One row of the table: a label per leading column, then one cell per method and per improvement. */
export interface TableRow {
  readonly dataset: string;
  readonly metric: string;
  readonly source: 'ours' | 'paper';
  readonly cells: readonly string[];
  readonly improvements: readonly string[];
}

export interface PaperTable {
  readonly title: string;
  readonly header: readonly string[];
  readonly improvementHeader: readonly string[];
  readonly rows: readonly TableRow[];
  readonly notes: readonly string[];
}

/** The test value of `metric` under `protocol` in each run that has it. */
function testValues(runs: readonly Collected[], protocol: string, metric: string): number[] {
  const xs: number[] = [];
  for (const c of runs) {
    const row = c.results.results.find((r) => r.split === 'test' && r.protocol === protocol);
    const v = row?.metrics[metric];
    if (typeof v === 'number') xs.push(v);
  }
  return xs;
}

const percent = (ratio: number) => `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)}%`;

/** of / max(group) as a signed percentage; '–' when a value is missing. */
function improvement(of: number | undefined, group: ReadonlyArray<number | undefined>): string {
  if (of === undefined || group.length === 0 || group.some((x) => x === undefined)) return '–';
  const best = Math.max(...(group as number[]));
  return best > 0 ? percent(of / best) : '–';
}

/**
 * The table over the finished runs. `datasets`: the grid's dataset names in order; `seeds`: how many
 * seeds each cell should have (a cell with fewer says how many it has).
 */
export function buildPaperTable(spec: TableSpec, groups: readonly RunGroup[], datasets: readonly string[], seeds: number): PaperTable {
  const groupOf = (dataset: string, model: string, config: string | undefined) =>
    groups.find((g) => g.datasetName === dataset && g.model === model && (config === undefined || g.config === config));
  const configOf = new Map(spec.columns.map((c) => [c.model, c.config]));
  const rows: TableRow[] = [];
  for (const dataset of datasets) {
    const paper = spec.paper[dataset] ?? {};
    for (const metric of spec.metrics) {
      const valuesOf = (model: string, config = configOf.get(model)) =>
        testValues(groupOf(dataset, model, config)?.runs ?? [], spec.protocol, metric);
      const oursOf = (model: string) => {
        const xs = valuesOf(model);
        return xs.length === 0 ? undefined : mean(xs);
      };
      const paperOf = (model: string) => paper[model]?.[metric];
      // a column is its own (model, config): one model may fill several columns, one per config
      const cells = spec.columns.map((c) => {
        const xs = valuesOf(c.model, c.config);
        if (xs.length === 0) return '–';
        const shown = `${mean(xs).toFixed(4)} ± ${std(xs).toFixed(4)}`;
        return xs.length < seeds ? `${shown} (n=${xs.length})` : shown;
      });
      const imp = spec.improvement;
      const groupsVs = imp ? Object.values(imp.vs) : [];
      rows.push({
        dataset,
        metric,
        source: 'ours',
        cells,
        improvements: imp ? groupsVs.map((ms) => improvement(oursOf(imp.of), ms.map(oursOf))) : [],
      });
      if (Object.keys(paper).length > 0) {
        rows.push({
          dataset,
          metric,
          source: 'paper',
          cells: spec.columns.map((c) => {
            const v = paperOf(c.config ?? c.model);
            return v === undefined ? '–' : v.toFixed(4);
          }),
          improvements: imp ? groupsVs.map((ms) => improvement(paperOf(imp.of), ms.map(paperOf))) : [],
        });
      }
    }
  }
  return {
    title: spec.title,
    header: spec.columns.map((c) => c.label),
    improvementHeader: spec.improvement ? Object.keys(spec.improvement.vs).map((g) => `${spec.improvement!.of} vs ${g}`) : [],
    rows,
    notes: spec.notes,
  };
}

/** The table as Markdown, with a line on how to read it. */
export function paperTableMarkdown(t: PaperTable, protocol: string): string {
  const cols = ['dataset', 'metric', '', ...t.header, ...t.improvementHeader];
  const lines = [
    `## ${t.title}`,
    '',
    `Test ${protocol === 'sampled' ? 'sampled-100' : 'full-ranking'} metrics of the best-valid checkpoint: ours as mean ± sample std over seeds, the paper's below. ` +
      'Improvement: the method named over the best of the group, in %.',
    '',
    `| ${cols.join(' | ')} |`,
    `|${' --- |'.repeat(cols.length)}`,
  ];
  for (const r of t.rows)
    lines.push(`| ${r.source === 'ours' ? r.dataset : ''} | ${r.metric} | ${r.source} | ${[...r.cells, ...r.improvements].join(' | ')} |`);
  if (t.notes.length > 0) lines.push('', ...t.notes.map((n) => `- ${n}`));
  return `${lines.join('\n')}\n`;
}
