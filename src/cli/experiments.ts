import type { Command } from 'commander';
import { defineOptions, str } from '../core/options.js';
import { runExperiments } from '../experiments/run.js';
import { addOptions, commandGroups } from './flags.js';

const experimentOptions = defineOptions({
  out: str({ help: 'output folder (default: the grid\'s "out", else <grid name>-results next to the grid file)', arg: 'dir' }),
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
    const { out } = experimentOptions.parse(opts);
    const summary = await runExperiments(gridPath, { ...(out !== undefined ? { out } : {}) });
    process.stdout.write(`${summary.ran} runs trained, ${summary.skipped} skipped; results in ${summary.out}\n`);
  });
}
