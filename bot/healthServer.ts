import http from 'node:http';

/** Liveness and readiness over plain HTTP, until the conversation endpoint arrives on the same port. */
export function createHealthServer(isReady: () => Promise<boolean>): http.Server {
  return http.createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { error: 'method not allowed' });
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return send(200, { status: 'ok' });
    if (path === '/readyz') {
      // A database that hangs must read as not ready, not as a probe that never answers.
      const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 3000).unref());
      Promise.race([isReady(), timeout]).then(
        (ready) => send(ready ? 200 : 503, { status: ready ? 'ready' : 'database unreachable' }),
        () => send(503, { status: 'database unreachable' }),
      );
      return;
    }
    send(404, { error: 'not found' });
  });
}
