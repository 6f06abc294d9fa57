/**
 * A metric and the training cost against one numeric grid parameter (the SASRec paper's Table V:
 * NDCG@10 and training time against the maximum length n): per dataset and model, the test metric's
 * mean ± std over seeds and the seconds of a training epoch at each value, as a table and two SVG charts (the
 * second relative to the smallest value, so a paper's row on other data can be set beside it).
 */
import { type SweepFigureSpec, slug } from './grid.js';
import { type ChartSeries, type LineChart, lineChartSvg } from './line-chart-svg.js';
import { type Collected, mean, metricKey, metricOf, std } from './run-files.js';

export interface MeanStd {
  readonly mean: number;
  readonly std: number;
}

export interface SweepPoint {
  readonly x: number;
  readonly runs: number;
  readonly metric: MeanStd;
  /** each run's fastest training epoch in seconds (evaluation excluded), over the runs whose log has them */
  readonly epochSeconds: MeanStd | undefined;
  /** epochs trained, mean over runs */
  readonly epochs: number;
}

export interface SweepSeries {
  /** the model, with the run's other grid values when it has any */
  readonly label: string;
  readonly points: readonly SweepPoint[];
}

export interface SweepChart {
  readonly dataset: string;
  readonly series: readonly SweepSeries[];
}

export interface SweepFigure {
  readonly spec: SweepFigureSpec;
  readonly charts: readonly SweepChart[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const PAPER_COLOR = '#555';

/** The run's fastest epoch: the least disturbed by other processes sharing the machine. */
function fastestEpochSeconds(c: Collected): number | undefined {
  const xs = c.log.map((l) => l.seconds).filter((s): s is number => typeof s === 'number' && s > 0);
  return xs.length === 0 ? undefined : Math.min(...xs);
}

const meanStd = (xs: readonly number[]): MeanStd => ({ mean: mean(xs), std: std(xs) });

/** "0.4135 ± 0.0005" (digits after the point), or "–" when there is none. */
export const formatMeanStd = (m: MeanStd | undefined, digits: number): string =>
  m === undefined ? '–' : `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)}`;

/** The figure over the finished runs; datasets: the grid's dataset names in order. */
export function buildSweepFigure(spec: SweepFigureSpec, collected: readonly Collected[], datasets: readonly string[]): SweepFigure {
  const charts: SweepChart[] = [];
  for (const dataset of spec.datasets ?? datasets) {
    const bySeries = new Map<string, Map<number, Collected[]>>();
    for (const c of collected) {
      if (c.run.datasetName !== dataset || (spec.models && !spec.models.includes(c.run.model))) continue;
      const x = Number(c.run.gridValues[spec.param]);
      if (!Number.isFinite(x)) continue;
      const others = Object.entries(c.run.gridValues)
        .filter(([k]) => k !== spec.param)
        .map(([k, v]) => `${k}=${String(v)}`);
      const label = [c.run.model, ...others].join(' ');
      const byX = bySeries.get(label) ?? new Map<number, Collected[]>();
      byX.set(x, [...(byX.get(x) ?? []), c]);
      bySeries.set(label, byX);
    }
    const series: SweepSeries[] = [];
    for (const [label, byX] of bySeries) {
      const points: SweepPoint[] = [];
      for (const [x, cs] of [...byX].sort((a, b) => a[0] - b[0])) {
        const column = metricKey({ split: 'test', protocol: spec.protocol }, spec.metric);
        const ms = cs.map((c) => metricOf(c, column)).filter((v): v is number => v !== undefined);
        if (ms.length === 0) continue;
        const secs = cs.map(fastestEpochSeconds).filter((s): s is number => s !== undefined);
        points.push({
          x,
          runs: ms.length,
          metric: meanStd(ms),
          epochSeconds: secs.length === 0 ? undefined : meanStd(secs),
          epochs: mean(cs.map((c) => c.log.length)),
        });
      }
      if (points.length > 0) series.push({ label, points });
    }
    if (series.length > 0) charts.push({ dataset, series });
  }
  return { spec, charts };
}

/** The figure's table as Markdown: one column per value of the parameter. */
export function sweepMarkdown(f: SweepFigure): string {
  const { spec } = f;
  const lines = [`## ${spec.title}`, ''];
  lines.push(
    `Test ${spec.protocol} ${spec.metric} (mean ± sample std over seeds) and each run's fastest training epoch in seconds (evaluation excluded; the fastest, because other processes on the machine slow the rest) against ${spec.param}; the charts are in report.html and sweep-*.svg.`,
    '',
  );
  for (const chart of f.charts) {
    for (const s of chart.series) {
      const xs = s.points.map((p) => p.x);
      lines.push(`| ${chart.dataset} · ${s.label} · ${spec.param} | ${xs.join(' | ')} |`, `| --- |${' ---: |'.repeat(xs.length)}`);
      lines.push(`| ${spec.metric} | ${s.points.map((p) => formatMeanStd(p.metric, 4)).join(' | ')} |`);
      lines.push(`| fastest epoch (s) | ${s.points.map((p) => formatMeanStd(p.epochSeconds, 2)).join(' | ')} |`);
      lines.push(`| epochs trained | ${s.points.map((p) => p.epochs.toFixed(0)).join(' | ')} |`);
      lines.push(`| seeds | ${s.points.map((p) => String(p.runs)).join(' | ')} |`, '');
    }
  }
  if (spec.paper) {
    const p = spec.paper;
    lines.push(
      `${p.label}: ${p.points.map((q) => `${spec.param} ${q.x}: ${[q.metric === undefined ? '' : `${spec.metric} ${q.metric}`, q.seconds === undefined ? '' : `${q.seconds} s`].filter(Boolean).join(', ')}`).join('; ')}.`,
      '',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Per dataset two charts: the metric, and the training time relative to the smallest value. */
export function sweepSvgs(f: SweepFigure): Array<{ name: string; title: string; svg: string }> {
  const { spec } = f;
  const out: Array<{ name: string; title: string; svg: string }> = [];
  const paperSeries = (value: (q: { x: number; metric?: number; seconds?: number }) => number | undefined): ChartSeries[] => {
    if (!spec.paper) return [];
    const pts = spec.paper.points.flatMap((q) => {
      const y = value(q);
      return y === undefined ? [] : [{ x: q.x, y }];
    });
    return pts.length === 0 ? [] : [{ label: spec.paper.label, color: PAPER_COLOR, points: pts, reference: true }];
  };
  const paperFirstSeconds = spec.paper?.points.find((q) => q.seconds !== undefined)?.seconds;
  for (const chart of f.charts) {
    const metricChart: LineChart = {
      title: `${chart.dataset}: test ${spec.protocol} ${spec.metric} against ${spec.param}`,
      xLabel: spec.param,
      yLabel: spec.metric,
      series: [
        ...chart.series.map((s, i) => ({
          label: `${s.label} (mean ± std, ${Math.max(...s.points.map((p) => p.runs))} seeds)`,
          color: COLORS[i % COLORS.length],
          points: s.points.map((p) => ({ x: p.x, y: p.metric.mean, err: p.metric.std })),
        })),
        ...paperSeries((q) => q.metric),
      ],
    };
    const timed = chart.series.flatMap((s, i) => {
      const pts = s.points.filter((p) => p.epochSeconds !== undefined);
      if (pts.length === 0) return [];
      const base = pts[0].epochSeconds!.mean;
      return [
        {
          label: `${s.label}: fastest epoch ÷ ${base.toFixed(2)} s at ${spec.param} ${pts[0].x}`,
          color: COLORS[i % COLORS.length],
          points: pts.map((p) => ({ x: p.x, y: p.epochSeconds!.mean / base })),
        },
      ];
    });
    const timeChart: LineChart = {
      title: `${chart.dataset}: training time against ${spec.param}, relative`,
      xLabel: spec.param,
      yLabel: `time ÷ time at the smallest ${spec.param}`,
      series: [
        ...timed,
        ...paperSeries((q) => (q.seconds === undefined || paperFirstSeconds === undefined ? undefined : q.seconds / paperFirstSeconds)),
      ],
    };
    const stem = slug(`sweep-${chart.dataset}-${spec.param}`);
    out.push({ name: `${stem}-metric.svg`, title: metricChart.title, svg: lineChartSvg(metricChart) });
    if (timed.length > 0) out.push({ name: `${stem}-time.svg`, title: timeChart.title, svg: lineChartSvg(timeChart) });
  }
  return out;
}
