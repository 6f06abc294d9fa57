import chromiumBinary from '@sparticuz/chromium';
import { type Browser, chromium } from 'playwright-core';

/**
 * @sparticuz/chromium's flags, less --disable-web-security: pages get a user's browser's
 * same-origin rules, and with them cross-origin isolation (which that flag turns off).
 */
const args = chromiumBinary.args.filter((a) => a !== '--disable-web-security');

/**
 * Headless Chromium for tests, from npm alone: @sparticuz/chromium ships the binary inside the
 * package (unpacked to the temp dir on first use), playwright-core drives it. Throws, never skips,
 * when it cannot start: a browser test that silently does not run proves nothing.
 */
export async function launchBrowser(): Promise<Browser> {
  let executablePath: string;
  try {
    executablePath = await chromiumBinary.executablePath();
  } catch (e) {
    throw new Error(`@sparticuz/chromium could not unpack its Chromium: ${(e as Error).message}`);
  }
  try {
    return await chromium.launch({ executablePath, args, headless: true });
  } catch (e) {
    throw new Error(`headless Chromium at ${executablePath} did not start: ${(e as Error).message}`);
  }
}
