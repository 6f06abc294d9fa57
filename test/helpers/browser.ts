import chromiumBinary from '@sparticuz/chromium';
import { type Browser, chromium, type Page } from 'playwright-core';

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

/**
 * Opens `url` in a fresh headless Chromium tab, waits for the page's `window.ready`, runs `fn` on
 * it and returns its result with the console errors and page errors the tab saw; the browser is
 * closed either way.
 */
export async function inTab<T>(url: string, fn: (tab: Page) => Promise<T>): Promise<{ result: T; errors: string[] }> {
  const browser = await launchBrowser();
  try {
    const tab = await browser.newPage();
    const errors: string[] = [];
    tab.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    tab.on('pageerror', (e) => errors.push(e.message));
    await tab.goto(url);
    await tab.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    return { result: await fn(tab), errors };
  } finally {
    await browser.close();
  }
}
