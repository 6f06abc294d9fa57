/** The next-item training losses, by their --loss name. */
import { bceLoss } from './bce.js';
import type { NextItemLoss } from './types.js';

export type { NextItemLoss, NextItemTargets } from './types.js';
export { bceLoss } from './bce.js';

export const LOSSES = { bce: bceLoss } as const satisfies Record<string, NextItemLoss>;

export type LossName = keyof typeof LOSSES;

export const LOSS_NAMES = Object.keys(LOSSES) as LossName[];
