/** The evaluations of a run: every selected protocol on valid, then test, each with its own random stream. */
import { UserError } from '../core/errors.js';
import type { Split } from '../data/types.js';
import { Rng } from '../engine/rng.js';
import { protocolsOf, type EvalConfig } from './options.js';
import type { HeldOut } from './history.js';
import { evaluateFullRanking, evaluateFullRankingShared, evaluateSampled, heldOutOf, type EvalResult } from './protocols.js';
import type { RankList } from './ranks.js';
import { toRow, type EvalRow } from './results.js';
import type { Scorer } from './types.js';

/**
 * Random streams of a run, derived from its seed in a fixed order so that an evaluation gives the
 * same numbers whether it runs after `train` or alone in `eval`, and whichever protocols are selected.
 */
export interface RunRngs {
  readonly train: Rng;
  readonly sampledValid: Rng;
  readonly sampledTest: Rng;
  readonly fullValid: Rng;
  readonly fullTest: Rng;
}

export function runRngs(seed: number): RunRngs {
  const root = new Rng(seed);
  return { train: root.fork(), sampledValid: root.fork(), sampledTest: root.fork(), fullValid: root.fork(), fullTest: root.fork() };
}

/** Reports the progress of one evaluation: a label, then (users done, users to do) after every batch. */
export type EvalProgress = (label: string) => { update(done: number, total: number): void; stop(): void };

/** The refusal of per-user ranks where a user has several held-out items. */
export const RANKS_NEED_ONE_ITEM =
  'per-user ranks are kept for the one-item protocols (leave-one-out, --cold); --split random ranks several held-out items per user';

/**
 * Runs the selected protocols on valid then test; one row per (protocol, split). With `ranksOut`, each
 * evaluation's per-user ranks are appended to it (one-item protocols only: RANKS_NEED_ONE_ITEM).
 */
export async function runEvaluations(
  scorer: Scorer,
  split: Split,
  c: EvalConfig,
  seed: number,
  progress?: EvalProgress,
  ranksOut?: RankList[],
): Promise<EvalRow[]> {
  if (ranksOut && split.random) throw new UserError(RANKS_NEED_ONE_ITEM);
  const rngs = runRngs(seed);
  const rows: EvalRow[] = [];
  const common = (which: HeldOut, onProgress?: (done: number, total: number) => void) =>
    ({ which, ks: c.ks, evalUsers: c.evalUsers, batchSize: c.evalBatchSize, onProgress, keepRanks: !!ranksOut }) as const;
  const record = (protocol: 'sampled' | 'full', which: HeldOut, res: EvalResult, seconds: number) => {
    rows.push(toRow(protocol, which, res, Math.round(seconds * 1000) / 1000));
    if (ranksOut && res.evaluated && res.ranks) {
      const heldOut = heldOutOf(split, which);
      ranksOut.push({ protocol, split: which, users: res.evaluated, items: res.evaluated.map((u) => heldOut[u]), ranks: res.ranks });
    }
  };
  for (const protocol of protocolsOf(c)) {
    if (protocol === 'full' && scorer.historyFree) {
      // a model whose scores read the user alone ranks valid and test from one scoring pass
      const bar = progress?.('full valid + test');
      const t0 = performance.now();
      let shared: Awaited<ReturnType<typeof evaluateFullRankingShared>>;
      try {
        shared = await evaluateFullRankingShared(
          scorer,
          split,
          { ...common('valid', bar?.update), rng: rngs.fullValid },
          { ...common('test'), rng: rngs.fullTest },
        );
      } finally {
        bar?.stop();
      }
      if (shared) {
        const half = (performance.now() - t0) / 2000;
        record(protocol, 'valid', shared.valid, half);
        record(protocol, 'test', shared.test, half);
        continue;
      }
    }
    for (const which of ['valid', 'test'] as const) {
      const bar = progress?.(`${protocol} ${which}`);
      const t0 = performance.now();
      try {
        const res =
          protocol === 'sampled'
            ? await evaluateSampled(scorer, split, {
                ...common(which, bar?.update),
                numNegatives: c.numNegatives,
                rng: which === 'valid' ? rngs.sampledValid : rngs.sampledTest,
              })
            : await evaluateFullRanking(scorer, split, { ...common(which, bar?.update), rng: which === 'valid' ? rngs.fullValid : rngs.fullTest });
        record(protocol, which, res, (performance.now() - t0) / 1000);
      } finally {
        bar?.stop();
      }
    }
  }
  return rows;
}
