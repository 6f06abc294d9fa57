import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { UserError } from '../core/errors.js';
import { bool, choice, defineOptions, str } from '../core/options.js';
import { writeFileAtomic } from '../io/atomic.js';
import { checkOutputPath } from '../io/paths.js';
import { onnxModelOf } from '../models/onnx-export.js';
import { foreignModelOptions, loadModelFile, modelFileOptions } from '../train/model-file.js';
import { addOptions, commandGroups } from './flags.js';

const exportOptions = defineOptions({
  format: choice(['onnx'] as const, { help: 'the file format', default: 'onnx' }),
  output: str({ help: 'the file to write (required; written atomically)', arg: 'file' }),
  graph: choice(['scores', 'hidden'] as const, {
    help: 'the graph\'s output: "scores" over all item ids, or "hidden", the last position\'s final features (for an ANN index)',
    default: 'scores',
  }),
  overwrite: bool({ help: 'replace --output when it exists', default: false }),
});

export function register(program: Command): void {
  const cmd = program
    .command('export')
    .description(
      'export a model file as an inference graph for other runtimes: --format onnx (SASRec, TiSASRec) writes an ONNX model ' +
        '(opset 17) taking left-padded histories int64 [batch, maxlen] (TiSASRec: and their raw int64 times) to scores ' +
        '[batch, item_num + 1] or hidden states; docs/onnx.md',
    );
  addOptions(cmd, commandGroups(modelFileOptions, foreignModelOptions, exportOptions));
  cmd.action(async (opts: Record<string, unknown>) => {
    const file = modelFileOptions.parse(opts);
    const overrides = foreignModelOptions.parse(opts);
    const o = exportOptions.parse(opts);
    if (!file.stateDictPath) throw new UserError('export: --state_dict_path is required');
    if (!o.output) throw new UserError('export: --output is required');
    checkOutputPath('output', o.output, [['state_dict_path', file.stateDictPath]]);
    if (existsSync(o.output) && !o.overwrite) throw new UserError(`--output ${o.output} exists: pass --overwrite to replace it`);
    const { model } = await loadModelFile(file.stateDictPath, file.model, overrides);
    try {
      const bytes = onnxModelOf(model, o.graph);
      await writeFileAtomic(o.output, bytes);
      process.stderr.write(`wrote ${o.output}: ${model.name} as ONNX (${o.graph}, ${bytes.length} bytes)\n`);
    } finally {
      model.dispose();
    }
  });
}
