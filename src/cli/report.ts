import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../core/errors.js';
import { defineOptions, str } from '../core/options.js';
import { type LogLine, type ResultRow, runReportHtml } from '../experiments/run-report.js';
import { readRunAttention } from '../experiments/run-attention.js';
import { writeFileAtomic } from '../io/atomic.js';
import { addOptions, commandGroups } from './flags.js';

const reportOptions = defineOptions({
  output: str({ help: 'the HTML file to write (default: RUN_DIR/report.html)', arg: 'file' }),
});

function parseJson(text: string, path: string, line?: number): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UserError(`${path}${line === undefined ? '' : `:${line}`}: not valid JSON`);
  }
}

async function readLog(path: string): Promise<LogLine[]> {
  if (!existsSync(path)) return [];
  const lines = (await readFile(path, 'utf8')).split('\n');
  return lines.flatMap((l, i) => (l.trim() === '' ? [] : [parseJson(l, path, i + 1) as LogLine]));
}

export function register(program: Command): void {
  const cmd = program
    .command('report')
    .argument('<run_dir>', 'a training run directory')
    .description(
      'one self-contained offline HTML page for a run: training curves (log.jsonl), results table (results.json) and, ' +
        'when present, the attention readings and heatmaps of `seqrec explain --output RUN_DIR/explain.json --svg_dir RUN_DIR/attention`',
    );
  addOptions(cmd, commandGroups(reportOptions));
  cmd.action(async (runDir: string, opts: Record<string, unknown>) => {
    const { output } = reportOptions.parse(opts);
    if (!existsSync(runDir)) throw new UserError(`report: ${runDir}: no such run directory`);
    const resultsPath = join(runDir, 'results.json');
    const results = existsSync(resultsPath)
      ? (((parseJson(await readFile(resultsPath, 'utf8'), resultsPath) as { results?: ResultRow[] }).results ?? []) as ResultRow[])
      : [];
    const attention = readRunAttention(runDir);
    const html = runReportHtml({
      title: `seqrec run ${basename(resolve(runDir))}`,
      log: await readLog(join(runDir, 'log.jsonl')),
      results,
      ...(attention ? { attention } : {}),
    });
    const path = output ?? join(runDir, 'report.html');
    await writeFileAtomic(path, html);
    process.stdout.write(`${path}\n`);
  });
}
