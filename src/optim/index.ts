export { Adam } from './adam.js';
export type { AdamOptions, AdamState } from './adam.js';
