import { WELCOME_TEXT } from '../../bot/enrollmentBot';
import { DirectLineStore } from '../../bot/directLine/directLineStore';
import { tokenKey } from '../../bot/directLine/directLineTokens';
import { startTestBotApp, type TestBotApp } from '../support/testBotApp';
import { startLoopbackConnector } from '../support/loopbackConnector';

/*
 * The local Direct Line 3.0 endpoint, driven over plain HTTP exactly as Web Chat's client
 * (botframework-directlinejs with `webSocket: false`) drives it: token, conversation, polling, posts and uploads.
 */

const ADMIN = 'web-admin-1';
const MAX_FILE_BYTES = 4096;
const FILE =
  'Email ID,First Name,Last Name,User Status\njane@acme.com,Jane,Doe,New\nsam@acme.com,Sam,Lee,New\nbad-email,Bob,Ray,New\n';

interface Attachment {
  contentType: string;
  contentUrl?: string;
  name?: string;
  content?: unknown;
}

interface Activity {
  id: string;
  type: string;
  text?: string;
  timestamp?: string;
  replyToId?: string;
  channelId?: string;
  conversation?: { id: string };
  from: { id: string; name?: string; role?: string };
  recipient?: { id: string; role?: string };
  attachments?: Attachment[];
  channelData?: Record<string, unknown>;
}

interface Grant {
  conversationId: string;
  token: string;
  expires_in: number;
  streamUrl?: string;
}

let bot: TestBotApp;
let base: string;

beforeAll(async () => {
  // No ADMINS: the local page's user administers the default account. `auto` is what `npm start` runs with.
  bot = await startTestBotApp({
    LOCAL_CHANNEL: 'auto',
    DEFAULT_ACCOUNT: 'acme',
    MAX_FILE_SIZE: String(MAX_FILE_BYTES),
  });
  base = `${bot.url}/v3/directline`;
});
afterAll(async () => {
  await bot.close();
});

const bearer = (token: string) => ({
  authorization: `Bearer ${token}`,
  'x-ms-bot-agent': 'DirectLine/3.0 (test)',
});
const json = { 'content-type': 'application/json' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const collection = (name: string) => bot.services.database.db.collection<{ _id: string }>(name);

async function generate(user?: { id: string; name?: string }): Promise<Grant> {
  const response = await fetch(`${base}/tokens/generate`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify(user ? { user } : {}),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Grant;
}

/** One Direct Line client session: polls the feed and remembers every page it got. */
class Client {
  watermark = '';
  readonly received: Activity[] = [];
  readonly pages: Array<{ from: string; to: string; count: number }> = [];

  constructor(
    readonly conversationId: string,
    public token: string,
  ) {}

  /** Starts the conversation as directlinejs does: POST /conversations with the token. */
  async start(): Promise<Response> {
    return fetch(`${base}/conversations`, {
      method: 'POST',
      headers: { ...bearer(this.token), ...json },
      body: JSON.stringify({ user: {}, locale: 'en-US' }),
    });
  }

  async poll(): Promise<Activity[]> {
    const response = await fetch(
      `${base}/conversations/${this.conversationId}/activities?watermark=${this.watermark}`,
      { headers: { ...bearer(this.token), accept: 'application/json' } },
    );
    expect(response.status).toBe(200);
    const page = (await response.json()) as { activities: Activity[]; watermark: string };
    this.pages.push({ from: this.watermark, to: page.watermark, count: page.activities.length });
    this.watermark = page.watermark;
    this.received.push(...page.activities);
    return page.activities;
  }

  /** Polls until an activity received at or after index `since` matches, or fails after a deadline. */
  async waitFor(predicate: (a: Activity) => boolean, what: string, since = 0): Promise<Activity> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const found = this.received.slice(since).find(predicate);
      if (found) return found;
      if (Date.now() > deadline) {
        const said = this.received.map((a) => `${a.from.role}: ${a.text ?? a.type}`).join('\n');
        throw new Error(`Timed out waiting for ${what}. Received so far:\n${said}`);
      }
      await this.poll();
      await sleep(100);
    }
  }

  async post(activity: Record<string, unknown>): Promise<string> {
    const response = await fetch(`${base}/conversations/${this.conversationId}/activities`, {
      method: 'POST',
      headers: { ...bearer(this.token), ...json },
      body: JSON.stringify({ from: { id: 'r_someone', role: 'user' }, ...activity }),
    });
    expect(response.status).toBe(200);
    const { id } = (await response.json()) as { id: string };
    expect(typeof id).toBe('string');
    return id;
  }

  async upload(files: Array<{ name: string; type: string; content: string }>, clientActivityID: string) {
    const form = new FormData();
    const template = {
      type: 'message',
      from: { id: 'r_forged', role: 'user' },
      channelData: { clientActivityID },
      attachments: files.map((f) => ({ contentType: f.type, name: f.name })),
    };
    form.append(
      'activity',
      new Blob([JSON.stringify(template)], { type: 'application/vnd.microsoft.activity' }),
    );
    for (const f of files) form.append('file', new Blob([f.content], { type: f.type }), f.name);
    return fetch(`${base}/conversations/${this.conversationId}/upload?userId=${ADMIN}`, {
      method: 'POST',
      headers: bearer(this.token),
      body: form,
    });
  }
}

async function connect(user?: { id: string; name?: string }): Promise<Client> {
  const grant = await generate(user);
  const client = new Client(grant.conversationId, grant.token);
  expect((await client.start()).status).toBe(201);
  return client;
}

const isBot = (a: Activity) => a.from.role === 'bot';
const cardOf = (a: Activity) => a.attachments?.[0];

describe('an import through the local Direct Line endpoint', () => {
  it('goes from upload to results the way Web Chat drives it', async () => {
    const grant = await generate({ id: ADMIN, name: 'Ada' });
    expect(grant).toEqual({
      conversationId: expect.any(String),
      token: expect.any(String),
      expires_in: 1800,
    });
    const client = new Client(grant.conversationId, grant.token);

    // Starting: 201 the first time, then 200 with the same conversation; the bot greets the user.
    const started = await client.start();
    expect(started.status).toBe(201);
    expect(await started.json()).toMatchObject({
      conversationId: grant.conversationId,
      token: grant.token,
      streamUrl: expect.stringContaining(`/v3/directline/conversations/${grant.conversationId}/stream`),
    });
    expect((await client.start()).status).toBe(200);
    const welcome = await client.waitFor(
      (a) => isBot(a) && (a.text ?? '').includes(WELCOME_TEXT),
      'the welcome',
    );
    expect(welcome).toMatchObject({
      channelId: 'webchat',
      conversation: { id: grant.conversationId },
      recipient: { id: ADMIN, role: 'user' },
    });

    // The file goes up as Web Chat sends it; the client gets its own activity back with the stored file.
    const upload = await client.upload([{ name: 'users.csv', type: 'text/csv', content: FILE }], 'upload-1');
    expect(upload.status).toBe(200);
    const { id: uploadId } = (await upload.json()) as { id: string };
    const echo = await client.waitFor((a) => a.id === uploadId, 'the upload echoed back');
    expect(echo).toMatchObject({
      type: 'message',
      from: { id: ADMIN, name: 'Ada', role: 'user' },
      channelData: { clientActivityID: 'upload-1' },
      attachments: [{ contentType: 'text/csv', name: 'users.csv' }],
    });
    const fileUrl = echo.attachments?.[0]?.contentUrl ?? '';
    expect(fileUrl.startsWith(`${bot.url}/v3/directline/files/`)).toBe(true);
    expect(fileUrl).toMatch(/\/files\/dlf-[0-9a-f]{32}$/);
    const download = await fetch(fileUrl);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('application/octet-stream');
    expect(await download.text()).toBe(FILE);

    const plan = await client.waitFor(
      (a) => isBot(a) && cardOf(a)?.contentType === 'application/vnd.microsoft.card.adaptive',
      'the plan card',
    );
    expect(plan.replyToId).toBe(uploadId);
    expect(plan.text).toContain('users.csv: 3 rows. Importing it creates 2, updates 0');
    expect(plan.text).toContain('1 row would be ignored');

    const yesId = await client.post({
      type: 'message',
      text: 'yes',
      channelData: { clientActivityID: 'yes-1' },
    });
    expect((await client.waitFor((a) => a.id === yesId, 'the "yes" echoed back')).from).toEqual({
      id: ADMIN,
      name: 'Ada',
      role: 'user',
    });
    const importing = await client.waitFor(
      (a) => isBot(a) && /^Importing users\.csv now \(import imp_[a-z0-9]+\)/.test(a.text ?? ''),
      '"Importing …"',
    );
    const importId = /\(import (imp_[a-z0-9]+)\)/.exec(importing.text ?? '')?.[1];

    // The background job, as an instance's runner would claim it; it reports into the same conversation.
    expect(await bot.app.runner.runOnce()).toBe(true);
    const result = await client.waitFor(
      (a) => isBot(a) && (a.text ?? '').startsWith('Import finished'),
      'the result card',
    );
    expect(result.text).toContain(`Import finished: users.csv (import #1). Created 2,`);
    const card = JSON.stringify(cardOf(result)?.content);
    expect(card).toContain('"title":"Created","value":"2"');
    expect(card).toContain('"title":"Ignored","value":"1"');
    expect(card).toContain(`/reports/${importId ?? 'missing'}.csv?`);

    // The progress message was updated in place: the same id arrived again, with the final text last.
    const progress = client.received.filter((a) => /^Import(ing|ed) users\.csv:/.test(a.text ?? ''));
    const progressId = progress[0]?.id;
    const versions = progress.filter((a) => a.id === progressId);
    expect(versions.length).toBeGreaterThanOrEqual(2);
    expect(versions[0]?.text).toBe('Importing users.csv: starting…');
    expect(versions.at(-1)?.text).toBe('Imported users.csv: all 3 rows handled.');
    expect(new Set(versions.map((v) => v.timestamp)).size).toBe(1);

    const before = client.received.length;
    await client.post({ type: 'message', text: 'show last import results' });
    const shown = await client.waitFor(
      (a) => isBot(a) && cardOf(a)?.contentType === 'application/vnd.microsoft.card.adaptive',
      'the results again',
      before,
    );
    expect(JSON.stringify(cardOf(shown)?.content)).toContain('"title":"Created","value":"2"');

    // Two questions in the admin's own words, answered from the recorded results.
    const beforeProblems = client.received.length;
    await client.post({ type: 'message', text: 'what went wrong with import #1' });
    const problems = await client.waitFor(
      (a) => isBot(a) && Boolean(cardOf(a)),
      'the problem rows',
      beforeProblems,
    );
    expect(problems.text).toMatch(/^1 row of #1 users\.csv was not imported, mostly: .*email/);
    expect(JSON.stringify(cardOf(problems)?.content)).toContain('bad-email');

    const beforeLookup = client.received.length;
    await client.post({ type: 'message', text: 'what happend to sam@acme.com' });
    const lookup = await client.waitFor(
      (a) => isBot(a) && Boolean(cardOf(a)),
      'the user history',
      beforeLookup,
    );
    expect(lookup.text).toMatch(
      /^sam@acme\.com: created by import #1 \(users\.csv, (?:today|yesterday)\)\. They are invited/,
    );
    expect(JSON.stringify(cardOf(lookup)?.content)).toContain('Created');
    expect(await collection('users').countDocuments({ accountId: 'acme' })).toBe(2);

    // Watermarks only ever grow, and asking from the latest one returns nothing new.
    for (const page of client.pages) {
      if (page.count > 0) expect(Number(page.to)).toBeGreaterThan(Number(page.from || '0'));
      else expect(page.to).toBe(page.from || '0');
    }
    const latest = client.watermark;
    expect(await client.poll()).toEqual([]);
    expect(client.watermark).toBe(latest);
    // Every activity id is unique except the updated progress message's.
    const ids = client.received.filter((a) => a.id !== progressId).map((a) => a.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('the activity feed', () => {
  it('gives concurrent posts and replies their own watermarks, and a polling client every one of them once', async () => {
    const client = await connect({ id: 'someone-else' });
    const texts = Array.from({ length: 12 }, (_, i) => `message ${i}`);
    // The client polls (one request at a time, as directlinejs does) while the posts, and the bot's answers
    // to them, are written concurrently.
    const answeredAll = (ids: string[]) =>
      ids.every((id) => client.received.some((a) => isBot(a) && a.replyToId === id));
    let ids: string[] = [];
    const polling = (async () => {
      const deadline = Date.now() + 30_000;
      while (ids.length === 0 || !answeredAll(ids)) {
        if (Date.now() > deadline) throw new Error('The bot did not answer every message in time.');
        await client.poll();
        await sleep(20);
      }
    })();
    ids = await Promise.all(texts.map((text) => client.post({ type: 'message', text })));
    await polling;

    const echoes = client.received.filter((a) => a.from.role === 'user');
    expect(echoes.map((a) => a.text).sort()).toEqual([...texts].sort());
    const all = client.received.map((a) => a.id);
    expect(new Set(all).size).toBe(all.length);
    const watermarks = all.map((id) => Number(id.split('|')[1]));
    expect(watermarks).toEqual(watermarks.map((_, i) => i + 1));
    // The bot answered each message in the order it was received.
    const answered = client.received.filter(isBot).flatMap((a) => (a.replyToId ? [a.replyToId] : []));
    expect(answered).toEqual([...ids].sort());
  });
});

describe('the stored feed', () => {
  it('carries on where it was after a restart, even when the watermark hint fell behind', async () => {
    const client = await connect({ id: 'restarting-user' });
    await client.waitFor(isBot, 'the welcome');
    const db = bot.services.database.db;
    // A new process: nothing remembered in memory, and a hint far behind the feed.
    await collection('directLineConversations').updateOne(
      { _id: client.conversationId },
      { $set: { lastWatermark: 0 } },
    );
    const restarted = new DirectLineStore(db);
    for (let i = 0; i < 10; i++) {
      await restarted.append(client.conversationId, () => ({ type: 'message', text: `after restart ${i}` }));
    }
    const page = await restarted.after(client.conversationId, 0);
    const watermarks = page.activities.map((a) => Number(String(a.id).split('|')[1]));
    expect(watermarks).toEqual(watermarks.map((_, i) => i + 1));
    expect(page.activities.at(-1)?.text).toBe('after restart 9');
    expect(page.watermark).toBe(String(watermarks.length));
  });
});

describe('tokens', () => {
  it('refuses a missing, wrong, expired or another conversation’s token with 403', async () => {
    const a = await generate({ id: 'user-a' });
    const b = await generate({ id: 'user-b' });
    const activities = (conversationId: string) => `${base}/conversations/${conversationId}/activities`;

    const none = await fetch(activities(a.conversationId));
    expect(none.status).toBe(403);
    expect(await none.json()).toEqual({ error: { code: 'TokenExpired', message: expect.any(String) } });
    expect((await fetch(`${base}/conversations`, { method: 'POST' })).status).toBe(403);
    expect((await fetch(`${base}/tokens/refresh`, { method: 'POST' })).status).toBe(403);
    for (const wrong of ['nonsense', 'A'.repeat(43), `${a.token.slice(0, -1)}x`]) {
      expect((await fetch(activities(a.conversationId), { headers: bearer(wrong) })).status).toBe(403);
    }
    expect((await fetch(activities(a.conversationId), { headers: bearer(b.token) })).status).toBe(403);
    expect(
      (await fetch(`${base}/conversations/${a.conversationId}`, { headers: bearer(b.token) })).status,
    ).toBe(403);
    const post = await fetch(activities(a.conversationId), {
      method: 'POST',
      headers: { ...bearer(b.token), ...json },
      body: JSON.stringify({ type: 'message', text: 'hi' }),
    });
    expect(post.status).toBe(403);
    const form = new FormData();
    form.append('activity', new Blob(['{"type":"message"}'], { type: 'application/vnd.microsoft.activity' }));
    const upload = await fetch(`${base}/conversations/${a.conversationId}/upload`, {
      method: 'POST',
      headers: bearer(b.token),
      body: form,
    });
    expect(upload.status).toBe(403);
    expect((await fetch(activities(a.conversationId), { headers: bearer(a.token) })).status).toBe(200);

    // An expired token is refused everywhere, refresh included.
    await collection('directLineTokens').updateOne(
      { _id: tokenKey(a.token) },
      { $set: { expiresAt: new Date(Date.now() - 1000) } },
    );
    expect((await fetch(activities(a.conversationId), { headers: bearer(a.token) })).status).toBe(403);
    expect((await fetch(`${base}/tokens/refresh`, { method: 'POST', headers: bearer(a.token) })).status).toBe(
      403,
    );
  });

  it('refreshes a live token into a new one for the same conversation and reconnects with it', async () => {
    const grant = await generate();
    const refreshed = await fetch(`${base}/tokens/refresh`, { method: 'POST', headers: bearer(grant.token) });
    expect(refreshed.status).toBe(200);
    const fresh = (await refreshed.json()) as Grant;
    expect(fresh).toEqual({
      conversationId: grant.conversationId,
      token: expect.any(String),
      expires_in: 1800,
    });
    expect(fresh.token).not.toBe(grant.token);

    const reconnect = await fetch(`${base}/conversations/${grant.conversationId}?watermark=`, {
      headers: bearer(fresh.token),
    });
    expect(reconnect.status).toBe(200);
    expect(await reconnect.json()).toMatchObject({
      conversationId: grant.conversationId,
      token: fresh.token,
    });
    // The old token stays good until its own expiry, for requests already on their way.
    const old = await fetch(`${base}/conversations/${grant.conversationId}/activities`, {
      headers: bearer(grant.token),
    });
    expect(old.status).toBe(200);
  });

  it('names a user the page did not name dl_<random>, and takes the user from the token, not the activity', async () => {
    const client = await connect();
    const id = await client.post({ type: 'message', text: 'hello', from: { id: ADMIN, role: 'user' } });
    const echo = await client.waitFor((a) => a.id === id, 'the echo');
    expect(echo.from.id).toMatch(/^dl_[0-9a-f]{24}$/);
    // Not an administrator: the bot says so instead of importing.
    await client.waitFor((a) => isBot(a) && a.replyToId === id, 'the bot’s answer');
  });
});

describe('CORS', () => {
  it('answers preflights for the Direct Line API with the headers Web Chat needs', async () => {
    const origin = 'https://chat.example.test';
    const preflight = await fetch(`${base}/conversations/some-id/activities`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,x-ms-bot-agent',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
    const allowed = (preflight.headers.get('access-control-allow-headers') ?? '').split(/,\s*/);
    expect(allowed).toEqual(
      expect.arrayContaining(['authorization', 'content-type', 'x-ms-bot-agent', 'x-requested-with']),
    );
    expect(preflight.headers.get('access-control-allow-methods')).toMatch(/GET.*POST.*PUT.*OPTIONS/);

    const grant = await generate();
    const get = await fetch(`${base}/conversations/${grant.conversationId}/activities`, {
      headers: { ...bearer(grant.token), origin },
    });
    expect(get.status).toBe(200);
    expect(get.headers.get('access-control-allow-origin')).toBe(origin);
  });

  it('lets only pages on this machine mint tokens from another origin', async () => {
    const ask = (origin: string) =>
      fetch(`${base}/tokens/generate`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
    expect((await ask('http://localhost:5173')).headers.get('access-control-allow-origin')).toBe(
      'http://localhost:5173',
    );
    expect((await ask(bot.url)).headers.get('access-control-allow-origin')).toBe(bot.url);
    expect((await ask('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('uploads and files', () => {
  it('refuses a file over the size limit with 413 and keeps nothing of the upload', async () => {
    const client = await connect({ id: ADMIN });
    await client.waitFor(isBot, 'the welcome');
    await client.poll();
    const chunksBefore = await collection('directLineFileChunks').countDocuments({});
    const response = await client.upload(
      [
        { name: 'small.csv', type: 'text/csv', content: FILE },
        { name: 'big.csv', type: 'text/csv', content: 'x'.repeat(MAX_FILE_BYTES + 500) },
      ],
      'too-big',
    );
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      error: { code: 'FileTooLarge', message: expect.stringContaining(`${MAX_FILE_BYTES}-byte limit`) },
    });
    expect(
      await collection('directLineFiles').countDocuments({ conversationId: client.conversationId }),
    ).toBe(0);
    expect(await collection('directLineFileChunks').countDocuments({})).toBe(chunksBefore);
    expect(await client.poll()).toEqual([]);
  });

  it('answers 404 for an unknown or malformed file id', async () => {
    expect((await fetch(`${base}/files/dlf-${'0'.repeat(32)}`)).status).toBe(404);
    const malformed = await fetch(`${base}/files/..%2F..%2Fetc%2Fpasswd`);
    expect(malformed.status).toBe(404);
  });

  it('refuses attachment links to this machine in posted activities', async () => {
    const client = await connect();
    const response = await fetch(`${base}/conversations/${client.conversationId}/activities`, {
      method: 'POST',
      headers: { ...bearer(client.token), ...json },
      body: JSON.stringify({
        type: 'message',
        attachments: [{ contentType: 'text/csv', name: 'x.csv', contentUrl: 'http://127.0.0.1:1/secret' }],
      }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('BadArgument');
  });

  it('answers malformed JSON in the API’s error shape', async () => {
    const grant = await generate();
    const response = await fetch(`${base}/conversations/${grant.conversationId}/activities`, {
      method: 'POST',
      headers: { ...bearer(grant.token), ...json },
      body: '{"type":',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: { code: expect.any(String), message: expect.any(String) },
    });
  });
});

describe('the connector endpoints the bot replies to', () => {
  it('accept only conversations and activities of the local channel', async () => {
    const client = await connect();
    const connector = `${bot.url}/v3/conversations`;
    const send = (method: string, path: string, body: Record<string, unknown>) =>
      fetch(`${connector}${path}`, { method, headers: json, body: JSON.stringify(body) });

    const unknown = await send('POST', '/somebody-elses-conversation/activities', {
      type: 'message',
      text: 'x',
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: { code: 'NotFound', message: expect.any(String) } });
    expect(
      (await send('POST', '/somebody-elses-conversation/activities/a1', { type: 'message' })).status,
    ).toBe(404);
    expect(
      (await send('PUT', '/somebody-elses-conversation/activities/a1', { type: 'message' })).status,
    ).toBe(404);

    const posted = await send('POST', `/${client.conversationId}/activities`, {
      type: 'message',
      text: 'Hello',
    });
    expect(posted.status).toBe(200);
    const { id } = (await posted.json()) as { id: string };
    expect(
      await send('PUT', `/${client.conversationId}/activities/${encodeURIComponent(`${id}9`)}`, {
        type: 'message',
      }),
    ).toMatchObject({ status: 404 });
    const other = await connect();
    expect(
      (
        await send('PUT', `/${other.conversationId}/activities/${encodeURIComponent(id)}`, {
          type: 'message',
        })
      ).status,
    ).toBe(404);

    // The bot may edit its own messages, not the user's.
    const userMessage = await client.post({ type: 'message', text: 'mine' });
    const editUser = await send(
      'PUT',
      `/${client.conversationId}/activities/${encodeURIComponent(userMessage)}`,
      {
        type: 'message',
        text: 'edited',
      },
    );
    expect(editUser.status).toBe(404);

    const updated = await send('PUT', `/${client.conversationId}/activities/${encodeURIComponent(id)}`, {
      type: 'message',
      text: 'Hello again',
    });
    expect(updated.status).toBe(200);
    expect(await updated.json()).toEqual({ id });
    const versions = (await client.waitFor((a) => a.text === 'Hello again', 'the update'),
    client.received).filter((a) => a.id === id);
    expect(versions.map((v) => v.text)).toEqual(['Hello', 'Hello again']);
    expect(versions.every((v) => v.from.role === 'bot')).toBe(true);
  });
});

describe('who the local page lets in', () => {
  it('does not make other webchat senders administrators', async () => {
    const connector = await startLoopbackConnector();
    try {
      const response = await fetch(`${bot.url}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          type: 'message',
          id: 'elsewhere-1',
          channelId: 'webchat',
          serviceUrl: connector.url,
          from: { id: 'someone-else' },
          recipient: { id: 'bot' },
          conversation: { id: 'elsewhere' },
          text: 'show last import results',
        }),
      });
      expect(response.status).toBe(200);
      expect(String(connector.calls[0]?.body.text)).toMatch(/only the administrators of this account/);
    } finally {
      await connector.close();
    }
  });
});
