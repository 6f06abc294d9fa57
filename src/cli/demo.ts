import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { UserError } from '../core/errors.js';
import { defineOptions, int, str } from '../core/options.js';
import { addOptions, commandGroups } from './flags.js';

const demoOptions = defineOptions({
  host: str({ help: 'address to listen on (the page is meant for this machine only)', default: '127.0.0.1', arg: 'host' }),
  port: int({ help: 'port to listen on (0: any free port)', default: 8090, min: 0, max: 65535 }),
});

/** Where `npm run build:browser` writes the page: dist/demo/ of the package (from src/cli or dist/cli alike). */
export const demoDir = fileURLToPath(new URL('../../dist/demo/', import.meta.url));

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.safetensors': 'application/octet-stream',
};

/**
 * Cross-origin isolation: with these headers the page may share its wasm memory with Web Workers,
 * and the kernels run on a thread pool (without them, on one thread). Static hosts need the same
 * headers; the build writes them to dist/demo/_headers (Netlify, Cloudflare Pages).
 */
export const isolationHeaders = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
} as const;

/** Serves the built demo page in `dir` (GET only, files directly in it); resolves once listening. */
export async function startDemoServer(dir: string, port: number, host: string): Promise<{ server: Server; url: string }> {
  if (!existsSync(join(dir, 'index.html')) || !existsSync(join(dir, 'demo.js'))) {
    throw new UserError(`demo: the page is not built (${dir} has no index.html/demo.js); build it with \`npm run build:browser\``);
  }
  const root = resolve(dir);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = resolve(root, `.${path === '/' ? '/index.html' : path}`);
    const type = contentTypes[extname(file)];
    if (req.method !== 'GET' || !file.startsWith(root + sep) || !type || !existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': type, ...isolationHeaders }).end(readFileSync(file));
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => fail(new UserError(`demo: cannot listen on ${host}:${port} (${e.code ?? e.message})`)));
    server.listen(port, host, ok);
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { server, url: `http://${shownHost}:${address.port}/` };
}

export function register(program: Command): void {
  const cmd = program
    .command('demo')
    .description(
      'serve the demo page (built by `npm run build:browser` into dist/demo/) on loopback: load a model file or the bundled ' +
        'SASRec-on-Games model, build a history by searching items, and watch the top-10 update; everything runs in the browser',
    );
  addOptions(cmd, commandGroups(demoOptions));
  cmd.action(async (opts: Record<string, unknown>) => {
    const o = demoOptions.parse(opts);
    const { server, url } = await startDemoServer(demoDir, o.port, o.host);
    process.stdout.write(`seqrec demo: open ${url} (Ctrl-C stops)\n`);
    await new Promise<void>((done) => {
      const stop = () => server.close(() => done());
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
  });
}
