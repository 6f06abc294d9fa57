import { readLines } from './lines.js';
import { detectFromHead, parseInteractionLines, type ReadOptions } from './parse.js';
import type { ConcreteFormat } from './formats.js';
import type { Interactions } from './types.js';

export { DATA_FORMATS, type DataFormat } from './formats.js';
export type { ReadOptions } from './parse.js';

/**
 * Reads a log of interactions, streaming line by line (plain or gzipped, detected by content), by
 * the parsing rules of parse.ts.
 */
export async function readInteractions(path: string, options: ReadOptions = {}): Promise<Interactions> {
  const lines = readLines(path);
  try {
    return await parseInteractionLines(path, lines, options);
  } finally {
    await lines.return(undefined); // closes the file when a line of the head was refused
  }
}

/** The format `--format auto` picks for a file; reads only the lines detection looks at. */
export async function detectFileFormat(path: string): Promise<ConcreteFormat> {
  const lines = readLines(path);
  try {
    return (await detectFromHead(path, lines)).concrete;
  } finally {
    await lines.return(undefined);
  }
}
