import { choice, defineOptions, int, str } from '../core/options.js';

/** The flags of `seqrec serve`, declared once. */
export const serveOptions = defineOptions({
  model_dir: str({
    help: 'a model file, a run directory holding one, or a directory of run directories / model files (each served under its name)',
    arg: 'path',
  }),
  models: str({ help: 'models to serve as name=path pairs separated by commas (besides or instead of --model_dir)', arg: 'list' }),
  host: str({ help: 'address to listen on', default: '127.0.0.1', arg: 'host' }),
  port: int({ help: 'port to listen on (0: any free port)', default: 8080, min: 0, max: 65535 }),
  max_batch: int({
    help: 'dynamic batching: at most this many concurrent histories scored in one call (1: no batching)',
    default: 32,
    min: 1,
    max: 4096,
  }),
  workers: int({
    help: 'processes serving the port (node:cluster), each with its own copy of the models; SIGHUP / SIGTERM reach all; /metrics counts the worker that answers',
    default: 1,
    min: 1,
    max: 64,
  }),
  max_wait_ms: int({ help: 'dynamic batching: how long a request may wait for others to join its batch', default: 2, min: 0, max: 1000 }),
  max_k: int({ help: 'the largest k a request may ask for', default: 1000, min: 1 }),
  max_history: int({ help: 'the most items a request history (or exclude list) may hold', default: 10000, min: 1 }),
  max_batch_request: int({ help: 'the most queries one /v1/recommend/batch request may hold', default: 1000, min: 1 }),
  body_limit: int({ help: 'the largest request body in bytes (larger: 413)', default: 1048576, min: 1024 }),
  request_timeout_ms: int({ help: 'a request not answered within this time is closed', default: 10000, min: 1 }),
  unknown_items: choice(['drop', 'error'] as const, {
    help: 'item ids a model does not know in a history: drop them or answer 400 (drop | error)',
    default: 'error',
  }),
  reload_poll_ms: int({ help: 'how often model files are checked for replacement (0: only on SIGHUP)', default: 2000, min: 0 }),
  log_level: choice(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, {
    help: 'log level of the request log (pino, JSON on stdout)',
    default: 'info',
  }),
});

export type ServeConfig = ReturnType<typeof serveOptions.parse>;
