/** Moved to learn/options.ts (Node-free, shared with the browser); kept here for train/'s importers. */
export * from '../learn/options.js';
