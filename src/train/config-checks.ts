import { UserError } from '../cli/errors.js';

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
