export { Adam } from './adam.js';
export type { AdamOptions, AdamState } from './adam.js';
export { checkSchedule, isConstant, lrAt } from './schedule.js';
export type { LrSchedule } from './schedule.js';
