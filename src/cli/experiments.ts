import type { Command } from 'commander';
import { bool, defineOptions, str } from '../core/options.js';
import { runExperiments } from '../experiments/run.js';
import { addOptions, commandGroups } from './flags.js';

const experimentOptions = defineOptions({
  out: str({ help: 'output folder (default: the grid\'s "out", else <grid name>-results next to the grid file)', arg: 'dir' }),
  join: bool({
    help:
      'work beside an `experiments` already running this grid: train only the runs no live process holds ' +
      '(start one per free core to share a grid; the last to end writes the complete reports)',
    default: false,
  }),
});

export function register(program: Command): void {
  const cmd = program
    .command('experiments')
    .argument('<grid>', 'grid file (YAML or JSON): datasets, models, flags, grid, seeds, out')
    .description(
      'train every dataset × model × flag combination × seed of a grid file, one run after another (the same code as ' +
        '`seqrec train`); runs with a results.json are skipped and interrupted ones resumed; writes results.csv, ' +
        'results.md (mean ± std over seeds) and report.html (training curves, works offline)',
    );
  addOptions(cmd, commandGroups(experimentOptions));
  cmd.action(async (gridPath: string, opts: Record<string, unknown>) => {
    const { out, join } = experimentOptions.parse(opts);
    const summary = await runExperiments(gridPath, { ...(out !== undefined ? { out } : {}), join });
    const left = summary.elsewhere > 0 ? `, ${summary.elsewhere} left to other processes` : '';
    process.stdout.write(`${summary.ran} runs trained, ${summary.skipped} skipped${left}; results in ${summary.out}\n`);
  });
}
