/**
 * What `seqrec explain --output RUN/explain.json --svg_dir RUN/attention` left in a run directory:
 * the readings and the SVG heatmaps, for the run and experiment reports. None when absent; a damaged
 * explain.json is a one-line UserError naming it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import { escapeMarkup } from './markup.js';

export interface RunAttention {
  readonly readings: readonly string[];
  /** [file name, SVG text], in name order */
  readonly heatmaps: ReadonlyArray<readonly [string, string]>;
}

export const EXPLAIN_FILE = 'explain.json';
export const ATTENTION_DIR = 'attention';

export function readRunAttention(dir: string): RunAttention | undefined {
  const jsonPath = join(dir, EXPLAIN_FILE);
  const svgDir = join(dir, ATTENTION_DIR);
  let readings: string[] = [];
  if (existsSync(jsonPath)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(jsonPath, 'utf8'));
    } catch {
      throw new UserError(`${jsonPath}: not valid JSON (rerun seqrec explain)`);
    }
    const r = (parsed as { readings?: unknown }).readings;
    if (!Array.isArray(r) || !r.every((x) => typeof x === 'string')) throw new UserError(`${jsonPath}: no readings list (rerun seqrec explain)`);
    readings = r;
  }
  const heatmaps: Array<[string, string]> = existsSync(svgDir)
    ? readdirSync(svgDir)
        .filter((f) => f.endsWith('.svg'))
        .sort()
        .map((f) => [f, readFileSync(join(svgDir, f), 'utf8')])
    : [];
  return readings.length === 0 && heatmaps.length === 0 ? undefined : { readings, heatmaps };
}

/** The readings as a list and the heatmaps inline, under a heading. */
export function attentionHtml(title: string, a: RunAttention): string {
  return (
    `<h2>${escapeMarkup(title)}</h2>\n<ul>${a.readings.map((r) => `<li>${escapeMarkup(r)}</li>`).join('')}</ul>\n` +
    a.heatmaps.map(([name, svg]) => `<figure>${svg}<figcaption>${escapeMarkup(name)}</figcaption></figure>`).join('\n')
  );
}
