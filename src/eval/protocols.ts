import { quote, UserError } from '../core/errors.js';
import type { Split } from '../data/types.js';
import type { Rng } from '../engine/rng.js';
import type { HistoryBatch, Scorer } from './types.js';
import { getKernels } from '../kernels/index.js';
import { buildEvalBatch, evalHistory, fillHistoryRow, type HeldOut } from './history.js';
import { DEFAULT_KS, RankMetrics, checkKs, rankFirst } from './metrics.js';
import { SetMetrics } from './set-metrics.js';

/**
 * The two evaluation protocols.
 *
 * - Sampled (the SASRec paper's, reference `evaluate`/`evaluate_valid`): per user, the held-out item
 *   plus `numNegatives` random items; rank of the held-out item among those scores.
 * - Full ranking: every item is scored; the user's history is excluded; rank among the rest.
 *
 * Both are async only to let a progress bar redraw between batches; scoring itself is synchronous.
 */

export interface EvalResult {
  /** number of users evaluated */
  readonly users: number;
  /** e.g. { 'HR@10': …, 'NDCG@10': …, MRR: … } */
  readonly metrics: Record<string, number>;
  /** per evaluated user (in evaluation order): user ids and 0-based ranks, when `keepRanks` was set */
  readonly evaluated?: Int32Array;
  readonly ranks?: Int32Array;
}

interface CommonOptions {
  /** which held-out item to rank: the valid item (history = train) or the test item (history = train + valid) */
  readonly which: HeldOut;
  /** cut-offs for HR@K / NDCG@K (default [10]) */
  readonly ks?: readonly number[];
  /** users per scorer call (default 256) */
  readonly batchSize?: number;
  /**
   * Evaluate a random subset, like the reference: when userNum > evalUsers, draw evalUsers distinct ids
   * from 1..userNum (Python's random.sample) and skip the non-evaluable ones among them, so slightly
   * fewer users may be evaluated. Undefined (default) = every evaluable user. The reference uses 10000.
   */
  readonly evalUsers?: number;
  /** needed by the sampled protocol, and by either protocol when evalUsers subsamples */
  readonly rng?: Rng;
  /** keep each evaluated user's rank in the result */
  readonly keepRanks?: boolean;
  /** called after every batch with (users done, users to do) */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface SampledOptions extends CommonOptions {
  /** negatives per user (default 100, the paper's) */
  readonly numNegatives?: number;
  readonly rng: Rng;
}

export type FullRankingOptions = CommonOptions;

/**
 * Users the reference would evaluate on `which`: a train item and a held-out item. On a cold-start
 * split every user with a held-out item is evaluated, whatever their history (none, for a held-out user
 * scored from their features alone).
 */
export function isEvaluable(split: Split, user: number, which: HeldOut): boolean {
  const held = which === 'valid' ? split.valid[user] : split.test[user];
  return held !== 0 && (split.cold !== undefined || split.train[user].length >= 1);
}

/**
 * The users to evaluate, in evaluation order: all of 1..userNum, or — when `evalUsers` is set and
 * smaller than userNum — a uniform sample of `evalUsers` distinct ids (partial Fisher–Yates); then
 * the non-evaluable ones are dropped, as the reference does inside its loop.
 */
export function selectEvalUsers(split: Split, which: HeldOut, evalUsers?: number, rng?: Rng): Int32Array {
  const userNum = split.data.userNum;
  let candidates: Int32Array;
  if (evalUsers !== undefined && userNum > evalUsers) {
    if (!Number.isInteger(evalUsers) || evalUsers < 1) throw new RangeError(`evalUsers must be a positive integer, got ${evalUsers}`);
    if (!rng) throw new Error('selectEvalUsers: subsampling users needs an rng');
    const pool = new Int32Array(userNum);
    for (let i = 0; i < userNum; i++) pool[i] = i + 1;
    for (let i = 0; i < evalUsers; i++) {
      const j = i + rng.nextInt(userNum - i);
      const t = pool[i];
      pool[i] = pool[j];
      pool[j] = t;
    }
    candidates = pool.subarray(0, evalUsers);
  } else {
    candidates = new Int32Array(userNum);
    for (let i = 0; i < userNum; i++) candidates[i] = i + 1;
  }
  const out: number[] = [];
  for (const u of candidates) if (isEvaluable(split, u, which)) out.push(u);
  return Int32Array.from(out);
}

/** Each user's held-out item of `which` (0: none), by user id. */
export function heldOutOf(split: Split, which: HeldOut): Int32Array {
  return which === 'valid' ? split.valid : split.test;
}

/**
 * The sampled protocol's data-dependent limit, checked before any training: every user it may rank
 * (one with a held-out item) needs an item outside their train set to draw as a negative. `why` is the
 * advice (which flag to change).
 */
export function checkSampledNegatives(split: Split, numNegatives: number, why: string): void {
  if (numNegatives <= 0) return;
  const itemNum = split.data.itemNum;
  const rated = new Int32Array(itemNum + 1);
  for (let u = 1; u <= split.data.userNum; u++) {
    if (!isEvaluable(split, u, 'valid') && !isEvaluable(split, u, 'test')) continue;
    let distinct = 0;
    for (const it of evalHistory(split, u)) {
      if (it !== 0 && rated[it] !== u) {
        rated[it] = u;
        distinct++;
      }
    }
    if (distinct >= itemNum) {
      throw new UserError(
        `user ${quote(split.data.users.toRaw[u])} has all ${itemNum} items in train, so the sampled protocol has no negatives to draw for them: ${why}`,
      );
    }
  }
}

/**
 * Candidate slots (users × candidates) scored in one call of the sampled protocol: the batch is cut
 * below --eval_batch_size when --num_negatives is large, so memory stays bounded (each user's
 * candidates and scores are the same in any batch).
 */
export const SAMPLED_SLOTS_PER_CALL = 1 << 18;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * NaN and +Infinity scores would rank silently (a NaN never ranks above anything, so an all-NaN model
 * scores HR = NDCG = 1): they mean diverged training or a checkpoint with non-finite weights, so stop.
 * −Infinity is allowed (a scorer may mask items with it). Rows are `stride` scores long; the first
 * `skip` of each (scoreAll's padding item 0) are not looked at.
 */
export function assertFiniteScores(scores: ArrayLike<number>, rows: number, stride: number, skip = 0, what = 'evaluation'): void {
  for (let r = 0; r < rows; r++) {
    for (let i = r * stride + skip; i < (r + 1) * stride; i++) {
      const s = scores[i];
      if (Number.isNaN(s) || s === Infinity) {
        throw new UserError(
          `${what}: the model scores ${s} for some items: its weights have diverged (try a lower --lr) or the checkpoint holds non-finite values`,
        );
      }
    }
  }
}

/**
 * Sampled evaluation, as the reference: candidates = [held-out item, then numNegatives items drawn
 * uniformly from 1..itemNum with replacement, redrawn while in the user's train set ∪ {0}].
 *
 * Matching the reference on purpose: only the TRAIN items are excluded from the negatives. For the
 * test split the valid item is not excluded (the reference builds `rated = set(train[u])` in both
 * functions), and the held-out item itself may be drawn as a negative (it then ties and does not rank
 * above itself). On a cold-start split the user's input history takes train's place.
 */
export async function evaluateSampled(scorer: Scorer, split: Split, options: SampledOptions): Promise<EvalResult> {
  const { which, rng } = options;
  if (split.random) throw new UserError(RANDOM_SPLIT_IS_FULL_RANKING);
  const ks = options.ks ?? DEFAULT_KS;
  checkKs(ks);
  const numNeg = options.numNegatives ?? 100;
  if (!Number.isInteger(numNeg) || numNeg < 0) throw new RangeError(`numNegatives must be a non-negative integer, got ${numNeg}`);
  const batchSize = options.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const itemNum = split.data.itemNum;
  if (scorer.itemNum !== itemNum) throw new Error(`scorer has ${scorer.itemNum} items, the data ${itemNum}`);

  const users = selectEvalUsers(split, which, options.evalUsers, rng);
  const heldOut = heldOutOf(split, which);
  const metrics = new RankMetrics(ks);
  const ranks = options.keepRanks ? new Int32Array(users.length) : undefined;
  const C = numNeg + 1;
  const perCall = Math.max(1, Math.min(batchSize, Math.floor(SAMPLED_SLOTS_PER_CALL / C)));
  // rated[i] === stamp marks item i as in the current user's train set (stamp changes per user)
  const rated = new Int32Array(itemNum + 1);
  let stamp = 0;

  for (let start = 0; start < users.length; start += perCall) {
    const batchUsers = users.subarray(start, Math.min(start + perCall, users.length));
    const B = batchUsers.length;
    const candidates = new Int32Array(B * C);
    for (let b = 0; b < B; b++) {
      const u = batchUsers[b];
      stamp++;
      rated[0] = stamp;
      let distinct = 0;
      const train = evalHistory(split, u);
      for (let j = 0; j < train.length; j++) {
        const it = train[j];
        if (rated[it] !== stamp) {
          rated[it] = stamp;
          if (it !== 0) distinct++;
        }
      }
      if (numNeg > 0 && distinct >= itemNum) {
        throw new UserError(`user ${u} has every item in train; no negatives to sample`);
      }
      const base = b * C;
      candidates[base] = heldOut[u];
      for (let c = 1; c < C; c++) {
        let t = rng.intBetween(1, itemNum + 1);
        while (rated[t] === stamp) t = rng.intBetween(1, itemNum + 1);
        candidates[base + c] = t;
      }
    }
    const batch = buildEvalBatch(split, batchUsers, scorer.maxlen, which);
    const scores = scorer.scoreCandidates(batch, candidates, C);
    if (scores.length < B * C) throw new Error(`scoreCandidates returned ${scores.length} scores, expected ${B * C}`);
    assertFiniteScores(scores, B, C);
    for (let b = 0; b < B; b++) {
      const r = rankFirst(scores, b * C, C);
      metrics.add(r);
      if (ranks) ranks[start + b] = r;
    }
    options.onProgress?.(start + B, users.length);
    if (start + B < users.length) await yieldToEventLoop();
  }
  return ranks ? { users: metrics.count, metrics: metrics.summary(), evaluated: users, ranks } : { users: metrics.count, metrics: metrics.summary() };
}

/** The checked settings both full-ranking protocols share: cut-offs, users per call, catalogue size + 1. */
function fullRankingSetup(scorer: Scorer, split: Split, options: FullRankingOptions): { ks: readonly number[]; batchSize: number; N1: number } {
  const ks = options.ks ?? DEFAULT_KS;
  checkKs(ks);
  const batchSize = options.batchSize ?? 128;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const itemNum = split.data.itemNum;
  if (scorer.itemNum !== itemNum) throw new Error(`scorer has ${scorer.itemNum} items, the data ${itemNum}`);
  return { ks, batchSize, N1: itemNum + 1 };
}

/**
 * One split's full ranking, fed a batch of score rows at a time: the users it evaluates (in order),
 * the histories each batch is scored after, and the metrics of the rows seen so far.
 */
interface FullRanker {
  readonly users: Int32Array;
  batch(batchUsers: Int32Array, maxlen: number): HistoryBatch;
  /** ranks users[start..start + B) from their score rows (row b at b·N1; item 0 is not looked at) */
  add(start: number, B: number, scores: Float32Array): void;
  result(): EvalResult;
}

function fullRanker(scorer: Scorer, split: Split, options: FullRankingOptions): { ranker: FullRanker; batchSize: number; N1: number } {
  const { ks, batchSize, N1 } = fullRankingSetup(scorer, split, options);
  const users = selectEvalUsers(split, options.which, options.evalUsers, options.rng);
  const ranker = split.random ? setRanker(split, options.which, users, ks, N1) : heldOutRanker(split, options, users, ks, N1);
  return { ranker, batchSize, N1 };
}

/** Scores the rankers' users batch by batch (every ranker has the same users) and hands each batch's rows to each ranker. */
async function scoreAndRank(
  scorer: Scorer,
  rankers: readonly FullRanker[],
  batchSize: number,
  N1: number,
  onProgress?: (done: number, total: number) => void,
): Promise<void> {
  const users = rankers[0].users;
  // one score buffer for every batch (the scorer may write into it instead of allocating), from the
  // kernels' allocator: with the wasm backend it lives in wasm memory, so the scoring GEMM writes it
  // without a copy; handed back at the end where the backend can take it
  const kernels = getKernels();
  const scoreBuf = users.length > 0 ? kernels.alloc(Math.min(batchSize, users.length) * N1) : undefined;
  try {
    for (let start = 0; start < users.length; start += batchSize) {
      const batchUsers = users.subarray(start, Math.min(start + batchSize, users.length));
      const B = batchUsers.length;
      const scores = scorer.scoreAll(rankers[0].batch(batchUsers, scorer.maxlen), scoreBuf);
      if (scores.length < B * N1) throw new Error(`scoreAll returned ${scores.length} scores, expected ${B * N1}`);
      assertFiniteScores(scores, B, N1, 1);
      for (const ranker of rankers) ranker.add(start, B, scores);
      onProgress?.(start + B, users.length);
      if (start + B < users.length) await yieldToEventLoop();
    }
  } finally {
    const free = (kernels as { free?: (a: Float32Array) => void }).free;
    if (scoreBuf && free) free.call(kernels, scoreBuf);
  }
}

/**
 * Full-ranking evaluation: every item 1..itemNum is scored (`scoreAll`); the user's history — train
 * items, and for the test split also the valid item (a cold-start split: the input history alone) —
 * and padding 0 are excluded, except the held-out
 * item itself (a repeat of an earlier item is still ranked). rank = number of remaining items scoring
 * strictly higher than the held-out item (ties do not rank above it, as in the sampled protocol).
 * A random split has several held-out items per user (setRanker).
 */
export async function evaluateFullRanking(scorer: Scorer, split: Split, options: FullRankingOptions): Promise<EvalResult> {
  const { ranker, batchSize, N1 } = fullRanker(scorer, split, options);
  await scoreAndRank(scorer, [ranker], batchSize, N1, options.onProgress);
  return ranker.result();
}

/**
 * Full ranking of valid and of test in one scoring pass, with the results of two evaluateFullRanking
 * calls, for a scorer whose scores read the user alone (`historyFree`: a user's valid and test rows
 * are the same) when both splits evaluate the same users (every user: no --eval_users sample);
 * null otherwise (the caller evaluates each split).
 */
export async function evaluateFullRankingShared(
  scorer: Scorer,
  split: Split,
  valid: FullRankingOptions,
  test: FullRankingOptions,
): Promise<{ valid: EvalResult; test: EvalResult } | null> {
  if (!scorer.historyFree || valid.evalUsers !== undefined || test.evalUsers !== undefined) return null;
  const v = fullRanker(scorer, split, { ...valid, which: 'valid' });
  const t = fullRanker(scorer, split, { ...test, which: 'test' });
  const same = v.ranker.users.length === t.ranker.users.length && v.ranker.users.every((u, x) => t.ranker.users[x] === u);
  if (!same || v.batchSize !== t.batchSize) return null;
  await scoreAndRank(scorer, [v.ranker, t.ranker], v.batchSize, v.N1, valid.onProgress);
  return { valid: v.ranker.result(), test: t.ranker.result() };
}

/** The one-item protocols' ranker (leave-one-out, cold start): the held-out item's rank among the non-history items. */
function heldOutRanker(split: Split, options: FullRankingOptions, users: Int32Array, ks: readonly number[], N1: number): FullRanker {
  const { which } = options;
  const heldOut = heldOutOf(split, which);
  const metrics = new RankMetrics(ks);
  const ranks = options.keepRanks ? new Int32Array(users.length) : undefined;
  const excluded = new Int32Array(N1);
  let stamp = 0;
  return {
    users,
    batch: (batchUsers, maxlen) => buildEvalBatch(split, batchUsers, maxlen, which),
    add(start, B, scores) {
      for (let b = 0; b < B; b++) {
        const u = users[start + b];
        const target = heldOut[u];
        const validItem = which === 'test' && !split.cold ? split.valid[u] : 0;
        const train = evalHistory(split, u);
        const off = b * N1;
        const t = scores[off + target];
        stamp++;
        // every item 1..itemNum scoring above t, then minus the excluded ones among them: the distinct
        // history items other than the held-out one (a tight loop over all items, the short history
        // touched once); scores are finite here (assertFiniteScores)
        let r = countAbove(scores, off + 1, off + N1, t);
        for (let j = 0; j <= train.length; j++) {
          const it = j < train.length ? train[j] : validItem;
          if (it === 0 || it === target || excluded[it] === stamp) continue;
          excluded[it] = stamp;
          if (scores[off + it] > t) r--;
        }
        metrics.add(r);
        if (ranks) ranks[start + b] = r;
      }
    },
    result: () =>
      ranks ? { users: metrics.count, metrics: metrics.summary(), evaluated: users, ranks } : { users: metrics.count, metrics: metrics.summary() },
  };
}

/** The one-line refusal of the sampled protocol on a random split. */
export const RANDOM_SPLIT_IS_FULL_RANKING =
  '--split random is evaluated by full ranking only (several held-out items per user): use --eval_protocol full and --select_protocol full';

/**
 * Full ranking on a random split (several truth items per user, RecBole's setting): every item is
 * scored after the user's history (train items in time order for valid; train ∪ valid for test);
 * the history items are excluded except those that are themselves truth items. The truth items'
 * positions: item j (0-based, by descending score) sits at (remaining non-truth items scoring strictly
 * above it) + j, so ties go to the truth items, as in the one-item protocols. Metrics: SetMetrics.
 */
function setRanker(split: Split, which: HeldOut, users: Int32Array, ks: readonly number[], N1: number): FullRanker {
  const random = split.random!;
  const truthSets = which === 'valid' ? random.validSets : random.testSets;
  const histories = which === 'valid' ? split.train : random.validHistory;
  const metrics = new SetMetrics(ks);
  // mark[i] === stamp: item i is a truth item of the current user; stamp + 1 (odd/even pair): excluded
  const mark = new Int32Array(N1);
  let stamp = 0;
  return {
    users,
    batch(batchUsers, maxlen) {
      const B = batchUsers.length;
      const seqs = new Int32Array(B * maxlen);
      for (let b = 0; b < B; b++) fillHistoryRow(seqs, b, maxlen, histories[batchUsers[b]]);
      return { batchSize: B, maxlen, users: Int32Array.from(batchUsers), seqs };
    },
    add(start, B, scores) {
      for (let b = 0; b < B; b++) {
        const u = users[start + b];
        const off = b * N1;
        stamp += 2;
        const truth: number[] = [];
        for (const it of truthSets[u]) {
          if (mark[it] !== stamp) {
            mark[it] = stamp;
            truth.push(it);
          }
        }
        const excluded: number[] = [];
        for (const it of histories[u]) {
          if (it !== 0 && mark[it] !== stamp && mark[it] !== stamp + 1) {
            mark[it] = stamp + 1;
            excluded.push(it);
          }
        }
        const truthScores = truth.map((it) => scores[off + it]).sort((x, y) => y - x);
        const positions = truthScores.map((t, j) => {
          let above = countAbove(scores, off + 1, off + N1, t);
          for (const it of excluded) if (scores[off + it] > t) above--;
          for (const x of truthScores) if (x > t) above--;
          return above + j;
        });
        metrics.add(positions);
      }
    },
    result: () => ({ users: metrics.count, metrics: metrics.summary() }),
  };
}

/** Number of scores[from..to) strictly above t (four branch-free accumulators: several times a plain `if` loop on random scores). */
function countAbove(scores: Float32Array, from: number, to: number, t: number): number {
  let r0 = 0;
  let r1 = 0;
  let r2 = 0;
  let r3 = 0;
  let i = from;
  for (; i + 3 < to; i += 4) {
    r0 += +(scores[i] > t);
    r1 += +(scores[i + 1] > t);
    r2 += +(scores[i + 2] > t);
    r3 += +(scores[i + 3] > t);
  }
  for (; i < to; i++) r0 += +(scores[i] > t);
  return r0 + r1 + r2 + r3;
}

/** Marks of excluded item ids, reused across topK calls (cleared after each). */
let excludedMarks = new Uint8Array(0);

/** Top-K items by score for one score row (items 1..itemNum), skipping `exclude`d ones; ties → lower id first. */
export function topK(
  scores: ArrayLike<number>,
  offset: number,
  itemNum: number,
  k: number,
  exclude?: ArrayLike<number>,
): Array<{ item: number; score: number }> {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  if (excludedMarks.length < itemNum + 1) excludedMarks = new Uint8Array(itemNum + 1);
  const skip = excludedMarks;
  const excluded = exclude ?? [];
  for (let j = 0; j < excluded.length; j++) if (excluded[j] >= 1 && excluded[j] <= itemNum) skip[excluded[j]] = 1;
  const best: Array<{ item: number; score: number }> = [];
  const insert = (item: number, s: number) => {
    let pos = best.length;
    while (pos > 0 && s > best[pos - 1].score) pos--;
    best.splice(pos, 0, { item, score: s });
    if (best.length > k) best.pop();
  };
  let i = 1;
  // until k items are held every item that is not NaN or excluded enters (−∞ included) ...
  for (; i <= itemNum && best.length < k; i++) {
    const s = scores[offset + i];
    if (!Number.isNaN(s) && skip[i] === 0) insert(i, s);
  }
  // ... then only a score above the k-th (NaN never is; equal ones lose to the lower id already held)
  let kth = best.length === k ? best[k - 1].score : Number.POSITIVE_INFINITY;
  for (; i <= itemNum; i++) {
    const s = scores[offset + i];
    if (!(s > kth) || skip[i] !== 0) continue;
    insert(i, s);
    kth = best[k - 1].score;
  }
  for (let j = 0; j < excluded.length; j++) if (excluded[j] >= 1 && excluded[j] <= itemNum) skip[excluded[j]] = 0;
  return best;
}
