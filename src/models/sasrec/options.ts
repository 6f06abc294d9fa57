/**
 * SASRec's options: the reference main.py's flags and defaults (maxlen 200, d 50, 2 blocks, 1 head,
 * dropout 0.2, post-LN), the mHC variant's, the paper's ablation switches (ablation.ts), and the
 * network configuration they give.
 */
import type { ConfigOf } from '../../core/options.js';
import { lossOptions } from '../../losses/index.js';
import { attentionOptions, selfAttentiveConfig } from '../common/attention-options.js';
import { mhcNeedsPreLN, mhcOptions } from '../common/mhc-options.js';
import { ablationConfig, ablationOptions, noResidualWithoutMHC } from './ablation.js';
import type { SASRecConfig } from './sasrec.js';

export const sasrecOptions = attentionOptions.with(lossOptions).with(mhcOptions).with(ablationOptions).rule(mhcNeedsPreLN).rule(noResidualWithoutMHC);

export type SASRecOptions = ConfigOf<typeof sasrecOptions.options>;

/** The network's configuration for a catalogue of `itemNum` items. */
export function networkConfig(o: SASRecOptions, itemNum: number): SASRecConfig {
  return { ...selfAttentiveConfig(o, itemNum, true), ...ablationConfig(o) };
}
