import type restify from 'restify';
import type { Db } from 'mongodb';
import type { Logger } from '../../services/logger';
import { DIRECT_LINE_BASE, registerClientRoutes } from './clientRoutes';
import { CONNECTOR_BASE, registerConnectorRoutes } from './connectorRoutes';
import type { DirectLineContext } from './directLineContext';
import { registerCors } from './directLineCors';
import { TurnDelivery } from './directLineDelivery';
import { DirectLineFiles } from './directLineFiles';
import { errorBody } from './directLineHttp';
import { DirectLineStore } from './directLineStore';
import { DEFAULT_TOKEN_TTL_MS, DirectLineTokens } from './directLineTokens';

/** What the local Direct Line channel needs. */
export interface DirectLineDeps {
  db: Db;
  /** This process's own base URL (http://127.0.0.1:<port>), known once the server listens. */
  selfUrl: () => string;
  /** Largest file a user may send, in bytes. */
  maxFileBytes: number;
  log: Logger;
  /** How the channel names the bot to the bot and to clients; defaults to the Enrollment Assistant. */
  bot?: { id: string; name: string };
  /** Token lifetime; Direct Line's 30 minutes by default. */
  tokenTtlMs?: number;
  /** How long an uploaded file can be downloaded; one hour by default. */
  fileTtlMs?: number;
  /** Most files in one upload; 10 by default. */
  maxUploadFiles?: number;
  /** A turn still running after this long is abandoned; two minutes by default. */
  turnTimeoutMs?: number;
  /**
   * Who may start a chat: `loopback` (browsers on this machine, the default) or `anyone` who reaches the
   * port. A chat's user administers the default account, so this is the channel's only gate.
   */
  tokensFor?: 'loopback' | 'anyone';
}

/** The running local channel. */
export interface DirectLineChannel {
  /** Resolves once every user activity received so far has been handed to the bot (tests, shutdown). */
  idle(): Promise<void>;
}

export const DEFAULT_BOT_ACCOUNT = { id: 'enrollment-assistant', name: 'Enrollment Assistant' };

/**
 * Mounts the local Direct Line 3.0 endpoint (`/v3/directline/…`, what Web Chat talks to) and the connector
 * endpoints the bot replies to (`/v3/conversations/…`), so Web Chat in a browser reaches the bot with no
 * Azure service in between. User activities are stored, echoed to the client and posted to this process's
 * own `/api/messages`; the bot's replies land in the same feed, which clients poll. Everything lives in the
 * database, so a restart loses no conversation.
 *
 * The bot is reached unauthenticated: the channel is for a bot running without a Microsoft app id.
 */
export function registerDirectLine(server: restify.Server, deps: DirectLineDeps): DirectLineChannel {
  const bot = deps.bot ?? DEFAULT_BOT_ACCOUNT;
  const ctx: DirectLineContext = {
    store: new DirectLineStore(deps.db),
    tokens: new DirectLineTokens(deps.db, deps.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS),
    files: new DirectLineFiles(deps.db, deps.fileTtlMs === undefined ? {} : { ttlMs: deps.fileTtlMs }),
    delivery: new TurnDelivery({
      selfUrl: deps.selfUrl,
      log: deps.log,
      ...(deps.turnTimeoutMs === undefined ? {} : { turnTimeoutMs: deps.turnTimeoutMs }),
    }),
    selfUrl: deps.selfUrl,
    bot: { id: bot.id, name: bot.name, role: 'bot' },
    maxFileBytes: deps.maxFileBytes,
    maxUploadFiles: deps.maxUploadFiles ?? 10,
    tokensFor: deps.tokensFor ?? 'loopback',
    log: deps.log,
  };

  registerCors(server, DIRECT_LINE_BASE);
  // restify's own refusals (unknown route, wrong method, unreadable JSON) in the APIs' error shape.
  server.on(
    'restifyError',
    (req: restify.Request, _res: restify.Response, err: Error, callback: () => void) => {
      const path = (req.url ?? '').split('?')[0] ?? '';
      if (path.startsWith(`${DIRECT_LINE_BASE}/`) || path.startsWith(`${CONNECTOR_BASE}/`)) {
        const { code, message } = err as Error & { code?: unknown };
        (err as Error & { toJSON: () => unknown }).toJSON = () =>
          errorBody(typeof code === 'string' ? code : 'BadRequest', message);
      }
      return callback();
    },
  );
  registerClientRoutes(server, ctx);
  registerConnectorRoutes(server, ctx);

  return { idle: () => ctx.delivery.idle() };
}
