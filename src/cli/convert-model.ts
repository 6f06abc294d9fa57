import type { Command } from 'commander';
import { UserError } from '../core/errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { checkOutputPath } from '../io/paths.js';
import { foreignModelOptions, loadModelFile, modelFileOptions } from '../train/model-file.js';
import { addOptions, commandGroups } from './flags.js';

const modelName = modelFileOptions.pick('model');

/** The settings of a model file's `config` worth a line: its sizes. */
function describeSizes(settings: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [key, label] of [
    ['item_num', 'items'],
    ['maxlen', 'maxlen'],
    ['hidden_units', 'd'],
    ['num_blocks', 'blocks'],
    ['num_heads', 'heads'],
    ['time_span', 'time_span'],
  ] as const) {
    if (settings[key] !== undefined)
      parts.push(label === 'maxlen' || label === 'd' || label === 'time_span' ? `${label} ${settings[key]}` : `${settings[key]} ${label}`);
  }
  if (settings.norm_first !== undefined) parts.push(settings.norm_first ? 'pre-LN' : 'post-LN');
  if (settings.mhc) parts.push(`mHC ${settings.mhc_expansion_rate} streams`);
  return parts.join(', ');
}

export function register(program: Command): void {
  const cmd = program
    .command('convert-model')
    .argument(
      '<input>',
      'a PyTorch state dict (.pth from torch.save(model.state_dict(), path), or one converted to safetensors), or a seqrec model file',
    )
    .argument('<output>', 'the seqrec model file to write (safetensors, written atomically)')
    .description(
      "convert a model file to a seqrec model file: the same tensors under the same (the reference's) names, plus the settings a " +
        'PyTorch state dict does not record (from --num_heads, --norm_first, --mhc_sinkhorn_iter, as the reference takes them from its ' +
        'flags) and the item ids 1..N. The .pth is read without running its pickle: anything but a state dict is refused. PyTorch ' +
        'reads the output back with safetensors.torch.load_file',
    );
  addOptions(cmd, commandGroups(modelName, foreignModelOptions));
  cmd.action(async (input: string, output: string, opts: Record<string, unknown>) => {
    const { model: name } = modelName.parse(opts);
    const overrides = foreignModelOptions.parse(opts);
    if (/\.pth?$/i.test(output))
      throw new UserError(`convert-model: ${output}: seqrec writes safetensors model files; name the output *.safetensors`);
    checkOutputPath('output', output, [['input', input]]);
    const { model } = await loadModelFile(input, name, overrides, 'convert-model');
    try {
      await writeFileAtomic(output, model.serialize());
      const settings = model.describe();
      process.stderr.write(`wrote ${output}: ${model.name} (${describeSizes(settings)})\n`);
    } finally {
      model.dispose();
    }
  });
}
