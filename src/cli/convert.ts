import type { Command } from 'commander';
import { UserError } from '../core/errors.js';
import { bool, choice, defineOptions, str } from '../core/options.js';
import { datasetStats, detectFileFormat, loadDataset } from '../data/index.js';
import { datasetOptions, loadOptionsOf } from '../data/options.js';
import { idMapPaths, writeDatasetSet } from '../data/writer.js';
import { checkOutputPath } from '../io/paths.js';
import { addOptions, commandGroups } from './flags.js';

const convertOptions = defineOptions({
  input: str({
    help: 'interaction log (SASRec txt, one sequence per line, MovieLens ratings.dat / u.data, CSV, TSV, JSONL; plain or .gz)',
    arg: 'file',
  }),
  output: str({ help: 'file to write, in the --layout (written atomically)', arg: 'file' }),
  layout: choice(['sasrec', 'sequences'] as const, {
    help: 'sasrec: one "user item [timestamp]" line per interaction; sequences: one "user item1 item2 …" line per user, no timestamps (S3-Rec, ICLRec, DuoRec, FMLP-Rec, BSARec)',
    default: 'sasrec',
    arg: 'layout',
  }),
  no_times: bool({ help: 'drop timestamps from the output (the sequences layout never has them)', default: false }),
  sep: choice(['space', 'tab'] as const, { help: 'field separator of the output (TiSASRec.pytorch reads tab)', default: 'space', arg: 'space|tab' }),
});

/** How the input is read and filtered: everything of --dataset's options but the path. */
const readingOptions = datasetOptions.pick('format', 'user_col', 'item_col', 'time_col', 'min_user_count', 'min_item_count', 'kcore');

export function register(program: Command): void {
  const cmd = program
    .command('convert')
    .description(
      'convert an interaction log to SASRec format, "user item" or "user item timestamp" lines (timestamps kept ' +
        'when the input has them), or with --layout sequences to one "user item1 item2 …" line per user; users ' +
        'ascending, each user in time order. Ids in the output are dense (1..N, in ascending order of the original ' +
        'ids); OUTPUT.users.tsv and OUTPUT.items.tsv map them back ("dense<TAB>original"). --format auto (the default) ' +
        'picks the input format by file name, else from its first 1,000 lines: a sequences file is one where no user ' +
        'starts two lines and a line has more than 4 fields or the lines differ in length (README, Data).',
    );
  addOptions(cmd, commandGroups(convertOptions, readingOptions));
  cmd.action(async (opts: Record<string, unknown>) => {
    const o = convertOptions.parse(opts);
    const reading = readingOptions.parse(opts);
    if (o.input === undefined) throw new UserError('convert: --input is required');
    if (o.output === undefined) throw new UserError('convert: --output is required');
    // every file convert writes, checked before anything is read or written
    const maps = idMapPaths(o.output);
    for (const path of [o.output, maps.users, maps.items]) checkOutputPath('output', path, [['--input', o.input]]);
    const data = await loadDataset(o.input, loadOptionsOf(reading));
    const separator = o.sep === 'tab' ? '\t' : ' ';
    const withTimes = o.layout === 'sasrec' && data.times !== undefined && !o.noTimes;
    // the data file and its id maps are one set: published together or not at all
    await writeDatasetSet(data, o.output, { layout: o.layout, withTimes, separator });
    const s = datasetStats(data);
    const what =
      o.layout === 'sequences'
        ? `, one line per user${data.times && !o.noTimes ? ' (timestamps dropped: the sequences layout has none)' : ''}`
        : withTimes
          ? ', with timestamps'
          : '';
    process.stderr.write(
      `wrote ${o.output}: ${s.users} users, ${s.items} items, ${s.actions} actions${what}; id maps ${maps.users}, ${maps.items}\n`,
    );
    // reading the output back with --format auto should give the layout; say so when its head is ambiguous
    const detected = await detectFileFormat(o.output);
    if (detected !== o.layout) {
      process.stderr.write(`note: --format auto reads ${o.output} as ${detected} (README, Data: detection); read it with --format ${o.layout}\n`);
    }
  });
}
