import type { Command } from 'commander';
import { UserError } from '../core/errors.js';
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
  seeds: str({
    help: "train only these of the grid's seeds now, comma-separated (e.g. 1: one seed of every configuration first); the rest wait for a later pass",
    arg: 'list',
  }),
  only: str({
    help:
      'train only the runs these name now, comma-separated: a model, a config, a dataset, or several joined by / in that ' +
      'order (e.g. neumf, sasrec/loss=ce, Games/neumf, Beauty/dropout_rate=0.5); the rest wait for a later pass',
    arg: 'list',
  }),
  report_only: bool({
    help: 'train nothing: write results.csv, results.md, report.html and the figures over the runs finished so far (also beside a running grid)',
    default: false,
  }),
});

/** "1,2" → [1, 2]; anything else is a UserError naming the flag. */
function seedList(text: string): number[] {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.some((p) => !/^\d+$/.test(p))) throw new UserError(`--seeds: expected seeds separated by commas (e.g. 1,2), got "${text}"`);
  return parts.map(Number);
}

/** "neumf, sasrec/loss=ce" → ["neumf", "sasrec/loss=ce"]; an empty selector is a UserError naming the flag. */
function selectorList(text: string): string[] {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.some((p) => p === '' || p.split('/').some((q) => q === '') || p.split('/').length > 3)) {
    throw new UserError(
      `--only: expected runs separated by commas, each a model, config or dataset or up to three of them joined by / (e.g. Games/neumf), got "${text}"`,
    );
  }
  return parts;
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
  addOptions(cmd, commandGroups(experimentOptions));
  cmd.action(async (gridPath: string, opts: Record<string, unknown>) => {
    const { out, join, seeds, only, reportOnly } = experimentOptions.parse(opts);
    if (reportOnly && (join || seeds !== undefined || only !== undefined)) {
      throw new UserError('--report_only trains nothing: it takes none of --join, --seeds, --only');
    }
    const summary = await runExperiments(gridPath, {
      ...(out !== undefined ? { out } : {}),
      join,
      reportOnly,
      ...(seeds !== undefined ? { seeds: seedList(seeds) } : {}),
      ...(only !== undefined ? { only: selectorList(only) } : {}),
    });
    const left = summary.elsewhere > 0 ? `, ${summary.elsewhere} left to other processes` : '';
    const later = reportOnly ? `, ${summary.deferred} not finished` : summary.deferred > 0 ? `, ${summary.deferred} others left for later` : '';
    process.stdout.write(`${summary.ran} runs trained, ${summary.skipped} skipped${left}${later}; results in ${summary.out}\n`);
  });
}
