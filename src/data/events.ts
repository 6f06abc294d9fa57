/** A dataset from events held in memory (the library's way in, beside the file readers). */
import { quote, UserError } from '../core/errors.js';
import { EventLog } from './eventlog.js';
import type { Interactions } from './types.js';

/** One interaction: who touched which item, and when (any number that orders a user's events). */
export interface Event {
  /** the user's id, kept as the original id */
  readonly user: string | number;
  /** the item's id, kept as the original id */
  readonly item: string | number;
  /** when (unix seconds for time-aware models, else any increasing number); none: the given order */
  readonly time?: number;
}

function id(v: unknown, what: string, i: number): string {
  if ((typeof v === 'string' && v !== '') || (typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER))
    return String(v);
  // beyond 2^53 two ids can be the same double: such ids must be given as strings
  throw new UserError(
    `events[${i}]: ${what} must be a non-empty string or a finite number below 2^53 (give larger ids as strings), got ${quote(JSON.stringify(v))}`,
  );
}

/**
 * Interactions from events: ids are mapped to dense 1..N (in ascending order of the original ids, as
 * the file readers do) and each user's events are put in time order (stable for ties). Either every
 * event has a time or none has; without times the given order is the users' order.
 */
export function fromEvents(events: Iterable<Event>): Interactions {
  let log: EventLog | undefined;
  let i = 0;
  for (const e of events) {
    if (typeof e !== 'object' || e === null) throw new UserError(`events[${i}]: expected {user, item, time?}, got ${quote(JSON.stringify(e))}`);
    const timed = e.time !== undefined;
    log ??= new EventLog(timed);
    if (timed !== log.hasTime) throw new UserError(`events[${i}]: give a time for every event or for none`);
    if (timed && !(typeof e.time === 'number' && Number.isFinite(e.time)))
      throw new UserError(`events[${i}]: time must be a finite number, got ${quote(JSON.stringify(e.time))}`);
    log.push(id(e.user, 'user', i), id(e.item, 'item', i), e.time ?? 0);
    i++;
  }
  if (!log) throw new UserError('no events');
  return log.finish();
}
