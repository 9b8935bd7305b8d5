import type restify from 'restify';
import { isLoopbackAddress } from './directLineHttp';

export const CORS_ALLOWED_HEADERS = 'authorization, content-type, x-ms-bot-agent, x-requested-with';
export const CORS_ALLOWED_METHODS = 'GET, POST, PUT, OPTIONS';

/**
 * Whether a page at `origin` may read the answer to a request for `path`. Everything but token generation
 * needs a token a page can only get from generation, so any origin may call it. Generation itself is open
 * only to pages on this machine (and to the page's own origin, which needs no CORS anyway): otherwise any
 * website the administrator visits could mint a token in the background and drive the local bot.
 */
export function corsOrigin(path: string, origin: string, host: string | undefined): string | undefined {
  if (!path.endsWith('/tokens/generate')) return origin;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (hostname === 'localhost' || isLoopbackAddress(hostname)) return origin;
  return host !== undefined && url.host === host ? origin : undefined;
}

/**
 * Answers CORS preflights for paths under `basePath` and adds the CORS headers to their answers. Installed as
 * a `pre` handler: restify would otherwise answer an OPTIONS request with 405 before any route ran.
 */
export function registerCors(server: restify.Server, basePath: string): void {
  server.pre((req: restify.Request, res: restify.Response, next: restify.Next) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (!path.startsWith(`${basePath}/`)) return next();
    const origin = req.headers.origin;
    const allowed = typeof origin === 'string' ? corsOrigin(path, origin, req.headers.host) : undefined;
    res.header('vary', 'Origin');
    if (allowed) res.header('access-control-allow-origin', allowed);
    if (req.method !== 'OPTIONS') return next();
    if (allowed) {
      res.header('access-control-allow-methods', CORS_ALLOWED_METHODS);
      res.header('access-control-allow-headers', CORS_ALLOWED_HEADERS);
      res.header('access-control-max-age', '600');
    }
    res.send(204);
    return next(false);
  });
}
