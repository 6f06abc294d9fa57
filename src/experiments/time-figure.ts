/**
 * Accuracy against training time (the SASRec paper's Figure 3): per dataset, the valid NDCG@10 of
 * each evaluation against the training seconds spent so far (evaluation time excluded), one line per
 * model and seed; and a table of seconds per epoch, each model against a baseline model.
 */
import type { TimeFigureSpec } from './grid.js';
import { bestEpoch, type Collected, mean, type RunGroup, std } from './run-files.js';

export interface TimeSeries {
  readonly model: string;
  readonly seed: number;
  /** (cumulative training seconds, valid NDCG@10) at each evaluation */
  readonly points: ReadonlyArray<{ x: number; y: number }>;
}

export interface TimeChart {
  readonly dataset: string;
  readonly series: readonly TimeSeries[];
}

export interface EpochTiming {
  readonly dataset: string;
  readonly model: string;
  readonly runs: number;
  /** mean and sample std over runs of each run's mean seconds per epoch */
  readonly secondsPerEpoch: { mean: number; std: number };
  /** seconds per epoch of this model / of the baseline, on the same dataset */
  readonly vsBaseline: number | undefined;
  /** training seconds until the best valid NDCG@10, mean over runs */
  readonly secondsToBest: number | undefined;
}

export interface TimeFigure {
  readonly title: string;
  readonly baseline: string;
  readonly charts: readonly TimeChart[];
  readonly timings: readonly EpochTiming[];
}

function series(c: Collected, model: string): TimeSeries {
  let seconds = 0;
  const points: Array<{ x: number; y: number }> = [];
  for (const l of c.log) {
    seconds += l.seconds ?? 0;
    const y = l.valid?.['NDCG@10'];
    if (typeof y === 'number') points.push({ x: Math.round(seconds * 1000) / 1000, y });
  }
  return { model, seed: c.run.seed, points };
}

function secondsPerEpoch(c: Collected): number | undefined {
  const xs = c.log.map((l) => l.seconds).filter((s): s is number => typeof s === 'number');
  return xs.length === 0 ? undefined : mean(xs);
}

function secondsToBest(c: Collected): number | undefined {
  const best = bestEpoch(c);
  if (best === undefined) return undefined;
  return c.log.filter((l) => l.epoch <= best).reduce((a, l) => a + (l.seconds ?? 0), 0);
}

/** The figure over the finished runs of the grid; datasets: the grid's dataset names in order. */
export function buildTimeFigure(spec: TimeFigureSpec, groups: readonly RunGroup[], datasets: readonly string[]): TimeFigure {
  const baseline = spec.baseline ?? spec.models[0];
  const charts: TimeChart[] = [];
  const timings: EpochTiming[] = [];
  for (const dataset of spec.datasets ?? datasets) {
    const runsOf = (model: string) => groups.filter((g) => g.datasetName === dataset && g.model === model).flatMap((g) => g.runs);
    const perEpoch = (model: string) =>
      runsOf(model)
        .map(secondsPerEpoch)
        .filter((s): s is number => s !== undefined);
    const base = perEpoch(baseline);
    charts.push({ dataset, series: spec.models.flatMap((m) => runsOf(m).map((c) => series(c, m))) });
    for (const model of spec.models) {
      const xs = perEpoch(model);
      if (xs.length === 0) continue;
      const toBest = runsOf(model)
        .map(secondsToBest)
        .filter((s): s is number => s !== undefined);
      timings.push({
        dataset,
        model,
        runs: xs.length,
        secondsPerEpoch: { mean: mean(xs), std: std(xs) },
        vsBaseline: base.length === 0 ? undefined : mean(xs) / mean(base),
        secondsToBest: toBest.length === 0 ? undefined : mean(toBest),
      });
    }
  }
  return { title: spec.title, baseline, charts, timings };
}

/** The per-epoch timing table as Markdown. */
export function timingMarkdown(f: TimeFigure): string {
  const lines = [
    `## ${f.title}: seconds per epoch`,
    '',
    `Training seconds per epoch (evaluation excluded), mean ± sample std over runs; × ${f.baseline}: the ratio to ${f.baseline}'s on the same data. The curves are in report.html.`,
    '',
    `| dataset | model | runs | s / epoch | × ${f.baseline} | s to best valid NDCG@10 |`,
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const t of f.timings) {
    lines.push(
      `| ${t.dataset} | ${t.model} | ${t.runs} | ${t.secondsPerEpoch.mean.toFixed(2)} ± ${t.secondsPerEpoch.std.toFixed(2)} | ${
        t.vsBaseline === undefined ? '–' : t.vsBaseline.toFixed(2)
      } | ${t.secondsToBest === undefined ? '–' : t.secondsToBest.toFixed(0)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
