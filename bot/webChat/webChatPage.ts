import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type restify from 'restify';
import type { Logger } from '../../services/logger';

/** What the Web Chat page needs. */
export interface WebChatPageDeps {
  /** Shown in the page's title, header and chat. */
  botName: string;
  log: Logger;
}

/**
 * The project root: two levels above this module under ts-jest (`bot/webChat/`), three when built
 * (`dist/bot/webChat/`, tsc's outDir `dist` over rootDir `.`). tsc copies no HTML, CSS or CSV into `dist/`, so
 * the page's files are always read from the source tree, whichever way the bot runs.
 */
function projectRoot(): string {
  const twoUp = path.resolve(__dirname, '..', '..');
  return path.basename(twoUp) === 'dist' ? path.dirname(twoUp) : twoUp;
}

/** The folder holding the page, its script and style sheet, the icon and the sample file. */
export const WEB_CHAT_ASSETS = path.join(projectRoot(), 'bot', 'webChat', 'assets');

/**
 * The Web Chat bundle: `dist/webchat.js` of the botframework-webchat package, the full build with Adaptive
 * Cards. Only this one file is served: the package's `dist/` also holds source maps and a 147 MB stats.json.
 * The package exports no `./package.json`, so its folder is found from its main module.
 */
export function webChatBundle(): { file: string; version: string } {
  let dir = path.dirname(require.resolve('botframework-webchat'));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'botframework-webchat') {
        return { file: path.join(dir, 'dist', 'webchat.js'), version: pkg.version ?? 'unknown' };
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('botframework-webchat is not installed: run npm install');
    dir = parent;
  }
}

/** CSP's hash of an empty inline style: sha256 of no bytes, base64. */
const EMPTY_STYLE_HASH = `sha256-${createHash('sha256').update('').digest('base64')}`;

/**
 * The page's Content-Security-Policy. Everything comes from this bot ('self'); beyond that, exactly what Web
 * Chat needs:
 * - style-src 'nonce-…': Web Chat's styles (emotion) are injected as <style> elements at run time; Web Chat puts
 *   the nonce it is given on them, so no 'unsafe-inline' is needed.
 * - style-src 'sha256-47DEQ…' (the hash of the empty string): Web Chat 4.18.1 does not pass the nonce on to
 *   react-scroll-to-bottom, whose emotion cache adds an empty <style> and fills it through CSSOM insertRule,
 *   which CSP does not check. Without the hash that sheet is blocked and the transcript loses its scrolling
 *   styles. An empty style element is all the hash admits: markup with any CSS in it still needs the nonce.
 * - img-src blob: — Web Chat shows a picked file from its blob: URL (blocked without it, seen in Chromium);
 *   data: — the thumbnail it draws of a picked image (canvas toDataURL) and the small images its styles embed.
 * - connect-src blob: — the Direct Line client reads a picked file back from its blob: URL to upload it
 *   (without it the upload is blocked).
 * No 'unsafe-eval': the full bundle runs without it (checked in the browser test, which fails on any violation).
 */
export function webChatCsp(nonce: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'self' 'nonce-${nonce}' '${EMPTY_STYLE_HASH}'`,
    "img-src 'self' data: blob:",
    "connect-src 'self' blob:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);

/** A static file held in memory, with a version (content hash) that the page puts in its address. */
interface Asset {
  body: Buffer;
  type: string;
  version: string;
}

function loadAsset(name: string, type: string): Asset {
  const file = path.join(WEB_CHAT_ASSETS, name);
  if (!existsSync(file)) throw new Error(`The Web Chat page's ${name} is missing from ${WEB_CHAT_ASSETS}`);
  const body = readFileSync(file);
  return { body, type, version: createHash('sha256').update(body).digest('hex').slice(0, 12) };
}

const COMMON_HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'same-origin' };
/** For addresses that carry a version: a new version is a new address, so the old one never changes. */
const FOREVER = 'public, max-age=31536000, immutable';

function sendAsset(req: restify.Request, res: restify.Response, asset: Asset): void {
  const etag = `"${asset.version}"`;
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, { ...COMMON_HEADERS, etag, 'cache-control': FOREVER });
    res.end();
    return;
  }
  res.writeHead(200, {
    ...COMMON_HEADERS,
    'content-type': asset.type,
    'content-length': asset.body.length,
    'cache-control': FOREVER,
    etag,
  });
  res.end(asset.body);
}

/**
 * Mounts the local Web Chat page:
 * - `GET /`: the page, with a fresh style nonce and its Content-Security-Policy;
 * - `GET /webchat/webchat.js`: Web Chat's full bundle, streamed from the installed package (gzipped when the
 *   browser accepts it), and nothing else from that package;
 * - `GET /webchat/app.js`, `/webchat/app.css`, `/webchat/icon.svg`: the page's own script, style and icon;
 * - `GET /sample/users.csv`: a sample user file to try, as a download.
 *
 * The page talks to the Direct Line endpoint under `/v3/directline`, which is mounted separately. Every file is
 * read and checked at start, so a broken install fails the start rather than the first visit.
 */
export function registerWebChatPage(server: restify.Server, deps: WebChatPageDeps): void {
  const bundle = webChatBundle();
  if (!existsSync(bundle.file)) throw new Error(`Web Chat's bundle is missing: ${bundle.file}`);
  const template = loadAsset('index.html', 'text/html; charset=utf-8').body.toString('utf8');
  const script = loadAsset('app.js', 'application/javascript; charset=utf-8');
  const styles = loadAsset('app.css', 'text/css; charset=utf-8');
  const icon = loadAsset('icon.svg', 'image/svg+xml');
  const sample = loadAsset('sample-users.csv', 'text/csv; charset=utf-8');
  const bundleEtag = `"webchat-${bundle.version}"`;

  server.get('/', async (_req, res) => {
    // The nonce is the only per-request value; everything else is filled from trusted, escaped values.
    const nonce = randomBytes(18).toString('base64');
    const values: Record<string, string> = {
      nonce,
      botName: escapeHtml(deps.botName),
      webChatVersion: escapeHtml(bundle.version),
      appVersion: script.version,
      cssVersion: styles.version,
      iconVersion: icon.version,
    };
    const html = template.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => values[key] ?? whole);
    res.writeHead(200, {
      ...COMMON_HEADERS,
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(html),
      // Never cached: each copy carries its own nonce.
      'cache-control': 'no-store',
      'content-security-policy': webChatCsp(nonce),
    });
    res.end(html);
  });

  server.get('/webchat/webchat.js', async (req, res) => {
    if (req.headers['if-none-match'] === bundleEtag) {
      res.writeHead(304, { ...COMMON_HEADERS, etag: bundleEtag, 'cache-control': FOREVER });
      res.end();
      return;
    }
    // 3.9 MB as is, under 1 MB gzipped: worth compressing for a browser on another machine.
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    res.writeHead(200, {
      ...COMMON_HEADERS,
      'content-type': 'application/javascript; charset=utf-8',
      'cache-control': FOREVER,
      etag: bundleEtag,
      vary: 'accept-encoding',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    });
    try {
      const source = createReadStream(bundle.file);
      await (gzip ? pipeline(source, createGzip(), res) : pipeline(source, res));
    } catch (err) {
      // A browser that goes away mid-download ends up here too; only the log needs to know.
      deps.log.warn('Web Chat bundle not fully sent', { error: (err as Error).message });
      res.destroy();
    }
  });

  server.get('/webchat/app.js', async (req, res) => sendAsset(req, res, script));
  server.get('/webchat/app.css', async (req, res) => sendAsset(req, res, styles));
  server.get('/webchat/icon.svg', async (req, res) => sendAsset(req, res, icon));

  server.get('/sample/users.csv', async (_req, res) => {
    res.writeHead(200, {
      ...COMMON_HEADERS,
      'content-type': sample.type,
      'content-length': sample.body.length,
      'content-disposition': 'attachment; filename="sample-users.csv"',
      'cache-control': 'no-cache',
    });
    res.end(sample.body);
  });
}
