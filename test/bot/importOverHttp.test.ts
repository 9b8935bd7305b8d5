import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Papa from 'papaparse';
import { startSmtpTestServer, type SmtpTestServer } from '../notifications/smtpTestServer';
import { startLoopbackConnector, type LoopbackConnector } from '../support/loopbackConnector';
import { startTestBotApp, type TestBotApp } from '../support/testBotApp';

const TENANT = '6f0c3b7e-1d2a-4c5b-9e8f-0a1b2c3d4e5f';
const FILE =
  'Email ID,First Name,Last Name,User Status\njane@acme.com,Jane,Doe,New\nsam@acme.com,Sam,Lee,New\nbad-email,Bob,Ray,New\n';

let bot: TestBotApp;
let connector: LoopbackConnector;
let smtp: SmtpTestServer;

beforeAll(async () => {
  [connector, smtp] = await Promise.all([startLoopbackConnector(), startSmtpTestServer()]);
  bot = await startTestBotApp({
    DEFAULT_ACCOUNT: 'acme',
    ADMINS: 'admin-1',
    TENANT_ACCOUNTS: `${TENANT}=teamsco`,
    SMTP_URL: smtp.url,
  });
});
afterAll(async () => {
  await bot.close();
  await Promise.all([connector.close(), smtp.close()]);
});

let seq = 0;
function activityFor(channelId: string, conversationId: string, extra: Record<string, unknown>) {
  return {
    type: 'message',
    id: `in-${++seq}`,
    channelId,
    serviceUrl: connector.url,
    from: { id: 'admin-1', name: 'Ada', ...(channelId === 'msteams' ? { aadObjectId: 'aad-admin-1' } : {}) },
    recipient: { id: 'bot-1', name: 'Enrollment Assistant' },
    conversation: {
      id: conversationId,
      conversationType: 'personal',
      ...(channelId === 'msteams' ? { tenantId: TENANT } : {}),
    },
    ...(channelId === 'msteams' ? { channelData: { tenant: { id: TENANT } } } : {}),
    text: '',
    ...extra,
  };
}

async function post(body: unknown): Promise<Response> {
  return fetch(`${bot.url}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

const fileAttachment = (text: string, name = 'users.csv') => ({
  contentType: 'text/csv',
  name,
  contentUrl: `data:text/csv;base64,${Buffer.from(text).toString('base64')}`,
});

/** The messages the bot sent into one conversation, from the connector's point of view. */
function conversationMessages(conversationId: string) {
  return connector.calls.filter(
    (c) =>
      c.url.includes(`/v3/conversations/${encodeURIComponent(conversationId)}/activities`) &&
      c.body.type === 'message',
  );
}

const texts = (conversationId: string) =>
  conversationMessages(conversationId).map((c) => String(c.body.text ?? ''));
const cardOf = (body: Record<string, unknown>) =>
  ((body.attachments as Array<{ contentType: string; content: unknown }> | undefined) ?? [])[0];

describe.each(['webchat', 'msteams'])('an import over HTTP on %s', (channelId) => {
  const conversationId = `${channelId}-conversation`;

  it('goes from file to results in two admin turns, with progress, mail and a signed report', async () => {
    const accountId = channelId === 'msteams' ? 'teamsco' : 'acme';
    expect(
      (await post(activityFor(channelId, conversationId, { attachments: [fileAttachment(FILE)] }))).status,
    ).toBe(200);
    expect(texts(conversationId)).toEqual([
      'Got it, reading your file…',
      expect.stringContaining('users.csv: 3 rows'),
    ]);
    const plan = cardOf(conversationMessages(conversationId)[1]?.body ?? {});
    expect(plan?.contentType).toBe('application/vnd.microsoft.card.adaptive');

    expect((await post(activityFor(channelId, conversationId, { text: 'yes' }))).status).toBe(200);
    const importing = texts(conversationId).at(-1) ?? '';
    const importId = /\(import (imp_[a-z0-9]+)\)/.exec(importing)?.[1];
    expect(importId).toBeDefined();

    // The background job, as any instance's runner would claim it.
    expect(await bot.app.runner.runOnce()).toBe(true);
    const progress = conversationMessages(conversationId).filter((c) =>
      /^Import(ing|ed) users\.csv:/.test(String(c.body.text)),
    );
    expect(progress[0]?.method).toBe('POST');
    expect(progress[0]?.body.text).toBe('Importing users.csv: starting…');
    // Later progress updates the same message in place.
    const updates = connector.calls.filter(
      (c) => c.method === 'PUT' && c.url.includes(encodeURIComponent(conversationId)),
    );
    expect(updates.length).toBeGreaterThan(0);
    expect(updates.at(-1)?.body.text).toBe('Imported users.csv: all 3 rows handled.');
    expect(updates.some((u) => /3 of 3 rows \(100%\)/.test(String(u.body.text)))).toBe(true);

    const result = conversationMessages(conversationId).find((c) =>
      String(c.body.text).startsWith('Import finished'),
    );
    expect(result?.body.text).toContain(`Import finished: users.csv (import #1). Created 2,`);
    const card = JSON.stringify(cardOf(result?.body ?? {})?.content);
    expect(card).toContain('"title":"Created","value":"2"');
    expect(card).toContain('"title":"Ignored","value":"1"');
    expect(card).toContain('2 invitations: 0 sent, 2 waiting, 0 failed');
    expect(card).toContain('Row 4 (bad-email)');

    // In Teams the report is also offered as a file.
    const consent = conversationMessages(conversationId).find(
      (c) => cardOf(c.body)?.contentType === 'application/vnd.microsoft.teams.card.file.consent',
    );
    expect(Boolean(consent)).toBe(channelId === 'msteams');

    // Invitations go out through the real SMTP server; the results then say so.
    const mailBefore = smtp.received.length;
    await bot.services.outbox.runOnce();
    const delivered = smtp.received.slice(mailBefore).flatMap((m) => m.rcptTo);
    expect(delivered.sort()).toEqual(['jane@acme.com', 'sam@acme.com']);
    await post(activityFor(channelId, conversationId, { text: 'show last import results' }));
    const latest = JSON.stringify(cardOf(conversationMessages(conversationId).at(-1)?.body ?? {})?.content);
    expect(latest).toContain('2 invitations: 2 sent, 0 waiting, 0 failed');

    // The signed report link, served by the bot.
    const link = /"url":"([^"]+\/reports\/[^"]+)"/.exec(latest)?.[1] ?? '';
    const report = await fetch(`${bot.url}${new URL(link).pathname}${new URL(link).search}`);
    expect(report.status).toBe(200);
    const rows = Papa.parse<Record<string, string>>((await report.text()).replace(/^\ufeff/, ''), {
      header: true,
      skipEmptyLines: true,
    }).data;
    expect(rows.map((r) => [r.Email, r.Outcome])).toEqual([
      ['jane@acme.com', 'created'],
      ['sam@acme.com', 'created'],
      ['bad-email', 'ignored'],
    ]);
    const users = await bot.services.database.db.collection('users').countDocuments({ accountId });
    expect(users).toBe(2);
  });
});

describe('the report as a Teams file', () => {
  it('uploads the CSV where Teams says and posts the file card', async () => {
    const received: Array<{ method: string; headers: http.IncomingHttpHeaders; body: string }> = [];
    const upload = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        received.push({ method: req.method ?? '', headers: req.headers, body });
        res.writeHead(201);
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => upload.listen(0, '127.0.0.1', resolve));
    const uploadUrl = `http://127.0.0.1:${(upload.address() as AddressInfo).port}/drive/report.csv`;
    try {
      const [record] = await bot.services.imports.history.list('teamsco', 1);
      expect(record).toBeDefined();
      const invoke = activityFor('msteams', 'msteams-conversation', {
        type: 'invoke',
        name: 'fileConsent/invoke',
        value: {
          type: 'fileUpload',
          action: 'accept',
          context: { importId: record?._id, accountId: 'teamsco' },
          uploadInfo: {
            name: 'report.csv',
            uploadUrl,
            contentUrl: 'https://contoso.sharepoint.com/report.csv',
            uniqueId: 'file-1',
            fileType: 'csv',
          },
        },
      });
      const response = await post(invoke);
      expect(response.status).toBe(200);
      expect(received).toHaveLength(1);
      expect(received[0]?.method).toBe('PUT');
      expect(received[0]?.headers['content-range']).toMatch(/^bytes 0-\d+\/\d+$/);
      expect(received[0]?.body).toContain('jane@acme.com,new,created');
      const fileCard = conversationMessages('msteams-conversation').at(-1)?.body;
      expect(cardOf(fileCard ?? {})).toMatchObject({
        contentType: 'application/vnd.microsoft.teams.card.file.info',
        contentUrl: 'https://contoso.sharepoint.com/report.csv',
      });
    } finally {
      upload.closeAllConnections();
      await new Promise<void>((resolve) => upload.close(() => resolve()));
    }
  });
});

describe('two files sent at once', () => {
  it('ends with one plan under review and nothing imported', async () => {
    const conversationId = 'racing-conversation';
    const [a, b] = await Promise.all([
      post(activityFor('webchat', conversationId, { attachments: [fileAttachment(FILE, 'a.csv')] })),
      post(activityFor('webchat', conversationId, { attachments: [fileAttachment(FILE, 'b.csv')] })),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const said = texts(conversationId);
    // Either the second file replaced the first, or the turns overlapped and the later one asked to resend.
    expect(
      said.some(
        (t) => t.startsWith('I set the previous plan aside') || t.startsWith('I was still handling'),
      ) || said.filter((t) => /^[ab]\.csv: 3 rows/.test(t)).length === 2,
    ).toBe(true);
    await post(activityFor('webchat', conversationId, { text: 'cancel' }));
    expect(texts(conversationId).at(-1)).toMatch(/^Cancelled\. Nothing was changed/);
    expect(await bot.app.queue.active('acme')).toBeNull();
  });
});

describe('a large file over HTTP', () => {
  it('is acknowledged at once and its plan arrives proactively, ready to confirm', async () => {
    const big = await startTestBotApp({ DEFAULT_ACCOUNT: 'bigco', ADMINS: 'admin-1' }, undefined, {
      inlinePlanMaxBytes: 0,
    });
    const conversationId = 'large-file-conversation';
    const postTo = (body: unknown) =>
      fetch(`${big.url}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    try {
      expect(
        (await postTo(activityFor('webchat', conversationId, { attachments: [fileAttachment(FILE)] })))
          .status,
      ).toBe(200);
      expect(texts(conversationId).slice(0, 2)).toEqual([
        'Got it, reading your file…',
        expect.stringMatching(/^users\.csv is large .* I am working out its plan/),
      ]);
      const planned = await connector.waitFor(
        (c) => c.url.includes(conversationId) && String(c.body.text ?? '').startsWith('users.csv: 3 rows'),
      );
      expect(cardOf(planned.body)?.contentType).toBe('application/vnd.microsoft.card.adaptive');
      await postTo(activityFor('webchat', conversationId, { text: 'yes' }));
      expect(texts(conversationId).at(-1)).toMatch(/^Importing users\.csv now/);
      expect(await big.app.queue.active('bigco')).toMatchObject({ fileName: 'users.csv' });
    } finally {
      await big.close();
    }
  });
});
