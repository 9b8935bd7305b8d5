import restify from 'restify';
import type { ActivityHandler, CloudAdapter } from 'botbuilder';

export interface HttpServerDeps {
  adapter: CloudAdapter;
  bot: ActivityHandler;
  /** True when the database answers. */
  isReady: () => Promise<boolean>;
  /** True once shutdown has begun: new turns are refused with 503 so the channel retries elsewhere. */
  isDraining?: () => boolean;
  /** Mounts further routes (such as the report downloads) after the built-in ones. */
  registerRoutes?: (server: restify.Server) => void;
}

const READY_TIMEOUT_MS = 3000;

function isMultipart(req: restify.Request): boolean {
  return /^multipart\//i.test(req.headers['content-type'] ?? '');
}

/** The bot's HTTP surface: the Bot Framework messaging endpoint and the liveness/readiness probes. */
export function createHttpServer(deps: HttpServerDeps): restify.Server {
  const server = restify.createServer({ name: 'enrollment-assistant' });
  // Multipart bodies are left to the routes that take uploads, which stream them: restify's own multipart
  // parser would write every file to a temporary folder on disk, for any route, whatever its size.
  for (const parse of restify.plugins.bodyParser({ maxBodySize: 1024 * 1024 })) {
    server.use((req, res, next) => (isMultipart(req) ? next() : parse(req, res, next)));
  }

  server.post('/api/messages', async (req, res) => {
    if (deps.isDraining?.()) {
      res.header('retry-after', '5');
      res.send(503, { error: 'shutting down' });
      return;
    }
    await deps.adapter.process(req, res, (context) => deps.bot.run(context));
  });

  server.get('/healthz', async (_req, res) => {
    res.send(200, { status: 'ok' });
  });

  server.get('/readyz', async (_req, res) => {
    // A database that hangs must read as not ready, not as a probe that never answers.
    const timeout = new Promise<boolean>((resolve) =>
      setTimeout(() => resolve(false), READY_TIMEOUT_MS).unref(),
    );
    if (deps.isDraining?.()) {
      res.send(503, { status: 'shutting down' });
      return;
    }
    const ready = await Promise.race([deps.isReady().catch(() => false), timeout]);
    res.send(ready ? 200 : 503, { status: ready ? 'ready' : 'database unreachable' });
  });

  deps.registerRoutes?.(server);
  return server;
}
