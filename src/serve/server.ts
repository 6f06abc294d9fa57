/**
 * `seqrec serve`'s HTTP server (Fastify): top-K recommendations from the served models, their list,
 * health, readiness and Prometheus metrics. Every request body is checked against a JSON schema; bad
 * input is a 400 with a one-line reason, a body over the limit a 413, never a 500.
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { UserError } from '../core/errors.js';
import { VERSION } from '../core/version.js';
import { Batcher } from './batcher.js';
import type { ModelSet, ServedModel } from './models.js';
import { type RecommendBody, toQuery, type UnknownItems } from './queries.js';

export interface ServerOptions {
  readonly maxBatch: number;
  readonly maxWaitMs: number;
  readonly unknownItems: UnknownItems;
  readonly defaultK: number;
  readonly maxK: number;
  /** the longest history (and exclude list) a request may give */
  readonly maxItems: number;
  /** the most requests in one batch call */
  readonly maxBatchRequests: number;
  readonly bodyLimitBytes: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly requestTimeoutMs: number;
}

const ID = { anyOf: [{ type: 'string', minLength: 1, maxLength: 256 }, { type: 'integer' }] };

function singleSchema(o: ServerOptions) {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      user: ID,
      history: { type: 'array', items: ID, maxItems: o.maxItems },
      times: { type: 'array', items: { type: 'number' }, maxItems: o.maxItems },
      k: { type: 'integer', minimum: 1, maximum: o.maxK },
      exclude: { type: 'array', items: ID, maxItems: o.maxItems },
      model: { type: 'string', minLength: 1, maxLength: 256 },
    },
  };
}

const RESULT = {
  type: 'object',
  properties: {
    model: { type: 'string' },
    items: { type: 'array', items: { type: 'object', properties: { item: { type: 'string' }, score: { type: 'number' } } } },
    dropped: { type: 'array', items: { type: 'string' } },
  },
};

/** The metrics of a server, on their own registry. */
function serverMetrics() {
  const registry = new Registry();
  return {
    registry,
    requests: new Counter({
      name: 'seqrec_requests_total',
      help: 'requests by route, model and status',
      labelNames: ['route', 'model', 'status'],
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'seqrec_request_duration_seconds',
      help: 'request latency by route and model',
      labelNames: ['route', 'model'],
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2],
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'seqrec_batch_size',
      help: 'queries scored together by the dynamic batcher',
      labelNames: ['model'],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers: [registry],
    }),
    loadSeconds: new Gauge({
      name: 'seqrec_model_load_seconds',
      help: 'seconds the model took to load',
      labelNames: ['model'],
      registers: [registry],
    }),
  };
}

/** The first line of a validation or parse error, in the body's terms. */
function reasonOf(err: FastifyError): string {
  if (err.validation && err.validation.length > 0) {
    const v = err.validation[0];
    const where = (v.instancePath || '').replace(/^\//, '').replace(/\//g, '.') || 'body';
    const extra = (v.params as { additionalProperty?: string }).additionalProperty;
    return extra !== undefined ? `${where}: unknown field ${JSON.stringify(extra)}` : `${where}: ${v.message ?? 'invalid'}`;
  }
  return err.message.split('\n')[0];
}

/** The server, and how to turn /readyz to 503 while it drains before closing. */
export interface Server {
  readonly app: FastifyInstance;
  notReady(): void;
}

export async function buildServer(models: ModelSet, o: ServerOptions): Promise<Server> {
  const app = Fastify({
    logger: o.logLevel === 'silent' ? false : { level: o.logLevel },
    bodyLimit: o.bodyLimitBytes,
    requestTimeout: o.requestTimeoutMs,
    requestIdHeader: 'x-request-id',
    ajv: { customOptions: { allErrors: false, coerceTypes: false, removeAdditional: false } },
  });
  const m = serverMetrics();
  for (const s of models.list()) m.loadSeconds.set({ model: s.name }, s.loadSeconds);
  const batchers = new WeakMap<ServedModel, Batcher>();
  const batcherOf = (s: ServedModel) => {
    let b = batchers.get(s);
    if (!b) {
      b = new Batcher(s.model.scorer, o.maxBatch, o.maxWaitMs, (n) => m.batchSize.observe({ model: s.name }, n));
      batchers.set(s, b);
    }
    return b;
  };
  let ready = true;

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof UserError) return reply.code(400).send({ error: err.message });
    if (err.validation) return reply.code(400).send({ error: reasonOf(err) });
    if (err.statusCode === 413 || err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return reply.code(413).send({ error: `body over the limit of ${o.bodyLimitBytes} bytes` });
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500)
      return reply.code(err.statusCode).send({ error: reasonOf(err) });
    req.log.error(err);
    return reply.code(500).send({ error: 'internal error' });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}` }));
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unknown';
    const model = (req as { servedModel?: string }).servedModel ?? '';
    m.requests.inc({ route, model, status: String(reply.statusCode) });
    m.latency.observe({ route, model }, reply.elapsedTime / 1000);
  });

  /** One query answered by the model it names (or the only one). */
  async function answer(body: RecommendBody, fallbackModel: string | undefined, req: object) {
    const served = models.acquire(body.model ?? fallbackModel);
    (req as { servedModel?: string }).servedModel = served.name;
    try {
      const q = toQuery(served.model, body, o.unknownItems, o.defaultK);
      const ranked = await batcherOf(served).submit(q);
      const raw = served.model.items.toRaw;
      return {
        model: served.name,
        items: ranked.items.map((r) => ({ item: raw[r.item], score: r.score })),
        ...(q.dropped.length > 0 ? { dropped: q.dropped } : {}),
      };
    } finally {
      models.release(served);
    }
  }

  app.post('/v1/recommend', { schema: { body: singleSchema(o), response: { 200: RESULT } } }, async (req) =>
    answer(req.body as RecommendBody, undefined, req),
  );

  app.post(
    '/v1/recommend/batch',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['requests'],
          properties: {
            requests: { type: 'array', items: singleSchema(o), minItems: 1, maxItems: o.maxBatchRequests },
            model: { type: 'string', minLength: 1 },
          },
        },
        response: { 200: { type: 'object', properties: { results: { type: 'array', items: RESULT } } } },
      },
    },
    async (req) => {
      const { requests, model } = req.body as { requests: RecommendBody[]; model?: string };
      const results = await Promise.all(
        requests.map((r, i) =>
          answer(r, model, req).catch((e: unknown) => {
            if (e instanceof UserError) throw new UserError(`requests[${i}]: ${e.message}`);
            throw e;
          }),
        ),
      );
      return { results };
    },
  );

  app.get('/v1/models', async () => ({
    models: models.list().map((s) => ({
      name: s.name,
      type: s.spec.name,
      path: s.path,
      loaded_at: s.loadedAt.toISOString(),
      items: s.model.items.toRaw.length - 1,
      config: s.model.describe(),
      ...(s.results && typeof s.results === 'object' && 'results' in s.results ? { metrics: (s.results as { results: unknown }).results } : {}),
    })),
  }));
  app.get('/healthz', async () => ({ status: 'ok', version: VERSION }));
  app.get('/readyz', async (_req, reply) => (ready ? { status: 'ready', models: models.names } : reply.code(503).send({ status: 'shutting down' })));
  app.get('/metrics', async (_req, reply) => reply.type(m.registry.contentType).send(await m.registry.metrics()));

  app.addHook('onClose', async () => {
    ready = false;
  });
  return {
    app,
    notReady: () => {
      ready = false;
    },
  };
}
