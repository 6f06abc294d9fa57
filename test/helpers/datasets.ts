/** Small interaction files for CLI tests. */
import { writeFileSync } from 'node:fs';

export interface RingOptions {
  /** users u1 … uN (default 80) */
  users?: number;
  /** ring size: items with original ids 1000, 1010, … (default 30) */
  items?: number;
  /** interactions of user u (default 6 + u mod 7) */
  length?: (u: number) => number;
  /** add a timestamp column, 1_600_000_000 + 3600·t·(1 + u mod 3) for the t-th interaction (default off) */
  timed?: boolean;
}

/**
 * Writes a "ring" dataset to path: user u walks a ring of items starting at position 7u, one step per
 * interaction, so the next item is predictable (a learnable sequence). One `u<u> <item>[ <time>]`
 * line per interaction, users in order. Returns path.
 */
export function writeRingDataset(path: string, options: RingOptions = {}): string {
  const { users = 80, items = 30, length = (u: number) => 6 + (u % 7), timed = false } = options;
  const lines: string[] = [];
  for (let u = 1; u <= users; u++) {
    const len = length(u);
    for (let t = 0; t < len; t++) {
      const item = 1000 + 10 * ((u * 7 + t) % items);
      lines.push(timed ? `u${u} ${item} ${1_600_000_000 + 3600 * t * (1 + (u % 3))}` : `u${u} ${item}`);
    }
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}
