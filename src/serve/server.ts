/**
 * The HTTP server of `seqrec serve` (Fastify): recommendation routes over the model store, model
 * listing, health, Prometheus metrics and the OpenAPI description. Bad input is a 400 with a one-line
 * reason, an oversized body a 413; the server itself never answers 500 to a request's content.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { oneLine, UserError } from '../core/errors.js';
import { VERSION } from '../core/version.js';
import { ServeMetrics } from './metrics.js';
import type { ModelSource } from './model-sources.js';
import { ModelStore } from './model-store.js';
import { type RecommendBody, toScoreRequest, type UnknownItems } from './queries.js';

export interface ServerSettings {
  readonly maxBatch: number;
  readonly maxWaitMs: number;
  readonly maxK: number;
  readonly maxHistory: number;
  readonly maxBatchRequest: number;
  readonly bodyLimit: number;
  readonly requestTimeoutMs: number;
  readonly unknownItems: UnknownItems;
  readonly reloadPollMs: number;
  readonly logLevel: string;
}

export const DEFAULT_K = 10;

/** A running server: its Fastify instance, models and metrics. */
export interface Server {
  readonly app: FastifyInstance;
  readonly store: ModelStore;
  readonly metrics: ServeMetrics;
  /** stops accepting, answers the requests in flight, then frees the models */
  close(): Promise<void>;
}

function schemas(s: ServerSettings) {
  const id = { type: ['string', 'integer'] };
  const query = {
    type: 'object',
    additionalProperties: false,
    properties: {
      user: { ...id, description: "a user of the model's data: recommends after the user's known history" },
      history: { type: 'array', items: id, minItems: 1, maxItems: s.maxHistory, description: 'item ids in time order' },
      times: { type: 'array', items: { type: 'number' }, maxItems: s.maxHistory, description: 'timestamps of the history (time-aware models)' },
      k: { type: 'integer', minimum: 1, maximum: s.maxK, default: DEFAULT_K },
      exclude: { type: 'array', items: id, maxItems: s.maxHistory, description: 'item ids never to recommend (besides the history)' },
      model: { type: 'string', description: 'a served model (default: the first)' },
    },
  };
  const answer = {
    type: 'object',
    properties: {
      model: { type: 'string' },
      items: {
        type: 'array',
        items: { type: 'object', properties: { item: { type: 'string' }, score: { type: 'number' } } },
      },
    },
  };
  const error = { type: 'object', properties: { error: { type: 'string' } } };
  return { query, answer, error };
}

const modelOf = new WeakMap<FastifyRequest, string>();

export async function startServer(sources: readonly ModelSource[], s: ServerSettings): Promise<Server> {
  const metrics = new ServeMetrics();
  const app = Fastify({
    logger: { level: s.logLevel },
    bodyLimit: s.bodyLimit,
    requestTimeout: s.requestTimeoutMs,
    connectionTimeout: s.requestTimeoutMs,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false, allowUnionTypes: true } },
  });
  const store = new ModelStore(sources, {
    maxBatch: s.maxBatch,
    maxWaitMs: s.maxWaitMs,
    onBatch: (model, n) => metrics.batchSize.observe({ model }, n),
    onLoad: (model, seconds) => {
      metrics.loadSeconds.set({ model }, seconds);
      metrics.reloads.inc({ model });
      app.log.info({ model, seconds }, 'model loaded');
    },
    onReloadError: (model, err) =>
      app.log.error({ model, err: oneLine(String(err instanceof Error ? err.message : err)) }, 'reload failed; the old model keeps serving'),
  });
  await store.loadAll();
  if (s.reloadPollMs > 0) store.watch(s.reloadPollMs);
  let closing = false;

  app.setErrorHandler((err, request, reply) => {
    const e = err as Error & { statusCode?: number; validation?: unknown };
    let status = e instanceof UserError || e.validation ? 400 : (e.statusCode ?? 500);
    if (status >= 500) request.log.error({ err }, 'request failed');
    if (status < 400) status = 500;
    const message = e instanceof SyntaxError ? `body: not valid JSON (${e.message})` : e.message;
    reply.status(status).send({ error: oneLine(message) });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}` });
  });
  // a keep-alive connection whose request was in flight at shutdown would otherwise hold close() open
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const model = modelOf.get(request) ?? '';
    metrics.requests.inc({ route, model, status: String(reply.statusCode) });
    metrics.latency.observe({ route, model }, reply.elapsedTime / 1000);
  });

  await app.register(swagger, {
    openapi: { info: { title: 'seqrec serve', description: 'top-K next-item recommendation', version: VERSION } },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const { query, answer, error } = schemas(s);
  // a model name from a request body is a metric label only when served: labels must not grow with hostile input
  const metricLabel = (name: string | undefined): string => (name === undefined ? store.defaultName : store.names.includes(name) ? name : '');

  async function recommendOne(body: RecommendBody): Promise<{ model: string; items: Array<{ item: string; score: number }> }> {
    const gen = store.acquire(body.model);
    try {
      const request = toScoreRequest(gen.model, body, s.unknownItems, DEFAULT_K);
      const ranked = await gen.batcher.score(request);
      const toRaw = gen.model.items.toRaw;
      return { model: gen.info.name, items: ranked.map((r) => ({ item: toRaw[r.item], score: r.score })) };
    } finally {
      gen.release();
    }
  }

  app.post<{ Body: RecommendBody }>(
    '/v1/recommend',
    { schema: { description: 'top-K items after a user or a history (original ids)', body: query, response: { 200: answer, 400: error } } },
    async (request) => {
      modelOf.set(request, metricLabel(request.body.model));
      return recommendOne(request.body);
    },
  );

  app.post<{ Body: { requests: RecommendBody[] } }>(
    '/v1/recommend/batch',
    {
      schema: {
        description: 'many recommendation queries in one request; answers in the same order',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['requests'],
          properties: { requests: { type: 'array', items: query, minItems: 1, maxItems: s.maxBatchRequest } },
        },
        response: { 200: { type: 'object', properties: { results: { type: 'array', items: answer } } }, 400: error },
      },
    },
    async (request) => {
      const { requests } = request.body;
      modelOf.set(request, metricLabel(requests[0].model));
      const results = await Promise.allSettled(requests.map((q) => recommendOne(q)));
      const failed = results.findIndex((r) => r.status === 'rejected');
      if (failed >= 0) {
        const reason = (results[failed] as PromiseRejectedResult).reason;
        if (reason instanceof UserError) throw new UserError(`requests[${failed}]: ${reason.message}`);
        throw reason;
      }
      return { results: results.map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<typeof recommendOne>>>).value) };
    },
  );

  app.get('/v1/models', { schema: { description: 'the served models' } }, async () => ({ models: store.infos() }));
  app.get('/healthz', { schema: { description: 'the process is up' } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { description: 'the models are loaded and the server is not shutting down' } }, async (_request, reply) => {
    if (closing) return reply.status(503).send({ status: 'shutting down' });
    return { status: 'ready', models: store.names };
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  await app.ready();
  return {
    app,
    store,
    metrics,
    async close() {
      if (closing) return;
      closing = true;
      await app.close();
      store.close();
    },
  };
}
