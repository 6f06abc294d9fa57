import type { Command } from 'commander';
import { UserError } from './errors.js';
import { addFormatOptions, addKcoreOptions, addSnakeOption, loadOptionsFrom, snakeValue } from './data.js';
import { datasetStats, loadDataset, writeIdMaps, writeSasrecFile } from '../data/index.js';
import { idMapPaths } from '../data/writer.js';
import { checkOutputPath } from './output-paths.js';

export function register(program: Command): void {
  const cmd = program
    .command('convert')
    .description(
      'convert an interaction log to SASRec format: "user item" or "user item timestamp" lines (timestamps kept ' +
        'when the input has them), users ascending, each user in time order. Ids in the output are dense (1..N, in ' +
        'ascending order of the original ids); OUTPUT.users.tsv and OUTPUT.items.tsv map them back ("dense<TAB>original").',
    );
  addSnakeOption(cmd, 'input', 'file', 'interaction log (SASRec txt, MovieLens ratings.dat / u.data, CSV, TSV, JSONL; plain or .gz)');
  addSnakeOption(cmd, 'output', 'file', 'SASRec-format file to write (written atomically)');
  addFormatOptions(cmd);
  addKcoreOptions(cmd);
  cmd.option('--no_times', 'drop timestamps from the output');
  addSnakeOption(cmd, 'sep', 'space|tab', 'field separator of the output (default space; TiSASRec.pytorch reads tab)');
  cmd.action(async (opts: Record<string, unknown>) => {
    const input = snakeValue(opts, 'input');
    const output = snakeValue(opts, 'output');
    if (!input) throw new UserError('convert: --input is required');
    if (!output) throw new UserError('convert: --output is required');
    const sep = snakeValue(opts, 'sep') ?? 'space';
    if (sep !== 'space' && sep !== 'tab') throw new UserError(`--sep: expected space or tab, got "${sep}"`);
    // every file convert writes, checked before anything is read or written
    const maps = idMapPaths(output);
    for (const [flag, path] of [['output', output], ['output', maps.users], ['output', maps.items]] as const) {
      checkOutputPath(flag, path, [['--input', input]]);
    }
    const data = await loadDataset(input, loadOptionsFrom(opts));
    const withTimes = data.times !== undefined && opts.no_times !== true;
    await writeSasrecFile(data, output, { withTimes, separator: sep === 'tab' ? '\t' : ' ' });
    await writeIdMaps(data, output);
    const s = datasetStats(data);
    process.stderr.write(
      `wrote ${output}: ${s.users} users, ${s.items} items, ${s.actions} actions${withTimes ? ', with timestamps' : ''}; id maps ${maps.users}, ${maps.items}\n`,
    );
  });
}
