import { UserError } from '../cli/errors.js';
import { CheckpointError } from '../models/checkpoint-format.js';

/** The hyper-parameters every attention model shares, checked once; errors name the flag. */
export interface CommonHyper {
  maxlen: number;
  hiddenUnits: number;
  numBlocks: number;
  numHeads: number;
  dropoutRate: number;
  l2Emb?: number;
  batchSize: number;
  lr: number;
  numEpochs: number;
}

/**
 * Upper bounds far above anything the field trains with: past them the sizes overflow memory or
 * index arithmetic, and the user gets an error naming the flag instead of an allocator's.
 */
export const HYPER_LIMITS = { maxlen: 8192, hidden_units: 4096, num_blocks: 64, batch_size: 65536, num_epochs: 1_000_000 } as const;

/** `--flag` is at most `limit`, else a UserError naming both. */
export function checkAtMost(flag: string, value: number, limit: number): void {
  if (value > limit) throw new UserError(`--${flag}: at most ${limit}, got ${value}`);
}

/**
 * Builds a model config from a checkpoint's settings: a value the flag checks refuse is the file's
 * fault when it came from its config metadata, so it is reported as such ("config dropout_rate: …"),
 * not as a flag the user did not give.
 */
export function configOrCheckpointError<T>(build: () => T, fromFileConfig: boolean): T {
  try {
    return build();
  } catch (err) {
    if (fromFileConfig && err instanceof UserError) throw new CheckpointError(`metadata "config": ${err.message.replace(/^--/, '')}`);
    throw err;
  }
}

/**
 * HYPER_LIMITS, for a run about to train (not when loading a model file: its tensors fix the sizes,
 * and its recorded training settings, e.g. a huge --num_epochs left to early stopping, no longer matter).
 */
export function checkTrainingSizes(cfg: CommonHyper): void {
  const sizes: Array<[keyof typeof HYPER_LIMITS, number]> = [
    ['maxlen', cfg.maxlen], ['hidden_units', cfg.hiddenUnits], ['num_blocks', cfg.numBlocks], ['batch_size', cfg.batchSize], ['num_epochs', cfg.numEpochs],
  ];
  for (const [flag, v] of sizes) checkAtMost(flag, v, HYPER_LIMITS[flag]);
}

export function checkCommonHyper(cfg: CommonHyper): void {
  const positive: Array<[string, number]> = [
    ['maxlen', cfg.maxlen], ['hidden_units', cfg.hiddenUnits], ['num_heads', cfg.numHeads],
    ['batch_size', cfg.batchSize], ['num_epochs', cfg.numEpochs],
  ];
  for (const [flag, v] of positive) if (!(Number.isInteger(v) && v >= 1)) throw new UserError(`--${flag}: expected a positive integer, got ${v}`);
  if (!(Number.isInteger(cfg.numBlocks) && cfg.numBlocks >= 0)) throw new UserError(`--num_blocks: expected an integer ≥ 0, got ${cfg.numBlocks}`);
  if (cfg.hiddenUnits % cfg.numHeads !== 0) throw new UserError(`--num_heads ${cfg.numHeads} must divide --hidden_units ${cfg.hiddenUnits}`);
  if (!(cfg.dropoutRate >= 0 && cfg.dropoutRate < 1)) throw new UserError(`--dropout_rate: expected a value in [0, 1), got ${cfg.dropoutRate}`);
  if (!(cfg.lr > 0)) throw new UserError(`--lr: expected a positive number, got ${cfg.lr}`);
  if (!((cfg.l2Emb ?? 0) >= 0)) throw new UserError(`--l2_emb: expected a number ≥ 0, got ${cfg.l2Emb}`);
}
