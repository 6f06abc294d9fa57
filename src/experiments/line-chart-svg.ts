/** A small self-contained SVG line chart: numeric x, one or more series, optional ± error bars. */
import { escapeMarkup } from './markup.js';

export interface ChartPoint {
  readonly x: number;
  readonly y: number;
  /** half-length of the error bar (e.g. a sample std) */
  readonly err?: number;
}

export interface ChartSeries {
  readonly label: string;
  readonly color: string;
  readonly points: readonly ChartPoint[];
  /** hollow markers, not joined (e.g. a paper's few figures on other data: no line implies values between them) */
  readonly reference?: boolean;
}

export interface LineChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly ChartSeries[];
}

/** About five round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

const tickLabel = (t: number) => (Math.abs(t) >= 100 || Number.isInteger(t) ? String(Math.round(t)) : String(Number(t.toPrecision(3))));

export function lineChartSvg(chart: LineChart, width = 520, height = 320): string {
  const left = 64;
  const right = 16;
  const top = 34;
  const bottom = 46 + 16 * chart.series.length;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const pts = chart.series.flatMap((s) => s.points);
  const xs = pts.map((p) => p.x);
  const ys = pts.flatMap((p) => [p.y - (p.err ?? 0), p.y + (p.err ?? 0)]);
  const [x0, x1] = xs.length === 0 ? [0, 1] : [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = ys.length === 0 ? [0, 1] : [Math.min(...ys), Math.max(...ys)];
  const pad = (y1 - y0 || Math.abs(y1) || 1) * 0.08;
  y0 -= pad;
  y1 += pad;
  const sx = (x: number) => left + (x1 === x0 ? plotW / 2 : ((x - x0) / (x1 - x0)) * plotW);
  const sy = (y: number) => top + plotH - ((y - y0) / (y1 - y0)) * plotH;
  const f = (v: number) => v.toFixed(1);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${left}" y="18" font-size="13">${escapeMarkup(chart.title)}</text>`,
    `<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`,
  ];
  for (const t of niceTicks(y0, y1)) {
    parts.push(
      `<line x1="${left}" x2="${left + plotW}" y1="${f(sy(t))}" y2="${f(sy(t))}" stroke="#eee"/>`,
      `<text x="${left - 5}" y="${f(sy(t) + 4)}" text-anchor="end">${tickLabel(t)}</text>`,
    );
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    parts.push(`<text x="${f(sx(x))}" y="${top + plotH + 15}" text-anchor="middle">${tickLabel(x)}</text>`);
  }
  parts.push(
    `<text x="${left + plotW / 2}" y="${top + plotH + 32}" text-anchor="middle">${escapeMarkup(chart.xLabel)}</text>`,
    `<text x="14" y="${top + plotH / 2}" text-anchor="middle" transform="rotate(-90 14 ${top + plotH / 2})">${escapeMarkup(chart.yLabel)}</text>`,
  );
  chart.series.forEach((s, i) => {
    const sorted = [...s.points].sort((a, b) => a.x - b.x);
    if (sorted.length > 1 && !s.reference) {
      const path = sorted.map((p) => `${f(sx(p.x))},${f(sy(p.y))}`).join(' ');
      parts.push(`<polyline points="${path}" fill="none" stroke="${s.color}" stroke-width="1.8"/>`);
    }
    for (const p of sorted) {
      if (p.err !== undefined && p.err > 0) {
        const [a, b] = [sy(p.y - p.err), sy(p.y + p.err)];
        parts.push(
          `<line x1="${f(sx(p.x))}" x2="${f(sx(p.x))}" y1="${f(a)}" y2="${f(b)}" stroke="${s.color}"/>`,
          `<line x1="${f(sx(p.x) - 3)}" x2="${f(sx(p.x) + 3)}" y1="${f(a)}" y2="${f(a)}" stroke="${s.color}"/>`,
          `<line x1="${f(sx(p.x) - 3)}" x2="${f(sx(p.x) + 3)}" y1="${f(b)}" y2="${f(b)}" stroke="${s.color}"/>`,
        );
      }
      const fill = s.reference ? '#fff' : s.color;
      const tip = `${s.label}: ${tickLabel(p.x)} → ${p.y.toPrecision(4)}${p.err ? ` ± ${p.err.toPrecision(2)}` : ''}`;
      parts.push(
        `<circle cx="${f(sx(p.x))}" cy="${f(sy(p.y))}" r="${s.reference ? 4 : 3}" fill="${fill}" stroke="${s.color}"><title>${escapeMarkup(tip)}</title></circle>`,
      );
    }
    const ly = height - 12 - 16 * (chart.series.length - 1 - i);
    const key = s.reference
      ? `<circle cx="${left + 11}" cy="${ly - 4}" r="3.5" fill="#fff" stroke="${s.color}"/>`
      : `<line x1="${left}" x2="${left + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="1.8"/>`;
    parts.push(key, `<text x="${left + 28}" y="${ly}">${escapeMarkup(s.label)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
