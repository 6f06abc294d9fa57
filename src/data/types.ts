/** Maps between a user's original ids (strings as read) and dense indices 1..N; index 0 is padding. */
export interface IdMap {
  /** original id → dense index (1..N) */
  readonly toIndex: Map<string, number>;
  /** dense index → original id; toRaw[0] is '' (padding) */
  readonly toRaw: string[];
}

/** Every user's interactions in chronological order, with dense ids. */
export interface Interactions {
  /** users, with dense ids 1..userNum */
  readonly userNum: number;
  /** items, with dense ids 1..itemNum */
  readonly itemNum: number;
  /** seqs[u] for u in 1..userNum (seqs[0] is empty): item indices in time order */
  readonly seqs: Int32Array[];
  /** times[u][k] is the raw timestamp of seqs[u][k]; present only when the source had timestamps */
  readonly times?: Float64Array[];
  /** ratings[u][k] is the explicit rating of seqs[u][k]; read only when asked for (ReadOptions.ratings: the --task ctr labels) */
  readonly ratings?: Float32Array[];
  /** user ids: dense ↔ original */
  readonly users: IdMap;
  /** item ids: dense ↔ original */
  readonly items: IdMap;
}

/** How a feature column is encoded (data/features.ts). */
export type FeatureKind = 'categorical' | 'multi' | 'numeric' | 'text';

/** One column of a feature file, as a block of features. */
export interface FeatureField {
  /** the column's name (a MovieLens file's: age, gender, occupation, zip_region; title, year, genres) */
  readonly name: string;
  /** how its values became features */
  readonly kind: FeatureKind;
  /** its features are start .. start + size − 1 */
  readonly start: number;
  /** how many features it has */
  readonly size: number;
}

/** The features of one kind of entity (users or items), rows by dense id (row 0, padding, is empty). */
export interface FeatureMatrix {
  /** the file it was read from */
  readonly source: string;
  /** its columns, in file order */
  readonly fields: readonly FeatureField[];
  /** every feature's name, e.g. `genres=Comedy`, `age∈[25,31)`, `title:star` */
  readonly names: readonly string[];
  /** field of each feature */
  readonly fieldOf: Int32Array;
  /** CSR rows 0..N: row r's features are idx[rowPtr[r] .. rowPtr[r + 1]) with weights val[…] */
  readonly rowPtr: Int32Array;
  /** the features of the rows, row after row */
  readonly idx: Int32Array;
  /** their weights */
  readonly val: Float32Array;
  /** dense ids with at least one feature */
  readonly covered: number;
  /** rows of the file whose id the dataset does not have (kept out of the matrix) */
  readonly unmatched: number;
}

/** The side features of a dataset's users and items, as their feature files gave them. */
export interface SideFeatures {
  /** the users' features, rows by dense user id */
  readonly users?: FeatureMatrix;
  /** the items' features, rows by dense item id */
  readonly items?: FeatureMatrix;
}

/**
 * Leave-one-out split (DESIGN.md): per user, last item → test, second-last → valid, rest → train.
 * Users with fewer than 3 interactions keep everything in train, with valid = test = 0 (not evaluated).
 */
export interface Split {
  readonly data: Interactions;
  /** train[u]: the user's training items (chronological) */
  readonly train: Int32Array[];
  /** valid[u], test[u]: the held-out item, or 0 when the user is not evaluated */
  readonly valid: Int32Array;
  readonly test: Int32Array;
  /** timestamps matching train/valid/test, when the data has them */
  readonly trainTimes?: Float64Array[];
  readonly validTimes?: Float64Array;
  readonly testTimes?: Float64Array;
  /** the leave-one-out threshold used: users with fewer events were not split (default 3) */
  readonly minInteractions?: number;
  /** side features (--user_features, --item_features), when the model reads them */
  readonly features?: SideFeatures;
  /** set by the random split (data/split.ts randomSplit): several held-out items per user */
  readonly random?: RandomHeldOut;
  /** set by the cold-start splits (data/cold.ts): users or items held out of training entirely */
  readonly cold?: ColdStart;
}

/** The users or items a cold-start split holds out of training, and the histories evaluation reads. */
export interface ColdStart {
  /** what is held out */
  readonly kind: 'users' | 'items';
  /** the fraction asked for (`--cold users:F`) */
  readonly fraction: number;
  /** cold users: the events of a held-out user given as its history (`--cold_history`); cold items: 0 */
  readonly history: number;
  /** by user id (kind users) or item id (kind items): 0 not held out, 1 held out for valid, 2 for test */
  readonly held: Uint8Array;
  /** inputs[u]: the history user u is evaluated after (in place of train[u], and valid is never appended); time order */
  readonly inputs: Int32Array[];
  /** their timestamps, when the data has them */
  readonly inputTimes?: Float64Array[];
}

/** The held-out sets of a random split, per user (index 0 unused); each in time order. */
export interface RandomHeldOut {
  /** train:valid:test, summing to 1 */
  readonly ratios: readonly number[];
  readonly validSets: Int32Array[];
  readonly testSets: Int32Array[];
  /** train ∪ valid in time order: the input history when ranking test */
  readonly validHistory: Int32Array[];
}

/** One training batch: B rows of maxlen, left-padded (0 = padding), as the reference sampler builds it. */
export interface TrainBatch {
  readonly batchSize: number;
  readonly maxlen: number;
  readonly users: Int32Array; // [B]
  readonly seqs: Int32Array; // [B*maxlen] inputs
  readonly pos: Int32Array; // [B*maxlen] next items (0 where the input is padding)
  /** sampled negatives: [B·maxlen·K] (K per position, 0 where pos is 0), or [K] shared by every position */
  readonly neg: Int32Array;
  /** K: negatives per position, or shared by the batch (default 1; 0 = none) */
  readonly negatives?: number;
  /** neg is one list for the whole batch (sampled softmax), not K per position */
  readonly sharedNegatives?: boolean;
  readonly times?: Float64Array; // [B*maxlen] timestamps of the inputs (TiSASRec), 0 for padding
  /** pointwise 0/1 labels of `pos` (the --task ctr batches: maxlen 1, no negatives) */
  readonly labels?: Float32Array; // [B*maxlen]
}

/** A dataset file with its leave-one-out split. */
export interface LoadedSplit {
  readonly path: string;
  readonly data: Interactions;
  readonly split: Split;
  readonly minInteractions: number;
}
