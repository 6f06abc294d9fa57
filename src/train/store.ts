/** Moved to learn/store.ts (Node-free, shared with the browser); kept here for train/'s importers. */
export * from '../learn/store.js';
