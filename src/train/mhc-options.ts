/**
 * The mHC flags shared by the SASRec-family specs: `--mhc` (bool, off by default),
 * `--mhc_expansion_rate n` (default 4 when on; giving it turns mHC on), `--mhc_sinkhorn_iter` (20),
 * `--mhc_init_gate` (0.01); and their checkpoint `config` metadata (the same snake_case names).
 * mHC variants use pre-LN blocks: `--norm_first false` together with mHC is an error.
 */
import { UserError } from '../cli/errors.js';
import { checkAtMost } from './config-checks.js';
import type { TrainOptions } from '../models/registry.js';
import { MHC_DEFAULTS, type MHCConfig } from '../nn/mhc.js';

/** The mHC settings the flags ask for, or null when mHC is off; errors name the flag. */
export function mhcFromOptions(options: TrainOptions): MHCConfig | null {
  const flag = options.mhc;
  const rate = options.mhcExpansionRate;
  const iter = options.mhcSinkhornIter;
  const gate = options.mhcInitGate;
  const on = flag === true || (flag === undefined && rate !== undefined);
  if (!on) {
    const given = ([['mhc_expansion_rate', rate], ['mhc_sinkhorn_iter', iter], ['mhc_init_gate', gate]] as const).find(([, v]) => v !== undefined);
    if (given) throw new UserError(`--${given[0]}: mHC is off${flag === false ? ' (--mhc false)' : ''}; turn it on with --mhc or --mhc_expansion_rate`);
    return null;
  }
  if (options.normFirst === false) throw new UserError('--norm_first false: mHC variants use pre-LN blocks (leave --norm_first out or set it true)');
  const cfg: MHCConfig = {
    expansionRate: rate === undefined ? MHC_DEFAULTS.expansionRate : Number(rate),
    sinkhornIter: iter === undefined ? MHC_DEFAULTS.sinkhornIter : Number(iter),
    initGate: gate === undefined ? MHC_DEFAULTS.initGate : Number(gate),
  };
  if (!(Number.isInteger(cfg.expansionRate) && cfg.expansionRate >= 1)) throw new UserError(`--mhc_expansion_rate: expected a positive integer, got ${cfg.expansionRate}`);
  if (!(Number.isInteger(cfg.sinkhornIter) && cfg.sinkhornIter >= 1)) throw new UserError(`--mhc_sinkhorn_iter: expected a positive integer, got ${cfg.sinkhornIter}`);
  if (!Number.isFinite(cfg.initGate)) throw new UserError(`--mhc_init_gate: expected a finite number, got ${cfg.initGate}`);
  checkAtMost('mhc_expansion_rate', cfg.expansionRate, 64);
  checkAtMost('mhc_sinkhorn_iter', cfg.sinkhornIter, 10_000);
  return cfg;
}

/** Checkpoint config entries (none when mHC is off, so plain checkpoints are unchanged). */
export function mhcMetadata(mhc: MHCConfig | null | undefined): Record<string, unknown> {
  if (!mhc) return {};
  return { mhc: true, mhc_expansion_rate: mhc.expansionRate, mhc_sinkhorn_iter: mhc.sinkhornIter, mhc_init_gate: mhc.initGate };
}

/**
 * The mHC options of a checkpoint: from its config metadata, else (a foreign file) the expansion rate
 * read off `<prefix>0.attn.b_pre`'s shape, with the flags' Sinkhorn iterations / gate or the defaults.
 */
export function mhcOptionsFromCheckpoint(
  tensors: ReadonlyMap<string, { shape: number[] }>, config: Record<string, unknown> | undefined, options: TrainOptions, prefix = 'mhc_layers.',
): Record<string, unknown> {
  if (config) {
    if (config.mhc_expansion_rate === undefined || config.mhc_expansion_rate === null) return {};
    return { mhc: true, mhcExpansionRate: config.mhc_expansion_rate, mhcSinkhornIter: config.mhc_sinkhorn_iter, mhcInitGate: config.mhc_init_gate };
  }
  const bPre = tensors.get(`${prefix}0.attn.b_pre`);
  if (!bPre) return {};
  return { mhc: true, mhcExpansionRate: bPre.shape[0], mhcSinkhornIter: options.mhcSinkhornIter, mhcInitGate: options.mhcInitGate };
}
