import type { Command } from 'commander';
import { formatResultsTable } from '../eval/results.js';
import { allModels } from '../models/registry.js';
import { parseTrainRequest, TRAIN_COMMAND_GROUPS } from '../train/request.js';
import { runTraining } from '../train/run.js';
import { addOptions, type LabelledGroup } from './flags.js';
import { evalProgressBar, trainingBar } from './progress.js';

/** The train command's option groups, each model's labelled with its name (for --help). */
export function trainFlagGroups(): LabelledGroup[] {
  return [...TRAIN_COMMAND_GROUPS.map((group) => ({ group })), ...allModels().map((m) => ({ group: m.options, model: m.name }))];
}

export function register(program: Command): void {
  const cmd = program
    .command('train')
    .description(
      'train a model on --dataset (leave-one-out split), evaluate it on valid and test, print a results table, ' +
        'and write the model, results.json, log.jsonl (one line per epoch), config.json, summary.txt and ' +
        'last.safetensors (resume state) into --train_dir',
    );
  addOptions(cmd, trainFlagGroups());
  cmd.action(async (opts: Record<string, unknown>) => {
    const request = parseTrainRequest(opts);
    const bar = trainingBar();
    const run = await runTraining(request, { log: (l) => bar.log(l), progress: bar.update, evalProgress: evalProgressBar }).finally(() => bar.stop());
    // stdout last: every file is on disk even if standard output cannot be written
    process.stdout.write(`${formatResultsTable(run.results.results)}\n`);
  });
}
