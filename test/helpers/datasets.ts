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

/**
 * A five-user log with sparse ids, small enough to compute PopRec's ranks by hand (test/cli-pop.test.ts).
 * Dense items: 101→1, 105→2, 110→3, 120→4, 130→5, 140→6, 150→7; train counts (leave-one-out, last two
 * held out): 101:5 105:2 110:1 120:0 130:0 140:2 150:1.
 */
export const TINY_POP_LOG = [
  [10, [101, 105, 110, 120]], // train 101 105 | valid 110 | test 120
  [20, [101, 110, 105, 130]], // train 101 110 | valid 105 | test 130
  [30, [105, 101, 101, 120, 110]], // train 105 101 101 | valid 120 | test 110
  [40, [140, 150]], // too short: train only
  [50, [101, 140, 150, 105]], // train 101 140 | valid 150 | test 105
] as const;

/** Writes TINY_POP_LOG as `user item` lines. */
export function writeTinyPopLog(path: string): string {
  writeFileSync(path, `${TINY_POP_LOG.flatMap(([u, items]) => items.map((i) => `${u} ${i}`)).join('\n')}\n`);
  return path;
}
