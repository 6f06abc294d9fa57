import { Command } from 'commander';
import { addSnakeOption, snakeValue } from './data.js';
import type { Opts } from './options.js';
import { register as registerTrain, runTrain } from './train.js';
import { runExperiments } from '../train/experiments.js';

/**
 * The flag names `seqrec train` accepts (snake_case and their kebab-case aliases, without the dashes),
 * read from the train command's own option declarations so that a grid file accepts exactly those.
 */
export function trainFlagNames(): string[] {
  const program = new Command();
  registerTrain(program);
  const train = program.commands.find((c) => c.name() === 'train');
  if (!train) throw new Error('the train command is not registered');
  return train.options.flatMap((o) => (o.long ? [o.long.replace(/^--/, '')] : []));
}

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
    const summary = await runExperiments(gridPath, (o, io) => runTrain(o, io), {
      out: snakeValue(opts, 'out'),
      trainFlags: trainFlagNames(),
    });
    process.stdout.write(`${summary.ran} runs trained, ${summary.skipped} skipped; results in ${summary.out}\n`);
  });
}
