import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UserError } from './errors.js';
import { checkOutputPath } from './output-paths.js';
import { addSnakeOption, snakeValue } from './data.js';
import { addDatasetOptions, addEvalOptions, addModelOption, evalFlagsFrom, loadSplitFrom, type Opts } from './options.js';
import {
  VERSION,
  checkSameItems,
  datasetHeader,
  evaluationHeader,
  loadModelFile,
  runEvaluations,
} from './train.js';
import { formatResultsTable, writeJsonAtomic, type RunResults } from '../train/results.js';

export function register(program: Command): void {
  const cmd = program
    .command('eval')
    .description(
      'evaluate a saved model on --dataset (leave-one-out valid and test) with the sampled and/or full-ranking ' +
        'protocol; prints a results table (or JSON with --json)',
    );
  addSnakeOption(cmd, 'state_dict_path', 'file', 'the model file (required)');
  addModelOption(cmd, false);
  addDatasetOptions(cmd);
  addEvalOptions(cmd);
  addSnakeOption(cmd, 'output', 'file', 'also write the results as JSON to this file (atomically)');
  cmd.option('--json', 'print the results as JSON instead of a table');
  cmd.action(async (opts: Opts) => {
    const statePath = snakeValue(opts, 'state_dict_path');
    if (!statePath) throw new UserError('eval: --state_dict_path is required');
    const flags = evalFlagsFrom(opts);
    const output = snakeValue(opts, 'output');
    if (output !== undefined) checkOutputPath('output', output, [['--state_dict_path', statePath], ['--dataset', snakeValue(opts, 'dataset')]]);
    const { spec, model } = await loadModelFile(statePath, snakeValue(opts, 'model'));
    const loaded = await loadSplitFrom(opts);
    checkSameItems(model, loaded);
    const rows = await runEvaluations(model.scorer, loaded.split, flags);
    const results: RunResults = {
      seqrec: VERSION,
      command: 'eval',
      model: spec.name,
      modelSettings: model.describe(),
      dataset: datasetHeader(loaded),
      evaluation: evaluationHeader(loaded, flags),
      results: rows,
      modelPath: resolve(statePath),
      createdAt: new Date().toISOString(),
    };
    // the file first: it is complete even if standard output cannot be written
    if (output) await writeJsonAtomic(output, results);
    process.stdout.write(opts.json ? `${JSON.stringify(results, null, 2)}\n` : `${formatResultsTable(rows)}\n`);
  });
}
