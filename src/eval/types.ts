/**
 * What the evaluation protocols need from a model: scores for given candidates, or for every item,
 * after each of B histories. Histories are left-padded to the model's maxlen (0 = padding), exactly as
 * the reference's evaluate() builds them.
 */
export interface HistoryBatch {
  /** B: the histories in the batch */
  readonly batchSize: number;
  /** the length every history is left-padded (or cut) to */
  readonly maxlen: number;
  /** [B] dense user ids (0 for an ad-hoc history) */
  readonly users: Int32Array;
  /** [B·maxlen] item ids, left-padded with 0 */
  readonly seqs: Int32Array;
  /** [B·maxlen] raw timestamps of seqs, when the model uses time */
  readonly times?: Float64Array;
}

/** What evaluation and recommendation ask of a model: scores of items after each history of a batch. */
export interface Scorer {
  /** number of history positions the model reads (histories are cut/padded to this) */
  readonly maxlen: number;
  /** items the model scores, dense ids 1..itemNum */
  readonly itemNum: number;
  /** true when the scores read `users` (evaluation on a dataset must then pass the model's ids of its users) */
  readonly usesUsers?: boolean;
  /**
   * true when the scores read the user id alone, never the history (a user's valid and test rows are
   * then the same, so full ranking scores them once: evaluateFullRankingShared)
   */
  readonly historyFree?: boolean;
  /** scores[b*C + c] = score of candidates[b*C + c] after history b */
  scoreCandidates(batch: HistoryBatch, candidates: Int32Array, numCandidates: number): Float32Array;
  /**
   * scores[b*(itemNum+1) + i] for every item i in 0..itemNum (index 0 is padding and is ignored).
   * `out`, when given with length ≥ B*(itemNum+1), may receive the scores (the result is then a view of
   * it), sparing a fresh array per call; an implementation may ignore it, so use the returned array.
   */
  scoreAll(batch: HistoryBatch, out?: Float32Array): Float32Array;
}
