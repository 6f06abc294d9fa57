/**
 * TiSASRec's options: TiSASRec.pytorch main.py's flags and defaults (maxlen 50, l2_emb 0.00005,
 * time_span 256), the mHC variant's, and the network configuration they give. Note l2_emb
 * multiplies Σ W² here (the fixtures' convention, as SASRec), where the reference multiplies the
 * unsquared norm.
 */
import { bool, choice, defineOptions, int, type ConfigOf } from '../../core/options.js';
import { lossOptions } from '../../losses/index.js';
import { attentionOptions, selfAttentiveConfig } from '../common/attention-options.js';
import { mhcConfig, mhcNeedsPreLN, mhcOptions } from '../common/mhc-options.js';
import type { TiSASRecConfig } from './tisasrec.js';

/** --time_unit names (keys of data/time.ts TIME_UNITS). */
export const TIME_UNIT_NAMES = ['none', 'seconds', 'minutes', 'hours', 'days'] as const;

export const tisasrecOptions = attentionOptions
  .withDefaults({ maxlen: 50, l2Emb: 0.00005 })
  .with(lossOptions)
  .with(mhcOptions)
  .with(
    defineOptions({
      time_span: int({ help: 'clip relative time intervals at this many (per-user scaled) units', default: 256, min: 0, max: 1_000_000 }),
      time_unit: choice(TIME_UNIT_NAMES, {
        help:
          "none (as the reference) | seconds | minutes | hours | days: raw unix-second timestamps are divided by this unit and rounded BEFORE the reference's " +
          "per-user scaling (each user's times divided by the user's smallest non-zero gap). The unit cancels in that division, so it acts through the " +
          "rounding: events within one unit become simultaneous and a user's time step is at least one unit",
        default: 'none',
      }),
      use_time: bool({ help: "the reference's switch to TiSASRec: implied by --model tisasrec (false is an error)" }),
    }),
  )
  .rule(mhcNeedsPreLN)
  .rule((c, name) =>
    c.normFirst === true && mhcConfig(c) === null
      ? ['norm_first', `TiSASRec has no pre-LN variant (TiSASRec.pytorch has none); only its mHC variant (${name('mhc')}) uses pre-LN blocks`]
      : undefined,
  )
  .rule((c) => (c.useTime === false ? ['use_time', 'false contradicts --model tisasrec (use --model sasrec to ignore time)'] : undefined));

export type TiSASRecOptions = ConfigOf<typeof tisasrecOptions.options>;

/** The network's configuration for a catalogue of `itemNum` items. */
export function networkConfig(o: TiSASRecOptions, itemNum: number): TiSASRecConfig {
  return { ...selfAttentiveConfig(o, itemNum, false), timeSpan: o.timeSpan };
}
