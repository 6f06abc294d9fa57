/**
 * TiSASRec's options: TiSASRec.pytorch main.py's flags and defaults (maxlen 50, l2_emb 0.00005,
 * time_span 256), the mHC variant's, and the network configuration they give. Note l2_emb
 * multiplies Σ W² here (the fixtures' convention, as SASRec), where the reference multiplies the
 * unsquared norm.
 */
import { choice, defineOptions, int, type ConfigOf } from '../../core/options.js';
import { lossOptions } from '../../losses/index.js';
import { attentionOptions, selfAttentiveConfig } from '../common/attention-options.js';
import { mhcConfig, mhcNeedsPreLN, mhcOptions } from '../common/mhc-options.js';
import type { TiSASRecConfig } from './tisasrec.js';

/** --time_unit names (keys of data/time.ts TIME_UNITS; the singular ones are the reference variant's spelling). */
export const TIME_UNIT_NAMES = ['none', 'seconds', 'minutes', 'hours', 'days', 'second', 'minute', 'hour', 'day'] as const;

export const tisasrecOptions = attentionOptions
  .withDefaults({ maxlen: 50, l2Emb: 0.00005 })
  .with(lossOptions)
  .with(mhcOptions)
  .with(
    defineOptions({
      time_span: int({ help: 'clip relative time intervals at this many (per-user scaled) units', default: 256, min: 0, max: 1_000_000 }),
      time_unit: choice(TIME_UNIT_NAMES, {
        help:
          "none (as the reference) | seconds | minutes | hours | days (or second, minute, hour, day): raw unix-second timestamps are divided by this unit and rounded BEFORE the reference's " +
          "per-user scaling (each user's times divided by the user's smallest non-zero gap). The unit cancels in that division, so it acts through the " +
          "rounding: events within one unit become simultaneous and a user's time step is at least one unit",
        default: 'none',
      }),
    }),
  )
  .rule(mhcNeedsPreLN)
  .rule((c, name) =>
    c.normFirst === true && mhcConfig(c) === null
      ? ['norm_first', `TiSASRec has no pre-LN variant (TiSASRec.pytorch has none); only its mHC variant (${name('mhc')}) uses pre-LN blocks`]
      : undefined,
  );

export type TiSASRecOptions = ConfigOf<typeof tisasrecOptions.options>;

/** The network's configuration for a catalogue of `itemNum` items. */
export function networkConfig(o: TiSASRecOptions, itemNum: number): TiSASRecConfig {
  return { ...selfAttentiveConfig(o, itemNum, false), timeSpan: o.timeSpan };
}
