import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ActivityHandler } from 'botbuilder';
import { createBotAdapter } from '../../bot/botAdapter';
import { loadBotSettings } from '../../bot/botSettings';
import { createHttpServer } from '../../bot/httpServer';
import {
  FixedTokenCredentialsFactory,
  generateSigningKey,
  startLocalBotFrameworkIssuer,
  type LocalBotFrameworkIssuer,
} from '../support/localBotFrameworkIssuer';
import { startTestBotApp } from '../support/testBotApp';

const APP_ID = 'b7a3c2d1-0000-4000-8000-0000000000a1';
const OTHER_APP_ID = 'b7a3c2d1-0000-4000-8000-0000000000b2';
const TENANT_ID = 'b7a3c2d1-0000-4000-8000-0000000000c3';
const OUTBOUND_TOKEN = 'outbound-token-for-the-test';

const ENV = {
  MicrosoftAppId: APP_ID,
  MicrosoftAppPassword: 'never-sent-anywhere',
  MicrosoftAppType: 'SingleTenant',
  MicrosoftAppTenantId: TENANT_ID,
};

interface Captured {
  method: string;
  url: string;
  authorization: string | undefined;
  body: Record<string, unknown>;
}

/** A stand-in for the channel's connector on loopback: records what the bot sends to serviceUrl. */
async function startConnector(): Promise<{ url: string; received: Captured[]; close(): Promise<void> }> {
  const received: Captured[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization,
        body: JSON.parse(text || '{}'),
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: `reply-${received.length}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Echoes each message, so these tests do not depend on what the product bot says. */
class EchoBot extends ActivityHandler {
  readonly turns: Array<{ text: string; callerId: string | undefined }> = [];

  constructor() {
    super();
    this.onMessage(async (context, next) => {
      this.turns.push({ text: context.activity.text, callerId: context.activity.callerId });
      await context.sendActivity(`echo: ${context.activity.text}`);
      await next();
    });
  }
}

async function startBot(issuer: LocalBotFrameworkIssuer) {
  const settings = loadBotSettings(ENV);
  const credentials = new FixedTokenCredentialsFactory(settings.auth, OUTBOUND_TOKEN);
  const adapter = createBotAdapter(settings, {
    authOptions: issuer.authOptions,
    credentialsFactory: credentials,
  });
  const turnErrors: unknown[] = [];
  adapter.onTurnError = async (_context, error) => {
    turnErrors.push(error);
  };
  const bot = new EchoBot();
  const server = createHttpServer({ adapter, bot, isReady: async () => true });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bot,
    credentials,
    turnErrors,
    close: () =>
      new Promise<void>((resolve) => {
        server.server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function activity(serviceUrl: string, extra: Record<string, unknown> = {}) {
  return {
    type: 'message',
    id: 'incoming-1',
    channelId: 'webchat',
    serviceUrl,
    from: { id: 'user-1', name: 'User' },
    recipient: { id: APP_ID, name: 'Bot' },
    conversation: { id: 'conv-1' },
    text: 'hello',
    ...extra,
  };
}

describe('the bot over HTTP with Bot Framework authentication on', () => {
  let issuer: LocalBotFrameworkIssuer;
  let connector: Awaited<ReturnType<typeof startConnector>>;
  let bot: Awaited<ReturnType<typeof startBot>>;
  let consoleError: jest.SpyInstance;

  beforeEach(async () => {
    // The SDK logs every refused request with console.error; the tests look at the HTTP status instead.
    consoleError = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    issuer = await startLocalBotFrameworkIssuer({ endorsements: ['webchat', 'msteams'] });
    connector = await startConnector();
    bot = await startBot(issuer);
  });

  afterEach(async () => {
    await bot.close();
    await connector.close();
    await issuer.close();
    consoleError.mockRestore();
  });

  async function post(body: Record<string, unknown>, authorization?: string): Promise<Response> {
    return fetch(`${bot.url}/api/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(authorization === undefined ? {} : { authorization }),
      },
      body: JSON.stringify(body),
    });
  }

  it('accepts a channel token from the published key and signs its reply to the serviceUrl', async () => {
    const token = issuer.issueToken(APP_ID, connector.url);

    const response = await post(activity(connector.url), `Bearer ${token}`);

    expect(response.status).toBe(200);
    expect(bot.turnErrors).toEqual([]);
    expect(bot.bot.turns).toEqual([{ text: 'hello', callerId: 'urn:botframework:azure' }]);
    expect(connector.received).toHaveLength(1);
    const [reply] = connector.received;
    expect(reply?.method).toBe('POST');
    expect(reply?.url).toBe('/v3/conversations/conv-1/activities/incoming-1');
    expect(reply?.authorization).toBe(`Bearer ${OUTBOUND_TOKEN}`);
    expect(reply?.body).toMatchObject({ type: 'message', text: 'echo: hello', replyToId: 'incoming-1' });
    // The bot asked for a token as itself, for the Bot Framework, from the public-cloud login endpoint.
    expect(bot.credentials.requests).toContainEqual({
      appId: APP_ID,
      audience: 'https://api.botframework.com',
      loginEndpoint: 'https://login.microsoftonline.com/botframework.com',
    });
    // The signing key came from the loopback issuer, not from login.botframework.com.
    expect(issuer.requests).toEqual([issuer.paths.metadata, issuer.paths.keys]);
    expect(consoleError).not.toHaveBeenCalled();
  });

  // Each row builds its Authorization header when run, once the issuer and connector of that test exist.
  const refusals: Array<{ name: string; authorization: () => string | undefined; channelId?: string }> = [
    { name: 'no Authorization header', authorization: () => undefined },
    { name: 'a token that is not a JWT', authorization: () => 'Bearer not-a-token' },
    {
      name: 'a token that is not a bearer token',
      authorization: () => `Basic ${issuer.issueToken(APP_ID, connector.url)}`,
    },
    {
      name: 'a token signed by a key the issuer never published',
      authorization: () =>
        `Bearer ${issuer.issueToken(APP_ID, connector.url, { signingKey: generateSigningKey(), kid: 'unknown' })}`,
    },
    {
      name: 'an expired token',
      authorization: () => {
        const hourAgo = Math.floor(Date.now() / 1000) - 3600;
        const claims = { iat: hourAgo - 600, nbf: hourAgo - 600, exp: hourAgo };
        return `Bearer ${issuer.issueToken(APP_ID, connector.url, { claims })}`;
      },
    },
    {
      name: 'a token for another bot',
      authorization: () => `Bearer ${issuer.issueToken(OTHER_APP_ID, connector.url)}`,
    },
    {
      name: 'a token from another issuer',
      authorization: () =>
        `Bearer ${issuer.issueToken(APP_ID, connector.url, { claims: { iss: 'https://example.com' } })}`,
    },
    {
      name: 'a token for another serviceUrl',
      authorization: () => `Bearer ${issuer.issueToken(APP_ID, 'https://elsewhere.example.com/')}`,
    },
    {
      name: 'a token whose key is not endorsed for the channel',
      authorization: () => `Bearer ${issuer.issueToken(APP_ID, connector.url)}`,
      channelId: 'slack',
    },
  ];

  it.each(refusals)('answers 401 to $name and the bot never sees the message', async (refusal) => {
    const extra = refusal.channelId ? { channelId: refusal.channelId } : {};
    const response = await post(activity(connector.url, extra), refusal.authorization());

    expect(response.status).toBe(401);
    expect(bot.bot.turns).toEqual([]);
    expect(connector.received).toEqual([]);
    expect(bot.turnErrors).toEqual([]);
  });

  // botframework-connector 4.23 lets jsonwebtoken's own error through for these two; createBotAdapter maps them
  // to 401 so a forged token reads as unauthorised, not as a server fault, and its reason is not echoed.
  const tokenLibraryRefusals: Array<{ name: string; token: () => string; message: string }> = [
    {
      name: 'a token signed by another key under the published key id',
      token: () => issuer.issueToken(APP_ID, connector.url, { signingKey: generateSigningKey() }),
      message: 'invalid signature',
    },
    {
      name: 'a token that is not valid yet',
      token: () =>
        issuer.issueToken(APP_ID, connector.url, { claims: { nbf: Math.floor(Date.now() / 1000) + 3600 } }),
      message: 'jwt not active',
    },
  ];

  it.each(tokenLibraryRefusals)('answers 401 to $name', async ({ token, message }) => {
    const response = await post(activity(connector.url), `Bearer ${token()}`);

    expect(response.status).toBe(401);
    expect(await response.text()).not.toContain(message);
    expect(bot.bot.turns).toEqual([]);
    expect(connector.received).toEqual([]);
    expect(bot.turnErrors).toEqual([]);
  });
});

describe('the product bot with authentication on', () => {
  it('imports a file and delivers the proactive result with its own token', async () => {
    const consoleError = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const issuer = await startLocalBotFrameworkIssuer({ endorsements: ['webchat', 'msteams'] });
    const connector = await startConnector();
    const settings = loadBotSettings(ENV);
    const credentials = new FixedTokenCredentialsFactory(settings.auth, OUTBOUND_TOKEN);
    const app = await startTestBotApp(
      { ...ENV, ADMINS: 'admin-1' },
      { authOptions: issuer.authOptions, credentialsFactory: credentials },
    );
    const send = (extra: Record<string, unknown>) =>
      fetch(`${app.url}/api/messages`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${issuer.issueToken(APP_ID, connector.url)}`,
        },
        body: JSON.stringify(
          activity(connector.url, { from: { id: 'admin-1', name: 'Ada' }, text: '', ...extra }),
        ),
      });
    try {
      const file = 'Email ID,First Name,Last Name,User Status\nkim@acme.com,Kim,Lo,New\n';
      const attachments = [
        {
          contentType: 'text/csv',
          name: 'u.csv',
          contentUrl: `data:text/csv;base64,${Buffer.from(file).toString('base64')}`,
        },
      ];
      expect((await send({ attachments })).status).toBe(200);
      expect((await send({ text: 'yes' })).status).toBe(200);
      expect(await app.app.runner.runOnce()).toBe(true);

      const texts = connector.received.map((c) => String(c.body.text ?? ''));
      expect(texts).toEqual(
        expect.arrayContaining([
          'Got it, reading your file…',
          expect.stringMatching(/^u\.csv: 1 row\./),
          expect.stringMatching(/^Importing u\.csv now/),
          expect.stringMatching(/^Import finished: u\.csv .* Created 1,/),
        ]),
      );
      // Replies in the turn and the proactive ones after it all carry the bot's own token.
      expect(connector.received.every((c) => c.authorization === `Bearer ${OUTBOUND_TOKEN}`)).toBe(true);
      expect(
        await app.services.database.db.collection('users').countDocuments({ email: 'kim@acme.com' }),
      ).toBe(1);
    } finally {
      await app.close();
      await connector.close();
      await issuer.close();
      consoleError.mockRestore();
    }
  });
});
