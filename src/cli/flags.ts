/**
 * Option groups (core/options.ts) as commander flags: `--snake_name <arg>` with a hidden
 * `--snake-name` alias; a boolean takes an optional value (a bare flag is true). An option that
 * several models declare (maxlen: sasrec and tisasrec) is one flag whose help gives each model's
 * default. The parsed values go back to the groups' parse(), which types and checks them.
 */
import { Option as Flag, type Command } from 'commander';
import type { Option, OptionGroup } from '../core/options.js';

/** A group with the name of the model that declares it (none for the command's own options). */
export interface LabelledGroup {
  readonly group: OptionGroup;
  readonly model?: string;
}

const shownDefault = (v: unknown): string => (Array.isArray(v) ? v.join(',') : String(v));

function helpOf(declared: ReadonlyArray<{ option: Option<unknown>; model?: string }>, modelCount: number): string {
  const [first] = declared;
  const models = declared.flatMap((d) => (d.model ? [d.model] : []));
  const listed = first.option.choices?.every((c) => first.option.help.includes(c)) ?? true;
  const choices = listed ? '' : ` (${first.option.choices!.join(' | ')})`;
  // a boolean's false is the flag's absence: not worth saying
  const defaults = declared.filter((d) => d.option.default !== undefined && d.option.default !== false);
  let dflt = '';
  if (defaults.length > 0) {
    const values = new Set(defaults.map((d) => shownDefault(d.option.default)));
    dflt =
      values.size === 1 && defaults.length === declared.length
        ? ` (default ${[...values][0]})`
        : ` (default: ${defaults.map((d) => `${d.model} ${shownDefault(d.option.default)}`).join(', ')})`;
  }
  const readBy = models.length > 0 && models.length < modelCount ? ` [${models.join(', ')}]` : '';
  // models that declare the option with their own meaning each get their sentence
  const helps = [...new Set(declared.map((d) => d.option.help))];
  const help =
    helps.length === 1
      ? first.option.help
      : declared
          .filter((d, i) => declared.findIndex((e) => e.option.help === d.option.help) === i)
          .map((d) => (d.model && !d.option.help.toLowerCase().startsWith(d.model) ? `${d.model}: ${d.option.help}` : d.option.help))
          .join('; ');
  return `${help}${choices}${dflt}${readBy}`;
}

/** Adds every option of the groups to `cmd`, each once, in the groups' order. */
export function addOptions(cmd: Command, groups: readonly LabelledGroup[]): Command {
  const byName = new Map<string, Array<{ option: Option<unknown>; model?: string }>>();
  for (const { group, model } of groups) {
    for (const [name, option] of Object.entries(group.options)) {
      const list = byName.get(name) ?? [];
      list.push({ option, ...(model ? { model } : {}) });
      byName.set(name, list);
    }
  }
  const modelCount = new Set(groups.flatMap((g) => (g.model ? [g.model] : []))).size;
  for (const [name, declared] of byName) {
    const { option } = declared[0];
    const value = option.kind === 'bool' ? '[bool]' : `<${option.arg}>`;
    const help = helpOf(declared, modelCount) + (option.kind === 'bool' ? ' (true|false; bare flag = true)' : '');
    cmd.addOption(new Flag(`--${name} ${value}`, help));
    if (name.includes('_')) {
      const alias = new Flag(`--${name.replace(/_/g, '-')} ${value}`).hideHelp();
      // commander reads `--no-x` as the negation of `--x`; here `--no-mhc` is only `--no_mhc` spelt with a dash
      alias.negate = false;
      cmd.addOption(alias);
    }
  }
  return cmd;
}

/** The command's own groups, unlabelled. */
export function commandGroups(...groups: OptionGroup[]): LabelledGroup[] {
  return groups.map((group) => ({ group }));
}
