/** Moved to learn/selection.ts (Node-free, shared with the browser); kept here for train/'s importers. */
export * from '../learn/selection.js';
