import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../core/errors.js';
import { asFlag, bool, defineOptions, str } from '../core/options.js';
import { datasetOptions, loadSplit, splitOptions } from '../data/options.js';
import { evalOptions, seedOptions } from '../eval/options.js';
import { formatRanks, type RankList } from '../eval/ranks.js';
import { formatResultsTable } from '../eval/results.js';
import { RANKS_NEED_ONE_ITEM } from '../eval/run.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { checkOutputPath } from '../io/paths.js';
import { getModel } from '../models/registry.js';
import { evaluateModel } from '../train/evaluate.js';
import { checkColdStart } from '../train/request.js';
import { foreignModelOptions, loadModelFile, modelFileOptions } from '../train/model-file.js';
import { addOptions, commandGroups } from './flags.js';
import { evalProgressBar } from './progress.js';

const evalCommandOptions = defineOptions({
  output: str({ help: 'also write the results as JSON to this file (atomically)', arg: 'file' }),
  json: bool({ help: 'print the results as JSON instead of a table', default: false }),
  ranks_out: str({
    help:
      "also write each evaluated user's 0-based rank of the held-out item (TSV: split, protocol, user, item, rank; one-item protocols: " +
      'leave-one-out, --cold) for paired comparisons (seqrec compare)',
    arg: 'file',
  }),
});

export function register(program: Command): void {
  const cmd = program
    .command('eval')
    .description(
      'evaluate a saved model on --dataset (leave-one-out valid and test) with the sampled and/or full-ranking ' +
        'protocol; prints a results table (or JSON with --json)',
    );
  addOptions(cmd, commandGroups(modelFileOptions, foreignModelOptions, datasetOptions, splitOptions, evalOptions, seedOptions, evalCommandOptions));
  cmd.action(async (opts: Record<string, unknown>) => {
    const file = modelFileOptions.parse(opts);
    if (file.stateDictPath === undefined) throw new UserError('eval: --state_dict_path is required');
    const { output, json, ranksOut } = evalCommandOptions.parse(opts);
    const dataset = datasetOptions.with(splitOptions).parse(opts);
    const evaluation = evalOptions.parse(opts);
    const { seed } = seedOptions.parse(opts);
    const inputs = [
      ['--state_dict_path', file.stateDictPath],
      ['--dataset', dataset.dataset],
    ] as const;
    if (output !== undefined) checkOutputPath('output', output, inputs);
    if (ranksOut !== undefined) {
      checkOutputPath('ranks_out', ranksOut, [...inputs, ['--output', output]]);
      if (dataset.split === 'random') throw new UserError(`--ranks_out: ${RANKS_NEED_ONE_ITEM}`);
    }
    const { model } = await loadModelFile(file.stateDictPath, file.model, foreignModelOptions.parse(opts));
    try {
      // the model file carries its features; whether it was trained without the held-out ones is the caller's --seed and --cold
      const spec = getModel(model.name);
      if (spec) checkColdStart(spec, dataset.cold, { users: true, items: true }, asFlag);
      const loaded = await loadSplit(dataset, seed);
      const ranks: RankList[] | undefined = ranksOut !== undefined ? [] : undefined;
      const results = await evaluateModel(model, loaded, evaluation, seed, {
        command: 'eval',
        modelPath: resolve(file.stateDictPath),
        progress: evalProgressBar,
        ranksOut: ranks,
      });
      // the files first: they are complete even if standard output cannot be written
      if (output !== undefined) await writeJsonAtomic(output, results);
      if (ranksOut !== undefined && ranks) await writeFileAtomic(ranksOut, formatRanks(ranks, loaded.data));
      process.stdout.write(json ? `${JSON.stringify(results, null, 2)}\n` : `${formatResultsTable(results.results)}\n`);
    } finally {
      model.dispose();
    }
  });
}
