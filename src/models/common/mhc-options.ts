/**
 * The mHC options of the self-attention models (nn/mhc.ts, docs/mhc.md): `--mhc` (off by default),
 * `--mhc_expansion_rate n` (giving it turns mHC on), `--mhc_sinkhorn_iter`, `--mhc_init_gate`, and the
 * reference's `--no_mhc` (off, whatever the others say); and their checkpoint `config` metadata (the
 * same snake_case names). mHC variants use pre-LN blocks.
 */
import { bool, defineOptions, int, num, type Rule } from '../../core/options.js';
import { MHC_DEFAULTS, type MHCConfig } from '../../nn/mhc.js';

export const mhcOptions = defineOptions({
  mhc: bool({
    help: 'manifold-constrained hyper-connections (mHC, arXiv 2512.24880): n residual streams mixed by doubly stochastic matrices; implies pre-LN blocks (off by default)',
  }),
  mhc_expansion_rate: int({
    help: `mHC: number of residual streams (default ${MHC_DEFAULTS.expansionRate}; giving it turns mHC on)`,
    min: 1,
    max: 64,
  }),
  mhc_sinkhorn_iter: int({ help: `mHC: Sinkhorn-Knopp iterations (default ${MHC_DEFAULTS.sinkhornIter})`, min: 1, max: 10_000 }),
  mhc_init_gate: num({ help: `mHC: initial value of the gates α (default ${MHC_DEFAULTS.initGate})` }),
  no_mhc: bool({
    help: "the reference's switch to the plain model: mHC off, whatever --mhc_expansion_rate, --mhc_sinkhorn_iter and --mhc_init_gate say (the reference's meaning: its mHC flags always have values)",
  }),
})
  .rule((c, name) => (c.noMhc === true && c.mhc === true ? ['no_mhc', `cannot be combined with ${name('mhc')} true`] : undefined))
  .rule((c, name) => {
    if (mhcOn(c) || c.noMhc === true) return undefined;
    const given = (['mhc_expansion_rate', 'mhc_sinkhorn_iter', 'mhc_init_gate'] as const).find(
      (o) => ({ mhc_expansion_rate: c.mhcExpansionRate, mhc_sinkhorn_iter: c.mhcSinkhornIter, mhc_init_gate: c.mhcInitGate })[o] !== undefined,
    );
    return given
      ? [given, `mHC is off${c.mhc === false ? ` (${name('mhc')} false)` : ''}; turn it on with ${name('mhc')} or ${name('mhc_expansion_rate')}`]
      : undefined;
  });

interface MHCOptionValues {
  readonly mhc?: boolean;
  readonly noMhc?: boolean;
  readonly mhcExpansionRate?: number;
  readonly mhcSinkhornIter?: number;
  readonly mhcInitGate?: number;
}

function mhcOn(c: MHCOptionValues): boolean {
  if (c.noMhc === true) return false;
  return c.mhc === true || (c.mhc === undefined && c.mhcExpansionRate !== undefined);
}

/** mHC variants use pre-LN blocks: an explicit `norm_first false` with mHC is refused. */
export const mhcNeedsPreLN: Rule<MHCOptionValues & { readonly normFirst?: boolean }> = (c, name) =>
  mhcOn(c) && c.normFirst === false
    ? ['norm_first', `false: mHC variants use pre-LN blocks (leave ${name('norm_first')} out or set it true)`]
    : undefined;

/** The mHC settings the options ask for, or null when mHC is off. */
export function mhcConfig(c: MHCOptionValues): MHCConfig | null {
  if (!mhcOn(c)) return null;
  return {
    expansionRate: c.mhcExpansionRate ?? MHC_DEFAULTS.expansionRate,
    sinkhornIter: c.mhcSinkhornIter ?? MHC_DEFAULTS.sinkhornIter,
    initGate: c.mhcInitGate ?? MHC_DEFAULTS.initGate,
  };
}

/** Checkpoint config entries (none when mHC is off, so plain checkpoints are unchanged). */
export function mhcMetadata(mhc: MHCConfig | null | undefined): Record<string, unknown> {
  if (!mhc) return {};
  return { mhc: true, mhc_expansion_rate: mhc.expansionRate, mhc_sinkhorn_iter: mhc.sinkhornIter, mhc_init_gate: mhc.initGate };
}

/**
 * What a foreign file's tensors say of mHC (a seqrec file says it in its config metadata): on, with
 * the expansion rate read off `<prefix>0.attn.b_pre`'s shape, when the file has hyper-connections.
 */
export function mhcFromTensors(tensors: ReadonlyMap<string, { shape: number[] }>, prefix = 'mhc_layers.'): Record<string, unknown> {
  const bPre = tensors.get(`${prefix}0.attn.b_pre`);
  return bPre ? { mhc: true, mhc_expansion_rate: bPre.shape[0] } : {};
}

/** The mHC part of a model's training-log line ('' when off). */
export function describeMHC(mhc: MHCConfig | null | undefined): string {
  return mhc ? `, mHC ${mhc.expansionRate} streams (Sinkhorn ${mhc.sinkhornIter}, gate ${mhc.initGate}, pre-LN)` : '';
}
