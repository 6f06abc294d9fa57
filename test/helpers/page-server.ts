import { createServer, type OutgoingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';

/** A file a test page fetches: its body and content type. */
export type PageFile = readonly [body: Uint8Array | string, contentType: string];

/** The headers that make a page cross-origin isolated (shared memory with its workers). */
export const ISOLATION_HEADERS: OutgoingHttpHeaders = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
};

/** Serves `files` (path → body, content type) with `headers` on an ephemeral loopback port. */
export async function servePage(files: ReadonlyMap<string, PageFile>, headers: OutgoingHttpHeaders = {}): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const file = files.get(req.url ?? '');
    if (!file) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': file[1], ...headers }).end(file[0]);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** `entry` bundled for browsers as one ESM file, in memory. */
export async function bundleForBrowser(entry: string): Promise<Uint8Array> {
  const out = await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false });
  return out.outputFiles[0].contents;
}
