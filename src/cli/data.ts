import type { Command } from 'commander';
import { quote, UserError } from '../core/errors.js';
import { bool, defineOptions, num, str } from '../core/options.js';
import { datasetStats, defaultCacheDir, fetchMovieLens, formatStats, MOVIELENS, type MovieLensName } from '../data/index.js';
import { describeFeatures } from '../data/features.js';
import { datasetOptions, featureOptions, loadDatasetFrom, loadFeatures } from '../data/options.js';
import { addOptions, commandGroups } from './flags.js';

const jsonOption = defineOptions({ json: bool({ help: 'print the statistics as JSON', default: false }) });

const fetchOptions = defineOptions({
  cache_dir: str({ help: `cache folder (default ${defaultCacheDir()})`, arg: 'dir' }),
  base_url: str({ help: 'server folder holding <name>.zip (default $SEQREC_DATA_BASE_URL or the GroupLens server)', arg: 'url' }),
  sha256: str({ help: 'expected sha256 of the zip (default: the official one)', arg: 'hex' }),
  timeout: num({ help: 'seconds to wait for the server to answer, and for each next piece of data, before giving up', default: 30, above: 0 }),
});

/** The k-core filter of `data fetch`: 5/5 one-pass by default, as the SASRec/TiSASRec papers. */
const fetchFilterOptions = datasetOptions.pick('min_user_count', 'min_item_count', 'kcore').withDefaults({ minUserCount: 5, minItemCount: 5 });

export function register(program: Command): void {
  const data = program.command('data').description('inspect and download datasets');

  const stats = data
    .command('stats')
    .description('users, items, actions, sequence lengths and density of a dataset (after the optional k-core), and its side features');
  addOptions(stats, commandGroups(datasetOptions, featureOptions, jsonOption));
  stats.action(async (opts: Record<string, unknown>) => {
    const { json } = jsonOption.parse(opts);
    const featureConfig = featureOptions.parse(opts);
    const { path, data: interactions } = await loadDatasetFrom(datasetOptions.parse(opts));
    const s = datasetStats(interactions);
    const features = await loadFeatures(featureConfig, interactions);
    if (json) {
      const summary = (m: (typeof features)['users']) =>
        m && {
          source: m.source,
          features: m.names.length,
          covered: m.covered,
          unmatched: m.unmatched,
          fields: m.fields.map(({ name, kind, size }) => ({ name, kind, size })),
        };
      process.stdout.write(
        `${JSON.stringify({ dataset: path, ...s, userFeatures: summary(features.users), itemFeatures: summary(features.items) })}\n`,
      );
      return;
    }
    const lines = [`dataset    ${path}`, formatStats(s)];
    if (features.users) lines.push(describeFeatures(features.users, 'users', s.users));
    if (features.items) lines.push(describeFeatures(features.items, 'items', s.items));
    process.stdout.write(`${lines.join('\n')}\n`);
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
  addOptions(fetch, commandGroups(fetchOptions, fetchFilterOptions));
  fetch.action(async (name: string, opts: Record<string, unknown>) => {
    if (!Object.hasOwn(MOVIELENS, name)) {
      throw new UserError(`data fetch: unknown dataset ${quote(name)} (expected one of ${Object.keys(MOVIELENS).join(', ')})`);
    }
    const o = fetchOptions.parse(opts);
    const filter = fetchFilterOptions.parse(opts);
    if (o.sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(o.sha256))
      throw new UserError(`--sha256: expected 64 hex digits, got ${quote(o.sha256)}`);
    const minUserCount = filter.minUserCount ?? 5;
    const minItemCount = filter.minItemCount ?? 5;
    const res = await fetchMovieLens(name as MovieLensName, {
      cacheDir: o.cacheDir,
      baseUrl: o.baseUrl,
      sha256: o.sha256,
      minUserCount,
      minItemCount,
      kcoreMode: filter.kcore,
      timeoutSeconds: o.timeout,
      log: (m) => process.stderr.write(`${m}\n`),
    });
    const described = minUserCount > 0 || minItemCount > 0 ? `${minUserCount}/${minItemCount}-core (${filter.kcore ?? 'one-pass'})` : 'no filtering';
    process.stdout.write(
      `${res.outputPath}\n` +
        `  ${res.stats.users} users, ${res.stats.items} items, ${res.stats.actions} actions (${described}); raw ratings: ${res.rawPath}\n` +
        `  other filters: seqrec convert --input ${res.rawPath} --output FILE --min_user_count N --min_item_count N\n`,
    );
  });
}
