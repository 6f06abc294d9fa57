/**
 * Reading an interaction file that is already in memory as text (a file dropped on a page): the
 * same parsing rules as the Node reader (parse.ts), with no Node built-in.
 */
import { parseInteractionLines, type ReadOptions } from './parse.js';
import type { Interactions } from './types.js';

/** The lines of `text` as Node's readline splits them (\n, \r\n or \r), numbered from 1. */
async function* numberedLines(text: string): AsyncGenerator<[number, string]> {
  const lines = text.split(/\r\n|\n|\r/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (let k = 0; k < lines.length; k++) yield [k + 1, lines[k]];
}

/** The interactions of a file's text; `name` is its file name (format detection and error messages). */
export function parseInteractionText(text: string, name: string, options: ReadOptions = {}): Promise<Interactions> {
  return parseInteractionLines(name, numberedLines(text), options);
}
