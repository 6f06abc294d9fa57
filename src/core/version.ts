/** The package version (kept equal to package.json's by test/core-version.test.ts). */
export const VERSION = '0.1.0';
