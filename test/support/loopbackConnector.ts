import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the bot made to the channel. */
export interface ConnectorCall {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface LoopbackConnector {
  /** The serviceUrl to put on activities sent to the bot. */
  url: string;
  calls: ConnectorCall[];
  /** Messages the bot posted or updated, in order, with the id the connector gave them. */
  messages(): Array<Record<string, unknown>>;
  /** Resolves once `predicate` holds for some call (polling), or rejects after `timeoutMs`. */
  waitFor(predicate: (call: ConnectorCall) => boolean, timeoutMs?: number): Promise<ConnectorCall>;
  close(): Promise<void>;
}

/**
 * A stand-in for a channel's Bot Connector service on 127.0.0.1: records every call the bot makes to its
 * serviceUrl, gives posted activities ids, accepts updates, and answers member look-ups.
 */
export async function startLoopbackConnector(
  members: Record<string, Record<string, unknown>> = {},
): Promise<LoopbackConnector> {
  const calls: ConnectorCall[] = [];
  let nextId = 0;
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      const call = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      calls.push(call);
      const member = /\/members\/([^/?]+)$/.exec(call.url);
      res.setHeader('content-type', 'application/json');
      if (req.method === 'GET' && member) {
        const found = members[decodeURIComponent(member[1] ?? '')];
        res.statusCode = found ? 200 : 404;
        res.end(JSON.stringify(found ?? { error: { code: 'NotFound' } }));
        return;
      }
      if (req.method === 'PUT') {
        res.end(JSON.stringify({ id: call.url.split('/').pop() }));
        return;
      }
      res.end(JSON.stringify({ id: `activity-${++nextId}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    messages: () =>
      calls
        .filter((c) => (c.method === 'POST' || c.method === 'PUT') && c.body.type === 'message')
        .map((c) => c.body),
    waitFor: async (predicate, timeoutMs = 20_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = calls.find(predicate);
        if (found) return found;
        if (Date.now() > deadline) throw new Error('The bot did not send the expected activity in time.');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
