import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHealthServer } from '../../bot/healthServer';

const servers: http.Server[] = [];

/** Starts a health server on a free port and returns its base URL. */
async function start(isReady: () => Promise<boolean>): Promise<string> {
  const server = createHealthServer(isReady);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  expect(port).toBeGreaterThan(0);
  return `http://127.0.0.1:${port}`;
}

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

async function get(url: string, init?: RequestInit) {
  const response = await fetch(url, init);
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: text === '' ? undefined : (JSON.parse(text) as unknown),
  };
}

describe('createHealthServer', () => {
  it('answers GET /healthz with 200 without asking whether the database is ready', async () => {
    const isReady = jest.fn(async () => false);
    const base = await start(isReady);
    expect(await get(`${base}/healthz`)).toEqual({
      status: 200,
      type: 'application/json',
      body: { status: 'ok' },
    });
    expect(isReady).not.toHaveBeenCalled();
  });

  it('answers GET /readyz with 200 when isReady resolves true', async () => {
    const isReady = jest.fn(async () => true);
    const base = await start(isReady);
    expect(await get(`${base}/readyz`)).toEqual({
      status: 200,
      type: 'application/json',
      body: { status: 'ready' },
    });
    expect(isReady).toHaveBeenCalledTimes(1);
  });

  it('answers GET /readyz with 503 when isReady resolves false', async () => {
    const base = await start(async () => false);
    expect(await get(`${base}/readyz`)).toEqual({
      status: 503,
      type: 'application/json',
      body: { status: 'database unreachable' },
    });
  });

  it('answers GET /readyz with 503 when isReady rejects, and keeps serving', async () => {
    let calls = 0;
    const base = await start(async () => {
      calls++;
      if (calls === 1) throw new Error('ping failed');
      return true;
    });
    expect(await get(`${base}/readyz`)).toMatchObject({
      status: 503,
      body: { status: 'database unreachable' },
    });
    expect(await get(`${base}/readyz`)).toMatchObject({ status: 200, body: { status: 'ready' } });
    expect(calls).toBe(2);
  });

  it('asks isReady afresh on every request', async () => {
    let ready = false;
    const base = await start(async () => ready);
    expect((await get(`${base}/readyz`)).status).toBe(503);
    ready = true;
    expect((await get(`${base}/readyz`)).status).toBe(200);
  });

  it.each(['/', '/health', '/healthz/extra', '/HEALTHZ', '/readyz/', '/api/messages'])(
    'answers GET %s with 404',
    async (path) => {
      const isReady = jest.fn(async () => true);
      const base = await start(isReady);
      expect(await get(`${base}${path}`)).toEqual({
        status: 404,
        type: 'application/json',
        body: { error: 'not found' },
      });
      expect(isReady).not.toHaveBeenCalled();
    },
  );

  it.each(['POST', 'PUT', 'DELETE', 'PATCH'])('answers %s /healthz and /readyz with 405', async (method) => {
    const isReady = jest.fn(async () => true);
    const base = await start(isReady);
    for (const path of ['/healthz', '/readyz']) {
      expect(await get(`${base}${path}`, { method, body: method === 'DELETE' ? undefined : '{}' })).toEqual({
        status: 405,
        type: 'application/json',
        body: { error: 'method not allowed' },
      });
    }
    expect(isReady).not.toHaveBeenCalled();
  });
});
