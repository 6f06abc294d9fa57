import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';

export const demoModelPath = 'demo/games-sasrec.safetensors';

/** The demo page as scripts/build-browser.mjs lays it out in dist/demo/, built into `out` from the sources under test. */
export async function buildDemoPage(out: string): Promise<string> {
  mkdirSync(out, { recursive: true });
  const bundle = (entry: string, file: string) =>
    build({
      entryPoints: [entry],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      outfile: join(out, file),
      logLevel: 'warning',
    });
  await bundle('src/browser/demo/main.ts', 'demo.js');
  await bundle('src/browser/train-worker.ts', 'train-worker.js');
  copyFileSync('src/browser/demo/index.html', join(out, 'index.html'));
  copyFileSync(demoModelPath, join(out, 'games-sasrec.safetensors'));
  return out;
}

/** A tab of the demo page at a fixed viewport, with every console error and page error collected. */
export async function openDemo(browser: Browser, url: string): Promise<{ tab: Page; errors: string[] }> {
  const tab = await browser.newPage({ viewport: { width: 1100, height: 900 }, deviceScaleFactor: 1 });
  const errors: string[] = [];
  tab.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  tab.on('pageerror', (e) => errors.push(e.message));
  await tab.goto(url);
  await tab.evaluate(() => (window as unknown as { seqrecDemo: { ready: Promise<void> } }).seqrecDemo.ready);
  return { tab, errors };
}

/** Builds a history the way a user does: type each id into the search box and click the match. */
export async function clickHistory(tab: Page, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    await tab.fill('#search', id);
    await tab.click(`#results button[data-item="${id}"]`);
  }
}

export interface ImageDifference {
  width: [number, number];
  height: [number, number];
  /** Mean absolute difference over all RGB channels, 0–255. */
  meanAbsolute: number;
  /** Share of pixels with some channel differing by more than 48 of 255. */
  changedShare: number;
}

/**
 * Compares two PNGs pixel by pixel with the browser's own decoder (a canvas in `tab`, which is left
 * as it was), so no image library is needed.
 */
export async function comparePngs(tab: Page, a: Buffer, b: Buffer): Promise<ImageDifference> {
  return await tab.evaluate(
    async ([a64, b64]) => {
      // anonymous functions only: a named one would carry tsx's __name helper into the page
      const [x, y] = await Promise.all(
        [a64, b64].map(async (data) => {
          const image = new Image();
          image.src = `data:image/png;base64,${data}`;
          await image.decode();
          const canvas = document.createElement('canvas');
          canvas.width = image.width;
          canvas.height = image.height;
          const context = canvas.getContext('2d') as CanvasRenderingContext2D;
          context.drawImage(image, 0, 0);
          return { width: image.width, height: image.height, data: context.getImageData(0, 0, image.width, image.height).data };
        }),
      );
      const width: [number, number] = [x.width, y.width];
      const height: [number, number] = [x.height, y.height];
      if (x.width !== y.width || x.height !== y.height) return { width, height, meanAbsolute: 255, changedShare: 1 };
      let sum = 0;
      let changed = 0;
      for (let p = 0; p < x.data.length; p += 4) {
        let most = 0;
        for (let c = 0; c < 3; c++) {
          const d = Math.abs(x.data[p + c] - y.data[p + c]);
          sum += d;
          most = Math.max(most, d);
        }
        if (most > 48) changed++;
      }
      const n = x.data.length / 4;
      return { width, height, meanAbsolute: sum / (3 * n), changedShare: changed / n };
    },
    [a.toString('base64'), b.toString('base64')] as const,
  );
}
