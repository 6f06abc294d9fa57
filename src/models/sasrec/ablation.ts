/**
 * The SASRec paper's ablations (Section IV-E, Table IV) as switches, all off by default: the network
 * without them is the reference's, bit for bit. "Remove dropout" is --dropout_rate 0, "0 / 1 / 3
 * blocks" --num_blocks, "multi-head" --num_heads 2; these are the three that need their own switch.
 */
import { bool, defineOptions } from '../../core/options.js';
import type { Rule } from '../../core/options.js';
import { mhcConfig } from '../common/mhc-options.js';

export const ablationOptions = defineOptions({
  no_position_emb: bool({ help: 'ablation "Remove PE": no positional embedding is added (pos_emb.weight stays in the file, unused)' }),
  unshared_item_emb: bool({
    help: 'ablation "Unshared IE": the logits score against a separate output item table (tensor output_item_emb.weight)',
  }),
  no_residual: bool({ help: 'ablation "Remove RC": the blocks have no residual connections' }),
});

/** The ablations a network configuration carries (absent: off). */
export interface AblationConfig {
  noPositionEmb?: boolean;
  unsharedItemEmb?: boolean;
  noResidual?: boolean;
}

/** The switches with their defaults. */
export function ablationConfig(o: AblationConfig): Required<AblationConfig> {
  return { noPositionEmb: o.noPositionEmb ?? false, unsharedItemEmb: o.unsharedItemEmb ?? false, noResidual: o.noResidual ?? false };
}

/** mHC's streams are residual connections: removing them is a different network. */
export const noResidualWithoutMHC: Rule<AblationConfig & Parameters<typeof mhcConfig>[0]> = (c, name) =>
  c.noResidual === true && mhcConfig(c) !== null
    ? ['no_residual', `cannot be combined with mHC (${name('mhc')}): its streams are the residual connections`]
    : undefined;

/** The switches' entries in a checkpoint's `config`: only those that are on (a default file is unchanged). */
export function ablationMetadata(c: AblationConfig): Record<string, boolean> {
  const a = ablationConfig(c);
  const out: Record<string, boolean> = {};
  if (a.noPositionEmb) out.no_position_emb = true;
  if (a.unsharedItemEmb) out.unshared_item_emb = true;
  if (a.noResidual) out.no_residual = true;
  return out;
}
