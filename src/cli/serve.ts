import type { Command } from 'commander';
import { modelSources } from '../serve/model-sources.js';
import { serveOptions } from '../serve/options.js';
import { startServer } from '../serve/server.js';
import { isWorker, leaveCluster, reportListening, superviseWorkers } from '../serve/workers.js';
import { addOptions, commandGroups } from './flags.js';

export function register(program: Command): void {
  const cmd = program
    .command('serve')
    .description(
      'serve top-K recommendations over HTTP (POST /v1/recommend, /v1/recommend/batch; GET /v1/models, /healthz, /readyz, ' +
        '/metrics, /docs). Models come from --model_dir (a model file, a run directory, or a directory of them) and/or ' +
        '--models name=path,…; a replaced model file (or SIGHUP) reloads without dropping requests; SIGTERM drains and exits 0',
    );
  addOptions(cmd, commandGroups(serveOptions));
  cmd.action(async (opts: Record<string, unknown>) => {
    const o = serveOptions.parse(opts);
    const sources = modelSources(o.modelDir, o.models);
    if (o.workers > 1 && !isWorker()) {
      const code = await superviseWorkers(o.workers, (line) => process.stderr.write(`seqrec serve: ${line}\n`));
      // the workers have printed their own one-line errors
      if (code !== 0) process.exit(code);
      return;
    }
    try {
      const server = await startServer(sources, o);
      process.on('SIGHUP', () => void server.store.reloadAll());
      await server.app.listen({ port: o.port, host: o.host });
      reportListening();
      await new Promise<void>((resolve) => {
        const stop = () => {
          server.app.log.info('shutting down: draining requests in flight');
          server.close().then(resolve, resolve);
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
    } finally {
      // a worker (--workers) whose server stopped, or never started, must leave the cluster to exit
      leaveCluster();
    }
  });
}
