/** The Prometheus metrics of the server (prom-client, on a registry of its own). */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export class ServeMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'seqrec_http_requests_total',
    help: 'HTTP requests answered, by route, model and status code',
    labelNames: ['route', 'model', 'status'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'seqrec_http_request_duration_seconds',
    help: 'time from request to response, by route and model',
    labelNames: ['route', 'model'] as const,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'seqrec_batch_size',
    help: 'histories scored in one scoreAll call (dynamic batching), by model',
    labelNames: ['model'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers: [this.registry],
  });
  readonly loadSeconds = new Gauge({
    name: 'seqrec_model_load_seconds',
    help: 'time the last load of the model took',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  readonly reloads = new Counter({
    name: 'seqrec_model_loads_total',
    help: 'model loads (the first and each reload), by model',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'seqrec_' });
  }
}
