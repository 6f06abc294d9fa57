/** Tiny models saved in run directories, and a server on an ephemeral loopback port, for the serve tests. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fromEvents, type Event } from '../../src/api/dataset.js';
import { saveModel } from '../../src/api/model-file.js';
import { train } from '../../src/api/train.js';
import type { ModelSource } from '../../src/serve/model-sources.js';
import { type Server, type ServerSettings, startServer } from '../../src/serve/server.js';

/** A synthetic log: users "1".."30" each walk a cycle of items "1".."40" from their own start. */
export function syntheticEvents(shift = 0): Event[] {
  const events: Event[] = [];
  for (let u = 1; u <= 30; u++) {
    for (let j = 0; j < 8; j++) events.push({ user: String(u), item: String(((u * 3 + j * (1 + shift)) % 40) + 1), time: 1000 * j });
  }
  return events;
}

/** Trains `model` (pop, or a 1-epoch tiny sasrec) on the synthetic log and saves it as dir/name/file. */
export async function trainTiny(dir: string, name: string, model: 'pop' | 'sasrec', seed = 1, shift = 0): Promise<string> {
  const data = fromEvents(syntheticEvents(shift));
  const options =
    model === 'pop'
      ? { model }
      : { model, seed, numEpochs: 1, maxlen: 8, hiddenUnits: 16, numBlocks: 1, numHeads: 2, batchSize: 16, evalEvery: 1000 };
  const m = await train(data, options);
  const runDir = join(dir, name);
  mkdirSync(runDir, { recursive: true });
  const path = join(runDir, model === 'pop' ? 'poprec.json' : 'sasrec.safetensors');
  await saveModel(m, path);
  m.dispose();
  return path;
}

export const testSettings: ServerSettings = {
  maxBatch: 1,
  maxWaitMs: 0,
  maxK: 50,
  maxHistory: 100,
  maxBatchRequest: 64,
  bodyLimit: 4096,
  requestTimeoutMs: 5000,
  unknownItems: 'error',
  reloadPollMs: 0,
  logLevel: 'silent',
};

/** A started server and its base URL. */
export async function serveOn(sources: readonly ModelSource[], settings: Partial<ServerSettings> = {}): Promise<{ server: Server; url: string }> {
  const server = await startServer(sources, { ...testSettings, ...settings });
  const address = await server.app.listen({ port: 0, host: '127.0.0.1' });
  return { server, url: address };
}

/** A JSON answer of the server: a recommendation, a batch's, or an error. */
export interface ServeReply {
  readonly model: string;
  readonly items: Array<{ item: string; score: number }>;
  readonly results: ServeReply[];
  readonly error: string;
}

/** POSTs JSON; the status and the parsed body. */
export async function post(url: string, body: unknown): Promise<{ status: number; body: ServeReply }> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as ServeReply };
}
