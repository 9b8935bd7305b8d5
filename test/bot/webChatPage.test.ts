import { readFileSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import Papa from 'papaparse';
import restify from 'restify';
import { WEB_CHAT_ASSETS, registerWebChatPage, webChatBundle } from '../../bot/webChat/webChatPage';
import { mapColumns } from '../../services/import/columns';
import { silentLogger } from '../../services/logger';

// The page on its own server: the Direct Line endpoint beside it is another module's business.
let server: restify.Server;
let base: string;

beforeAll(async () => {
  server = restify.createServer({ name: 'webchat-page-test' });
  registerWebChatPage(server, { botName: 'Enrollment <Assistant>', log: silentLogger });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const cspOf = (response: Response) =>
  new Map(
    (response.headers.get('content-security-policy') ?? '')
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .map(([name, ...values]) => [name ?? '', values]),
  );

describe('the Web Chat page', () => {
  it('is a product page that loads only its own scripts and styles', async () => {
    const response = await fetch(`${base}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await response.text();

    // The bot's name is escaped wherever it appears.
    expect(html).toContain('<h1 class="brand__name">Enrollment &lt;Assistant&gt;</h1>');
    expect(html).not.toContain('<Assistant>');
    expect(html).toContain('Drop a CSV, TXT or Excel user file here, or use the paperclip.');
    expect(html).toMatch(/<a [^>]*href="\/sample\/users.csv"[^>]*>Download a sample file<\/a>/);
    expect(html).not.toMatch(/\{\{\w+\}\}/);

    // Nothing from another origin: every src and href is a path on this server.
    const references = [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1] ?? '');
    expect(references.length).toBeGreaterThanOrEqual(5);
    for (const reference of references) expect(reference).toMatch(/^\/(?!\/)/);
    expect(html).not.toMatch(/<script>|<style|style="/);
    const version = webChatBundle().version;
    expect(version).toBe('4.18.1');
    expect(html).toContain(`<script src="/webchat/webchat.js?v=${version}" defer></script>`);
  });

  it('has a strict Content-Security-Policy whose style nonce changes with every request', async () => {
    const [first, second] = await Promise.all([fetch(`${base}/`), fetch(`${base}/`)]);
    const csp = cspOf(first);
    expect(Object.fromEntries(csp)).toEqual({
      'default-src': ["'none'"],
      'script-src': ["'self'"],
      // The nonce for Web Chat's styles, and the hash of an empty <style> (see webChatCsp).
      'style-src': [
        "'self'",
        expect.stringMatching(/^'nonce-[A-Za-z0-9+/]{24}'$/),
        "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
      ],
      'img-src': ["'self'", 'data:', 'blob:'],
      'connect-src': ["'self'", 'blob:'],
      'base-uri': ["'none'"],
      'form-action': ["'none'"],
      'frame-ancestors': ["'none'"],
    });
    const nonce = /^'nonce-(.+)'$/.exec(csp.get('style-src')?.[1] ?? '')?.[1];
    // The page script carries the nonce so it can hand it to Web Chat.
    const scriptTag = /<script src="\/webchat\/app\.js\?v=\w+" nonce="([^"]+)" defer>/.exec(
      await first.text(),
    );
    expect(nonce).toBeDefined();
    expect(scriptTag?.[1]).toBe(nonce);
    expect(cspOf(second).get('style-src')?.[1]).not.toBe(csp.get('style-src')?.[1]);
  });
});

describe('Web Chat bundle', () => {
  const bundle = webChatBundle();

  it('is the full webchat.js of the installed package, cached for good', async () => {
    expect(bundle.file).toBe(
      path.join(path.dirname(require.resolve('botframework-webchat')), '..', 'dist', 'webchat.js'),
    );
    const response = await fetch(`${base}/webchat/webchat.js?v=${bundle.version}`, {
      headers: { 'accept-encoding': 'identity' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/javascript; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(response.headers.get('content-encoding')).toBeNull();
    const body = Buffer.from(await response.arrayBuffer());
    expect(body.length).toBe(statSync(bundle.file).size);
    // The full build: it carries Adaptive Cards, which webchat-minimal.js leaves out.
    expect(body.includes('AdaptiveCard')).toBe(true);

    const again = await fetch(`${base}/webchat/webchat.js`, {
      headers: { 'if-none-match': response.headers.get('etag') ?? '' },
    });
    expect(again.status).toBe(304);
  });

  it('is gzipped for a browser that accepts it', async () => {
    // fetch would decompress on its own; read the raw bytes instead.
    const http = await import('node:http');
    const raw = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      http
        .get(`${base}/webchat/webchat.js`, { headers: { 'accept-encoding': 'gzip, deflate, br' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        })
        .on('error', reject);
    });
    expect(raw.headers['content-encoding']).toBe('gzip');
    expect(raw.headers.vary).toBe('accept-encoding');
    expect(raw.body.length).toBeLessThan(statSync(bundle.file).size / 2);
    expect(gunzipSync(raw.body).equals(readFileSync(bundle.file))).toBe(true);
  });

  it.each(['/webchat/stats.json', '/webchat/webchat-minimal.js', '/webchat/../package.json', '/webchat/'])(
    'serves nothing else from the package: %s',
    async (address) => {
      expect((await fetch(`${base}${address}`)).status).toBe(404);
    },
  );
});

describe('the page files', () => {
  it.each([
    ['/webchat/app.js', 'application/javascript; charset=utf-8', 'app.js'],
    ['/webchat/app.css', 'text/css; charset=utf-8', 'app.css'],
    ['/webchat/icon.svg', 'image/svg+xml', 'icon.svg'],
  ])('%s', async (address, type, file) => {
    const response = await fetch(`${base}${address}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(type);
    expect(
      Buffer.from(await response.arrayBuffer()).equals(readFileSync(path.join(WEB_CHAT_ASSETS, file))),
    ).toBe(true);
    const again = await fetch(`${base}${address}`, {
      headers: { 'if-none-match': response.headers.get('etag') ?? '' },
    });
    expect(again.status).toBe(304);
  });

  it('points Web Chat at this server’s Direct Line endpoint, with upload on and no WebSocket', () => {
    const script = readFileSync(path.join(WEB_CHAT_ASSETS, 'app.js'), 'utf8');
    expect(script).toContain("location.origin + '/v3/directline'");
    expect(script).toContain("'/tokens/generate'");
    expect(script).toContain("'/tokens/refresh'");
    expect(script).toMatch(/webSocket: false/);
    expect(script).toMatch(/hideUploadButton: false/);
  });
});

describe('the sample file', () => {
  it('downloads as a CSV whose columns the importer knows', async () => {
    const response = await fetch(`${base}/sample/users.csv`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="sample-users.csv"');
    const parsed = Papa.parse<Record<string, string>>(await response.text(), {
      header: true,
      skipEmptyLines: true,
    });
    expect(parsed.errors).toEqual([]);
    // Every column feeds a field, so the plan card shows no "not imported" columns.
    const mapping = mapColumns(parsed.meta.fields ?? []);
    expect(mapping.ignoredColumns).toEqual([]);
    expect(Object.keys(mapping.columns).sort()).toEqual(
      ['email', 'firstName', 'lastName', 'title', 'department', 'workPhone', 'status'].sort(),
    );
    expect(parsed.data.length).toBeGreaterThanOrEqual(3);
    for (const row of parsed.data) expect(row['Email ID']).toMatch(/^[a-z.]+@example\.com$/);
  });
});
