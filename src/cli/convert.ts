import type { Command } from 'commander';
import { UserError } from '../core/errors.js';
import { bool, choice, defineOptions, str } from '../core/options.js';
import { datasetStats, loadDataset, writeIdMaps, writeSasrecFile } from '../data/index.js';
import { datasetOptions, loadOptionsOf } from '../data/options.js';
import { idMapPaths } from '../data/writer.js';
import { checkOutputPath } from '../io/paths.js';
import { addOptions, commandGroups } from './flags.js';

const convertOptions = defineOptions({
  input: str({ help: 'interaction log (SASRec txt, MovieLens ratings.dat / u.data, CSV, TSV, JSONL; plain or .gz)', arg: 'file' }),
  output: str({ help: 'SASRec-format file to write (written atomically)', arg: 'file' }),
  no_times: bool({ help: 'drop timestamps from the output', default: false }),
  sep: choice(['space', 'tab'] as const, { help: 'field separator of the output (TiSASRec.pytorch reads tab)', default: 'space', arg: 'space|tab' }),
});

/** How the input is read and filtered: everything of --dataset's options but the path. */
const readingOptions = datasetOptions.pick('format', 'user_col', 'item_col', 'time_col', 'min_user_count', 'min_item_count', 'kcore');

export function register(program: Command): void {
  const cmd = program
    .command('convert')
    .description(
      'convert an interaction log to SASRec format: "user item" or "user item timestamp" lines (timestamps kept ' +
        'when the input has them), users ascending, each user in time order. Ids in the output are dense (1..N, in ' +
        'ascending order of the original ids); OUTPUT.users.tsv and OUTPUT.items.tsv map them back ("dense<TAB>original").',
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
    const withTimes = data.times !== undefined && !o.noTimes;
    await writeSasrecFile(data, o.output, { withTimes, separator: o.sep === 'tab' ? '\t' : ' ' });
    await writeIdMaps(data, o.output);
    const s = datasetStats(data);
    process.stderr.write(
      `wrote ${o.output}: ${s.users} users, ${s.items} items, ${s.actions} actions${withTimes ? ', with timestamps' : ''}; id maps ${maps.users}, ${maps.items}\n`,
    );
  });
}
