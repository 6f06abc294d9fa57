import type { Command } from 'commander';
import { addSnakeOption, snakeValue } from './data.js';
import type { Opts } from './options.js';
import { runTrain } from './train.js';
import { runExperiments } from '../train/experiments.js';

export function register(program: Command): void {
  const cmd = program
    .command('experiments')
    .argument('<grid>', 'grid file (YAML or JSON): datasets, models, flags, grid, seeds, out')
    .description(
      'train every dataset × model × flag combination × seed of a grid file, one run after another (the same code as ' +
        '`seqrec train`); runs with a results.json are skipped and interrupted ones resumed; writes results.csv, ' +
        'results.md (mean ± std over seeds) and report.html (training curves, works offline)',
    );
  addSnakeOption(cmd, 'out', 'dir', 'output folder (default: the grid\'s "out", else <grid name>-results next to the grid file)');
  cmd.action(async (gridPath: string, opts: Opts) => {
    const summary = await runExperiments(gridPath, (o, io) => runTrain(o, io), { out: snakeValue(opts, 'out') });
    process.stdout.write(`${summary.ran} runs trained, ${summary.skipped} skipped; results in ${summary.out}\n`);
  });
}
