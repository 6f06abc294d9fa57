/**
 * `seqrec experiments grid.yaml`: datasets × models × flag grid × seeds, trained one after another in
 * this process (through the same code as `seqrec train`), resumable, summarised into results.csv,
 * results.md (mean ± sample std over seeds) and report.html (training curves, chart.js inlined so
 * the page works offline).
 *
 * Grid file (YAML or JSON):
 *   datasets: [data/ring.txt]          # paths, relative to the grid file, or
 *                                      #   { path, name?, flags?, models?, seeds? } (flags for that dataset's
 *                                      #   runs, feature files relative to the grid file; only these models;
 *                                      #   its own seeds, e.g. fewer on a dataset beside the targets)
 *   models: [sasrec, tisasrec]
 *   flags: { num_epochs: 20, maxlen: 50 }   # train flags (snake_case names) for every run
 *   grid: { lr: [0.001, 0.0005] }      # optional: every combination of these values is a config
 *   variants: { remove-pe: { no_position_emb: true } }   # optional: named flag sets, each a config
 *                                      #   (named by the variant; crossed with grid: when both are given)
 *   seeds: [1, 2, 3]                   # default [42]
 *   out: runs/exp                      # default: <grid file name>-results next to the grid file
 *   model_flags: { caser: { lr: 0.001 } }   # optional: flags for one model only (over flags:)
 *   table: {...}                       # optional: a paper's table layout (see TableSchema)
 *   time_figure: {...}                 # optional: accuracy against training time (see TimeFigureSchema)
 *   sweep_figure: {...}                # optional: a metric and s/epoch against a grid key (SweepFigureSchema)
 *   baseline: { model: sasrec, config: loss=bce }   # optional: what the paired-by-seed differences are
 *                                      #   against (default: each dataset's first config)
 *
 * Run folders: <out>/runs/<dataset>/<model>/<config>/seed-<s>. A run whose results.json exists is
 * skipped; one with a last.safetensors but no results.json is resumed (--resume), so rerunning an
 * interrupted grid loses at most one epoch.
 *
 * Everything is checked before the first run starts: flag names (exactly those `seqrec train`
 * accepts, snake_case or kebab-case), datasets, and the results.json / log.jsonl of the runs that
 * will be skipped (a damaged one is refused naming the file, instead of breaking the reports).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import { snake } from '../core/options.js';
import { isBareName } from '../data/options.js';
import { trainOptionNames } from '../train/request.js';

const Scalar = z.union([z.string(), z.number(), z.boolean()]);

/**
 * A paper's results table: methods as columns, one row per (dataset, metric), each cell ours
 * (mean ± std over seeds) beside the paper's figure, and "improvement of one method vs the best of
 * a group" columns, ours and the paper's.
 */
export const TableSchema = z
  .object({
    title: z.string().default('Results'),
    /** the test metrics of this protocol */
    protocol: z.enum(['sampled', 'full']).default('sampled'),
    metrics: z.array(z.string().min(1)).min(1).default(['HR@10', 'NDCG@10']),
    /** in column order; config: which grid config of the model (needed when it has several) */
    columns: z.array(z.object({ model: z.string().min(1), label: z.string().min(1), config: z.string().min(1).optional() }).strict()).min(1),
    improvement: z
      .object({ of: z.string().min(1), vs: z.record(z.string(), z.array(z.string().min(1)).min(1)) })
      .strict()
      .optional(),
    /**
     * dataset name (as the run folders name it) → model (or, for a column of one config, that config)
     * → metric → the paper's figure
     */
    paper: z.record(z.string(), z.record(z.string(), z.record(z.string(), z.number()))).default({}),
    /** a line under the table (e.g. how the data differ from the paper's) */
    notes: z.array(z.string()).default([]),
  })
  .strict();

/** Valid NDCG@10 against cumulative training seconds, one line per model, one chart per dataset. */
export const TimeFigureSchema = z
  .object({
    title: z.string().default('Accuracy against training time'),
    models: z.array(z.string().min(1)).min(1),
    /** dataset names (as the run folders name them); default all */
    datasets: z.array(z.string().min(1)).optional(),
    /** the model the per-epoch times are compared with */
    baseline: z.string().min(1).optional(),
  })
  .strict();

/**
 * A metric and the seconds per epoch against one numeric grid parameter (the SASRec paper's Table V),
 * optionally beside a paper's figures for it (often on other data: drawn dashed, time relative).
 */
export const SweepFigureSchema = z
  .object({
    title: z.string().default('Accuracy and training time against a parameter'),
    /** a key of `grid` whose values are numbers */
    param: z.string().min(1),
    metric: z.string().min(1).default('NDCG@10'),
    protocol: z.enum(['sampled', 'full']).default('sampled'),
    models: z.array(z.string().min(1)).min(1).optional(),
    datasets: z.array(z.string().min(1)).optional(),
    paper: z
      .object({
        label: z.string().min(1),
        points: z.array(z.object({ x: z.number(), metric: z.number().optional(), seconds: z.number().positive().optional() }).strict()).min(1),
      })
      .strict()
      .optional(),
  })
  .strict();

/** The config the report's paired-by-seed differences are taken against (default: each dataset's first). */
export const BaselineSchema = z.object({ model: z.string().min(1), config: z.string().min(1).optional() }).strict();

/** Rng seeds are uint32. */
const SeedSchema = z
  .number()
  .int()
  .min(0)
  .max(2 ** 32 - 1);

/** A dataset of the grid with a name (for the run folders and the reports) and flags of its own. */
const DatasetEntrySchema = z
  .object({
    path: z.string().min(1),
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, 'letters, digits, . _ + - (it names a folder)')
      .optional(),
    flags: z.record(z.string(), Scalar).default({}),
    /** only these of the grid's models run on this dataset (default: all) */
    models: z.array(z.string().min(1)).min(1).optional(),
    /** this dataset's seeds instead of the grid's (e.g. one seed on a dataset beside the issue's targets) */
    seeds: z.array(SeedSchema).min(1).optional(),
  })
  .strict();

export type TableSpec = z.infer<typeof TableSchema>;
export type TimeFigureSpec = z.infer<typeof TimeFigureSchema>;
export type SweepFigureSpec = z.infer<typeof SweepFigureSchema>;

export const GridSchema = z
  .object({
    datasets: z.array(z.union([z.string().min(1), DatasetEntrySchema])).min(1),
    models: z.array(z.string().min(1)).min(1),
    flags: z.record(z.string(), Scalar).default({}),
    grid: z.record(z.string(), z.array(Scalar).min(1)).default({}),
    /** named flag sets, each a config of its own (crossed with `grid`'s combinations): an ablation's rows */
    variants: z.record(z.string().min(1), z.record(z.string(), Scalar)).optional(),
    seeds: z.array(SeedSchema).min(1).default([42]),
    out: z.string().min(1).optional(),
    model_flags: z.record(z.string(), z.record(z.string(), Scalar)).default({}),
    table: TableSchema.optional(),
    time_figure: TimeFigureSchema.optional(),
    sweep_figure: SweepFigureSchema.optional(),
    baseline: BaselineSchema.optional(),
  })
  .strict();

export type Grid = z.infer<typeof GridSchema>;

/** Flags that the experiment itself sets per run. */
const RESERVED = ['model', 'dataset', 'train_dir', 'seed', 'resume', 'overwrite', 'state_dict_path', 'inference_only'];

export interface PlannedRun {
  readonly dataset: string;
  readonly datasetName: string;
  readonly model: string;
  /** the grid values of this config, e.g. { lr: 0.01 } */
  readonly gridValues: Record<string, string | number | boolean>;
  /** a readable id of (grid values): "lr=0.01_maxlen=50", or "default" */
  readonly config: string;
  readonly seed: number;
  readonly flags: Record<string, string | number | boolean>;
  readonly dir: string;
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The train flag a misspelled key most likely meant (snake_case), if one is close enough. */
export function closestFlag(key: string, flags: readonly string[]): string | undefined {
  const k = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/-/g, '_');
  const candidates = [...new Set(flags.map((f) => f.replace(/-/g, '_')))].filter((f) => !RESERVED.includes(f));
  let best: string | undefined;
  let bestDist = k.length <= 4 ? 1 : k.length <= 8 ? 2 : 3;
  for (const f of candidates) {
    const dist = editDistance(k, f);
    if (dist < bestDist || (dist === bestDist && best === undefined)) {
      best = f;
      bestDist = dist;
    }
  }
  if (best !== undefined) return best;
  // a missing word: dropout → dropout_rate, epochs → num_epochs (when only one flag fits)
  const partial = candidates.filter((f) => f.startsWith(`${k}_`) || f.endsWith(`_${k}`));
  return partial.length === 1 ? partial[0] : undefined;
}

/**
 * Reads and validates a grid file; errors are one line naming the file. trainFlags: the option names
 * `seqrec train` reads (snake_case); a key of flags / grid that is none of them, in any spelling, is
 * refused.
 */
export function loadGrid(path: string, trainFlags: readonly string[] = trainOptionNames()): Grid {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read grid file ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new UserError(`${path}: not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  const parsed = GridSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(`${path}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  const grid = parsed.data;
  const variantFlags = Object.entries(grid.variants ?? {}).map(([v, f]) => [`variants.${v}`, Object.keys(f)] as const);
  const variantSlugs = Object.keys(grid.variants ?? {}).map(slug);
  const twice = variantSlugs.find((v, i) => variantSlugs.indexOf(v) !== i);
  if (twice !== undefined) throw new UserError(`${path}: variants: two variants are both named "${twice}" in run folders`);
  for (const k of [...Object.keys(grid.flags), ...Object.keys(grid.grid), ...variantFlags.flatMap(([, f]) => f)]) {
    if (RESERVED.includes(snake(k))) {
      throw new UserError(`${path}: flag "${k}" is set by the experiment (use datasets / models / seeds)`);
    }
  }
  const datasetFlags = grid.datasets.flatMap((d, i) => (typeof d === 'string' ? [] : [[`datasets.${i}.flags`, Object.keys(d.flags)] as const]));
  for (const m of Object.keys(grid.model_flags)) {
    if (!grid.models.includes(m)) throw new UserError(`${path}: model_flags: "${m}" is not one of models (${grid.models.join(', ')})`);
  }
  checkReportModels(path, grid);
  const unknown: string[] = [];
  const sections: Array<readonly [string, string[]]> = [
    ['flags', Object.keys(grid.flags)],
    ['grid', Object.keys(grid.grid)],
    ...variantFlags,
    ...Object.entries(grid.model_flags).map(([m, f]) => [`model_flags.${m}`, Object.keys(f)] as const),
    ...datasetFlags,
  ];
  for (const [, keys] of sections.slice(2)) {
    for (const k of keys) {
      if (RESERVED.includes(snake(k))) throw new UserError(`${path}: flag "${k}" is set by the experiment (use datasets / models / seeds)`);
    }
  }
  for (const [section, keys] of sections) {
    for (const k of keys) {
      // any spelling the train command reads: hidden_units, hidden-units, hiddenUnits (as older grids wrote them)
      if (trainFlags.includes(snake(k))) continue;
      const guess = closestFlag(k, trainFlags);
      const hint = guess
        ? `(did you mean ${guess}?)`
        : Object.hasOwn(GridSchema.shape, k)
          ? `(${k} is a top-level key of the grid file, not a flag)`
          : '(not a `seqrec train` flag; see seqrec train --help)';
      unknown.push(`${section}: unknown flag "${k}" ${hint}`);
    }
  }
  if (unknown.length > 0) throw new UserError(`${path}: ${unknown.join('; ')}`);
  return grid;
}

/** The table's and the figure's model names must be models of the grid. */
function checkReportModels(path: string, grid: Grid): void {
  const known = (section: string, m: string) => {
    if (!grid.models.includes(m)) throw new UserError(`${path}: ${section}: "${m}" is not one of models (${grid.models.join(', ')})`);
  };
  const t = grid.table;
  if (t) {
    for (const c of t.columns) known('table.columns', c.model);
    if (t.improvement) {
      known('table.improvement.of', t.improvement.of);
      for (const [g, ms] of Object.entries(t.improvement.vs)) for (const m of ms) known(`table.improvement.vs.${g}`, m);
    }
    const columnConfigs = t.columns.flatMap((c) => (c.config === undefined ? [] : [c.config]));
    for (const [d, byModel] of Object.entries(t.paper)) {
      for (const m of Object.keys(byModel)) if (!columnConfigs.includes(m)) known(`table.paper.${d}`, m);
    }
  }
  if (grid.time_figure) {
    for (const m of grid.time_figure.models) known('time_figure.models', m);
    if (grid.time_figure.baseline !== undefined) known('time_figure.baseline', grid.time_figure.baseline);
  }
  if (grid.baseline !== undefined) known('baseline.model', grid.baseline.model);
  const sweep = grid.sweep_figure;
  if (sweep) {
    for (const m of sweep.models ?? []) known('sweep_figure.models', m);
    const values = grid.grid[sweep.param];
    if (values === undefined) {
      const keys = Object.keys(grid.grid);
      throw new UserError(
        `${path}: sweep_figure.param: "${sweep.param}" is not a key of grid (${keys.length === 0 ? 'the grid has none' : keys.join(', ')})`,
      );
    }
    if (!values.every((v) => typeof v === 'number'))
      throw new UserError(`${path}: sweep_figure.param: grid.${sweep.param} has values that are not numbers`);
  }
}

/** A name as a folder or file name: runs of other characters become one '-'. */
export const slug = (s: string) => s.replace(/[^A-Za-z0-9.=+-]+/g, '-').replace(/^-+|-+$/g, '') || 'x';

function datasetName(path: string): string {
  const b = basename(path)
    .replace(/\.gz$/i, '')
    .replace(/\.[^.]*$/, '');
  return slug(b || basename(path));
}

/** Every run of the grid, in execution order (dataset, model, config, seed). */
/** Dataset flags naming files, taken relative to the grid file as the dataset path is. */
const FILE_FLAGS = ['user_features', 'item_features'];

export function planRuns(grid: Grid, gridPath: string, outOverride?: string): { out: string; runs: PlannedRun[] } {
  const base = dirname(resolve(gridPath));
  const out = resolve(outOverride ?? (grid.out ? resolve(base, grid.out) : join(base, `${basename(gridPath).replace(/\.[^.]*$/, '')}-results`)));
  const keys = Object.keys(grid.grid);
  let combos: Array<Record<string, string | number | boolean>> = [{}];
  for (const k of keys) combos = combos.flatMap((c) => grid.grid[k].map((v) => ({ ...c, [k]: v })));
  const variants: Array<readonly [string | undefined, Record<string, string | number | boolean>]> = grid.variants
    ? Object.entries(grid.variants)
    : [[undefined, {}]];
  const runs: PlannedRun[] = [];
  const names = new Map<string, string>();
  for (const d of grid.datasets) {
    const entry: { path: string; name?: string; flags: Record<string, string | number | boolean>; models?: string[]; seeds?: number[] } =
      typeof d === 'string' ? { path: d, flags: {} } : d;
    for (const m of entry.models ?? []) {
      if (!grid.models.includes(m))
        throw new UserError(`${gridPath}: datasets: model "${m}" is not among the grid's models (${grid.models.join(', ')})`);
    }
    // feature files, like the dataset, are relative to the grid file
    const flags = { ...entry.flags };
    for (const k of FILE_FLAGS) if (typeof flags[k] === 'string') flags[k] = resolve(base, String(flags[k]));
    // a bare NAME with no such file beside the grid (ml-1m) is looked up as `train --dataset NAME` does
    const byName = isBareName(entry.path) && !existsSync(resolve(base, entry.path));
    const dataset = byName ? entry.path : resolve(base, entry.path);
    let dn = entry.name ?? datasetName(dataset);
    if (names.has(dn) && (entry.name !== undefined || names.get(dn) !== dataset)) {
      if (entry.name !== undefined) throw new UserError(`${gridPath}: datasets: the name "${dn}" is given twice`);
      dn = `${dn}-${[...names.keys()].filter((n) => n.startsWith(dn)).length + 1}`;
    }
    names.set(dn, dataset);
    for (const model of grid.models) {
      if (entry.models && !entry.models.includes(model)) continue;
      for (const [variant, variantValues] of variants)
        for (const combo of combos) {
          const comboId = keys.length === 0 ? undefined : keys.map((k) => `${k}=${String(combo[k])}`).join('_');
          const config = slug([variant, comboId].filter((p) => p !== undefined).join('_') || 'default');
          const gridValues = { ...variantValues, ...combo };
          for (const seed of entry.seeds ?? grid.seeds) {
            runs.push({
              dataset,
              datasetName: dn,
              model,
              gridValues,
              config,
              seed,
              flags: { ...grid.flags, ...flags, ...grid.model_flags[model], ...gridValues },
              dir: join(out, 'runs', dn, slug(model), config, `seed-${seed}`),
            });
          }
        }
    }
  }
  const datasetNames = [...names.keys()];
  const knownDataset = (section: string, d: string) => {
    if (!datasetNames.includes(d)) {
      throw new UserError(`${gridPath}: ${section}: no dataset named "${d}" (the grid's datasets are named ${datasetNames.join(', ')})`);
    }
  };
  for (const d of Object.keys(grid.table?.paper ?? {})) knownDataset('table.paper', d);
  const configs = [...new Set(runs.map((r) => r.config))];
  for (const c of grid.table?.columns ?? []) {
    if (c.config !== undefined && !configs.includes(c.config)) {
      throw new UserError(`${gridPath}: table.columns: ${c.model} has no config "${c.config}" (configs: ${configs.join(', ')})`);
    }
    if (c.config === undefined && configs.length > 1) {
      throw new UserError(`${gridPath}: table.columns: ${c.model} needs a config (the grid has several: ${configs.join(', ')})`);
    }
  }
  const b = grid.baseline;
  if (b?.config !== undefined && !runs.some((r) => r.model === b.model && r.config === b.config)) {
    const own = [...new Set(runs.filter((r) => r.model === b.model).map((r) => r.config))];
    throw new UserError(`${gridPath}: baseline: ${b.model} has no config "${b.config}" (configs: ${own.join(', ')})`);
  }
  for (const d of grid.time_figure?.datasets ?? []) knownDataset('time_figure.datasets', d);
  for (const d of grid.sweep_figure?.datasets ?? []) knownDataset('sweep_figure.datasets', d);
  return { out, runs };
}
