import { Command, Option } from 'commander';
import { UserError } from './errors.js';
import {
  bundledDatasetPath,
  DATA_FORMATS,
  datasetStats,
  defaultCacheDir,
  fetchMovieLens,
  formatStats,
  loadDataset,
  MOVIELENS,
  type DataFormat,
  type KcoreMode,
  type LoadOptions,
  type MovieLensName,
} from '../data/index.js';

type Opts = Record<string, unknown>;

/** Adds `--snake_name <arg>` plus a hidden `--snake-name` alias. */
export function addSnakeOption(cmd: Command, snake: string, arg: string, description: string): Command {
  cmd.addOption(new Option(`--${snake} <${arg}>`, description));
  if (snake.includes('_')) cmd.addOption(new Option(`--${snake.replace(/_/g, '-')} <${arg}>`).hideHelp());
  return cmd;
}

/** The value of a snake_case flag, whichever spelling was used. */
export function snakeValue(opts: Opts, snake: string): string | undefined {
  const camel = snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  const v = opts[snake] ?? opts[camel];
  return v === undefined ? undefined : String(v);
}

export function intFlag(opts: Opts, snake: string, min = 0, max = 2 ** 31 - 1): number | undefined {
  const v = snakeValue(opts, snake);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim()) || Number(v) < min) throw new UserError(`--${snake}: expected an integer ≥ ${min}, got "${v}"`);
  if (Number(v) > max) throw new UserError(`--${snake}: at most ${max}, got "${v}"`);
  return Number(v);
}

/** Format and column flags of every command that reads a dataset. */
export function addFormatOptions(cmd: Command): Command {
  addSnakeOption(cmd, 'format', 'name', `input format: ${DATA_FORMATS.join('|')} (default auto: by file name, else by content; .gz is detected)`);
  addSnakeOption(cmd, 'user_col', 'name', 'CSV/TSV/JSONL user column (default: user_id, userId, user, …)');
  addSnakeOption(cmd, 'item_col', 'name', 'CSV/TSV/JSONL item column (default: item_id, itemId, movieId, …)');
  addSnakeOption(cmd, 'time_col', 'name', 'CSV/TSV/JSONL time column (default: timestamp, time, …; "none" to ignore)');
  return cmd;
}

/** k-core flags (min counts and --kcore one-pass|iterative). */
export function addKcoreOptions(cmd: Command, defaults = ''): Command {
  addSnakeOption(cmd, 'min_user_count', 'n', `drop users with fewer events${defaults}`);
  addSnakeOption(cmd, 'min_item_count', 'n', `drop items with fewer events${defaults}`);
  addSnakeOption(cmd, 'kcore', 'mode', 'one-pass (default: one filter on the raw counts, as SASRec/TiSASRec) or iterative (until stable)');
  return cmd;
}

export function kcoreModeFrom(opts: Opts): KcoreMode | undefined {
  const mode = snakeValue(opts, 'kcore');
  if (mode === undefined) return undefined;
  if (mode !== 'one-pass' && mode !== 'iterative') throw new UserError(`--kcore: expected one-pass or iterative, got "${mode}"`);
  return mode;
}

/** LoadOptions from the flags added by addFormatOptions and addKcoreOptions. */
export function loadOptionsFrom(opts: Opts): LoadOptions {
  const format = snakeValue(opts, 'format') ?? 'auto';
  if (!(DATA_FORMATS as readonly string[]).includes(format)) {
    throw new UserError(`--format: expected one of ${DATA_FORMATS.join(', ')}, got "${format}"`);
  }
  return {
    format: format as DataFormat,
    userCol: snakeValue(opts, 'user_col'),
    itemCol: snakeValue(opts, 'item_col'),
    timeCol: snakeValue(opts, 'time_col'),
    minUserCount: intFlag(opts, 'min_user_count'),
    minItemCount: intFlag(opts, 'min_item_count'),
    kcoreMode: kcoreModeFrom(opts),
  };
}

export function register(program: Command): void {
  const data = program.command('data').description('inspect and download datasets');

  const stats = data
    .command('stats')
    .description('users, items, actions, sequence lengths and density of a dataset (after the optional k-core)');
  addSnakeOption(stats, 'dataset', 'file', 'interaction file (default: the bundled Amazon Games dataset)');
  addFormatOptions(stats);
  addKcoreOptions(stats);
  stats.option('--json', 'print the statistics as JSON');
  stats.action(async (opts: Opts) => {
    const path = snakeValue(opts, 'dataset') ?? bundledDatasetPath();
    const stats = datasetStats(await loadDataset(path, loadOptionsFrom(opts)));
    process.stdout.write(opts.json ? `${JSON.stringify({ dataset: path, ...stats })}\n` : `dataset    ${path}\n${formatStats(stats)}\n`);
  });

  const fetch = data
    .command('fetch')
    .argument('<name>', `dataset: ${Object.keys(MOVIELENS).join(' | ')}`)
    .description(
      'download a MovieLens zip from GroupLens into the cache, verify its sha256, and convert the ratings to ' +
        'SASRec format with timestamps (<cache>/<name>.txt, "user item timestamp", dense ids, with ' +
        '<name>.txt.users.tsv / .items.tsv mapping dense to original ids). By default the 5-core one-pass filter ' +
        'of the SASRec/TiSASRec papers is applied; pass --min_user_count 0 --min_item_count 0 for all ratings. ' +
        'MovieLens terms forbid redistribution: the files stay in your cache.',
    );
  addSnakeOption(fetch, 'cache_dir', 'dir', `cache folder (default ${defaultCacheDir()})`);
  addSnakeOption(fetch, 'base_url', 'url', 'server folder holding <name>.zip (default $SEQREC_DATA_BASE_URL or the GroupLens server)');
  addSnakeOption(fetch, 'sha256', 'hex', 'expected sha256 of the zip (default: the official one)');
  addKcoreOptions(fetch, ' (default 5)');
  fetch.action(async (name: string, opts: Opts) => {
    if (!Object.hasOwn(MOVIELENS, name)) {
      throw new UserError(`data fetch: unknown dataset "${name}" (expected one of ${Object.keys(MOVIELENS).join(', ')})`);
    }
    const sha = snakeValue(opts, 'sha256');
    if (sha !== undefined && !/^[0-9a-fA-F]{64}$/.test(sha)) throw new UserError(`--sha256: expected 64 hex digits, got "${sha}"`);
    const minUserCount = intFlag(opts, 'min_user_count') ?? 5;
    const minItemCount = intFlag(opts, 'min_item_count') ?? 5;
    const res = await fetchMovieLens(name as MovieLensName, {
      cacheDir: snakeValue(opts, 'cache_dir'),
      baseUrl: snakeValue(opts, 'base_url'),
      sha256: sha,
      minUserCount,
      minItemCount,
      kcoreMode: kcoreModeFrom(opts),
      log: (m) => process.stderr.write(`${m}\n`),
    });
    const filter = minUserCount > 0 || minItemCount > 0 ? `${minUserCount}/${minItemCount}-core (${kcoreModeFrom(opts) ?? 'one-pass'})` : 'no filtering';
    process.stdout.write(
      `${res.outputPath}\n` +
        `  ${res.stats.users} users, ${res.stats.items} items, ${res.stats.actions} actions (${filter}); raw ratings: ${res.rawPath}\n` +
        `  other filters: seqrec convert --input ${res.rawPath} --output FILE --min_user_count N --min_item_count N\n`,
    );
  });
}
