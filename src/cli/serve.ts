import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { choice, defineOptions, int, str } from '../core/options.js';
import { UserError } from '../core/errors.js';
import { ModelSet } from '../serve/models.js';
import { buildServer } from '../serve/server.js';
import { addOptions, commandGroups } from './flags.js';

const serveOptions = defineOptions({
  model_dir: str({ help: "folder of model files, or of run folders (each served under the folder's name)", arg: 'dir' }),
  host: str({ help: 'address to listen on (127.0.0.1: this machine only; 0.0.0.0: every interface)', default: '127.0.0.1', arg: 'addr' }),
  port: int({ help: 'port to listen on (0: any free port, printed at start)', default: 8080, min: 0, max: 65535 }),
  max_batch: int({ help: 'dynamic batching: at most this many concurrent queries scored in one call (1: off)', default: 32, min: 1, max: 4096 }),
  max_wait_ms: int({ help: 'dynamic batching: how long the first query of a batch waits for others', default: 2, min: 0, max: 1000 }),
  unknown_items: choice(['drop', 'error'] as const, {
    help: 'history items the model does not know: dropped (listed in the answer) or a 400',
    default: 'drop',
  }),
  k: int({ help: 'recommendations per query when the request gives no "k"', default: 10, min: 1, max: 1000 }),
  max_k: int({ help: 'the largest "k" a request may ask for', default: 1000, min: 1, max: 100_000 }),
  max_items: int({ help: 'the longest history or exclude list a request may give', default: 10_000, min: 1, max: 1_000_000 }),
  max_batch_requests: int({ help: 'the most queries one /v1/recommend/batch request may hold', default: 1000, min: 1, max: 100_000 }),
  body_limit_kb: int({ help: 'the largest request body (KiB); larger ones get a 413', default: 1024, min: 1, max: 1_048_576 }),
  request_timeout_ms: int({ help: 'a request not answered within this is cut off', default: 10_000, min: 100, max: 600_000 }),
  watch_seconds: int({
    help: 'check the model files for changes every N seconds and reload a changed one (0: only on SIGHUP)',
    default: 2,
    min: 0,
    max: 3600,
  }),
  log_level: choice(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, {
    help: 'request log level (JSON lines on stdout, with request ids)',
    default: 'info',
  }),
});

/** A file's change stamp (size and mtime), or '' when it cannot be read. */
function stamp(path: string): string {
  try {
    const s = statSync(path);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return '';
  }
}

export function register(program: Command): void {
  const cmd = program
    .command('serve')
    .description(
      'serve the models of --model_dir over HTTP: POST /v1/recommend {"user"} or {"history", "times"?, "k"?, "exclude"?, "model"?}, ' +
        'POST /v1/recommend/batch {"requests": [...]}, GET /v1/models, /healthz, /readyz, /metrics (Prometheus). A model file ' +
        'replaced on disk, or SIGHUP, reloads without failing requests in flight; SIGTERM drains them and exits 0',
    );
  addOptions(cmd, commandGroups(serveOptions));
  cmd.action(async (opts: Record<string, unknown>) => {
    const o = serveOptions.parse(opts);
    if (o.modelDir === undefined) throw new UserError('serve: --model_dir is required');
    const say = (line: string) => void process.stderr.write(`${line}\n`);
    const models = await ModelSet.fromDir(o.modelDir);
    const { app, notReady } = await buildServer(models, {
      maxBatch: o.maxBatch,
      maxWaitMs: o.maxWaitMs,
      unknownItems: o.unknownItems,
      defaultK: o.k,
      maxK: o.maxK,
      maxItems: o.maxItems,
      maxBatchRequests: o.maxBatchRequests,
      bodyLimitBytes: o.bodyLimitKb * 1024,
      logLevel: o.logLevel,
      requestTimeoutMs: o.requestTimeoutMs,
    });
    let address: string;
    try {
      address = await app.listen({ host: o.host, port: o.port });
    } catch (e) {
      models.close();
      throw new UserError(`serve: cannot listen on ${o.host}:${o.port} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    say(`seqrec serve: ${models.names.length} model${models.names.length > 1 ? 's' : ''} (${models.names.join(', ')}) on ${address}`);

    const reload = async (why: string) => {
      const failed = await models.reloadAll();
      say(
        `seqrec serve: ${why}: reloaded ${models.names.length - failed.length} of ${models.names.length}${failed.map((f) => `; ${f.name} kept (${f.error})`).join('')}`,
      );
    };
    process.on('SIGHUP', () => void reload('SIGHUP'));
    const stamps = new Map(models.list().map((s) => [s.name, stamp(s.path)]));
    const watcher =
      o.watchSeconds > 0
        ? setInterval(async () => {
            for (const s of models.list()) {
              const now = stamp(s.path);
              if (now === '' || now === stamps.get(s.name)) continue;
              stamps.set(s.name, now);
              try {
                await models.load(s.name, s.path);
                say(`seqrec serve: ${s.path} changed: ${s.name} reloaded`);
              } catch (e) {
                say(
                  `seqrec serve: ${s.path} changed but did not load (${e instanceof Error ? e.message : String(e)}); still serving the previous one`,
                );
              }
            }
          }, o.watchSeconds * 1000)
        : undefined;
    watcher?.unref();

    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      notReady();
      say(`seqrec serve: ${signal}: draining requests in flight, then exiting`);
      if (watcher) clearInterval(watcher);
      await app.close();
      models.close();
      process.exit(0);
    };
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
    await new Promise<never>(() => {}); // runs until a signal
  });
}
