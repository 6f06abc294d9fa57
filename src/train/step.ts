/** Moved to learn/step.ts (Node-free, shared with the browser); kept here for train/'s importers. */
export * from '../learn/step.js';
