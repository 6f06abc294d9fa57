/** Layer sizes given as a flag: "64,32,16" → [64, 32, 16]. */
import { UserError } from '../../core/errors.js';

/** The comma-separated positive integers of `text` ("" → none), or undefined when any is not one. */
export function parseSizes(text: string): number[] | undefined {
  if (text.trim() === '') return [];
  const sizes = text.split(',').map((x) => Number(x.trim()));
  return sizes.some((n) => !(Number.isInteger(n) && n >= 1)) ? undefined : sizes;
}

/** The sizes of `--flag text` that pass `valid`; else a UserError naming the flag and what was `expected`. */
export function sizesOf(flag: string, text: string, expected: string, valid: (sizes: number[]) => boolean = () => true): number[] {
  const sizes = parseSizes(text);
  if (!sizes || !valid(sizes)) throw new UserError(`--${flag} ${JSON.stringify(text)}: ${expected}`);
  return sizes;
}
