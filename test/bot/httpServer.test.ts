import type { AddressInfo } from 'node:net';
import { ActivityHandler } from 'botbuilder';
import type restify from 'restify';
import { createBotAdapter } from '../../bot/botAdapter';
import { loadBotSettings } from '../../bot/botSettings';
import { WELCOME_TEXT } from '../../bot/enrollmentBot';
import { createHttpServer } from '../../bot/httpServer';
import { handleTurnError } from '../../bot/turnErrors';
import { createLogger } from '../../services/logger';
import { startLoopbackConnector } from '../support/loopbackConnector';
import { startTestBotApp } from '../support/testBotApp';

async function startConnector() {
  const connector = await startLoopbackConnector();
  return {
    url: connector.url,
    get received() {
      return connector.calls;
    },
    close: () => connector.close(),
  };
}

/** The whole bot on a fresh database, or (with `isReady`) just the HTTP surface around an idle handler. */
async function startBot(env: NodeJS.ProcessEnv, isReady?: () => Promise<boolean>) {
  if (!isReady) {
    const app = await startTestBotApp({ ADMINS: 'admin-1', ...env });
    return { url: app.url, close: () => app.close() };
  }
  const adapter = createBotAdapter(loadBotSettings(env));
  adapter.onTurnError = (context, error) => handleTurnError(context, error, createLogger('error'));
  const server: restify.Server = createHttpServer({ adapter, bot: new ActivityHandler(), isReady });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function activity(serviceUrl: string, extra: Record<string, unknown> = {}) {
  return {
    type: 'message',
    id: 'incoming-1',
    channelId: 'webchat',
    serviceUrl,
    from: { id: 'admin-1', name: 'Admin' },
    recipient: { id: 'bot-1', name: 'Enrollment Assistant' },
    conversation: { id: 'conv-1' },
    text: 'hello',
    ...extra,
  };
}

describe('the bot over HTTP', () => {
  it('answers a message posted to /api/messages by replying to the serviceUrl', async () => {
    const connector = await startConnector();
    const bot = await startBot({});
    try {
      const response = await fetch(`${bot.url}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(activity(connector.url)),
      });
      expect(response.status).toBe(200);
      expect(connector.received).toHaveLength(1);
      const [reply] = connector.received;
      expect(reply?.method).toBe('POST');
      expect(reply?.url).toBe('/v3/conversations/conv-1/activities/incoming-1');
      expect(reply?.body).toMatchObject({ type: 'message', replyToId: 'incoming-1' });
      expect(String(reply?.body.text)).toContain(WELCOME_TEXT);
    } finally {
      await bot.close();
      await connector.close();
    }
  });

  it('refuses a file from someone who is not an administrator', async () => {
    const connector = await startConnector();
    const bot = await startBot({});
    try {
      const attachments = [
        { contentType: 'text/csv', contentUrl: 'data:text/csv;base64,YQ==', name: 'users.csv' },
      ];
      await fetch(`${bot.url}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(activity(connector.url, { attachments, from: { id: 'intruder', name: 'Eve' } })),
      });
      expect(connector.received).toHaveLength(1);
      expect(String(connector.received[0]?.body.text)).toMatch(/only the administrators/);
    } finally {
      await bot.close();
      await connector.close();
    }
  });

  it('refuses a request without a Bot Framework token when an app id is configured', async () => {
    const connector = await startConnector();
    const bot = await startBot({
      MicrosoftAppId: 'b7a3c2d1-0000-4000-8000-000000000001',
      MicrosoftAppPassword: 'secret',
    });
    try {
      const response = await fetch(`${bot.url}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(activity(connector.url)),
      });
      expect(response.status).toBe(401);
      expect(connector.received).toHaveLength(0);
    } finally {
      await bot.close();
      await connector.close();
    }
  });

  it('serves /healthz always and /readyz by asking the database', async () => {
    let ready = true;
    const bot = await startBot({}, async () => {
      if (ready) return true;
      throw new Error('down');
    });
    try {
      expect((await fetch(`${bot.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${bot.url}/readyz`)).status).toBe(200);
      ready = false;
      const notReady = await fetch(`${bot.url}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toEqual({ status: 'database unreachable' });
      expect((await fetch(`${bot.url}/healthz`)).status).toBe(200);
    } finally {
      await bot.close();
    }
  });
});

describe('bot settings', () => {
  it('names the missing password when an app id is set', () => {
    expect(() => loadBotSettings({ MicrosoftAppId: 'x' })).toThrow(/MicrosoftAppPassword: is required/);
  });

  it('needs a tenant for a single-tenant bot', () => {
    expect(() =>
      loadBotSettings({ MicrosoftAppId: 'x', MicrosoftAppPassword: 'p', MicrosoftAppType: 'SingleTenant' }),
    ).toThrow(/MicrosoftAppTenantId/);
  });

  it('runs unauthenticated without an app id', () => {
    expect(loadBotSettings({})).toEqual({ authenticated: false, auth: {} });
  });
});

describe('shutting down', () => {
  it('refuses new turns and reads as not ready while draining, so channels retry on another instance', async () => {
    const adapter = createBotAdapter(loadBotSettings({}));
    const server: restify.Server = createHttpServer({
      adapter,
      bot: new ActivityHandler(),
      isReady: async () => true,
      isDraining: () => true,
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const turn = await fetch(`${url}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(activity('http://127.0.0.1:9')),
      });
      expect(turn.status).toBe(503);
      expect(turn.headers.get('retry-after')).toBe('5');
      expect((await fetch(`${url}/readyz`)).status).toBe(503);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    } finally {
      server.server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
