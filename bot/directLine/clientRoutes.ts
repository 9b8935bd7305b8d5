import { randomBytes } from 'node:crypto';
import type restify from 'restify';
import { z } from 'zod';
import {
  clientActivitySchema,
  conversationStart,
  isAcceptableAttachmentUrl,
  toBot,
  userActivity,
} from './directLineActivities';
import { userAccount, type DirectLineContext } from './directLineContext';
import { DirectLineFiles, type DirectLineFile } from './directLineFiles';
import {
  bearerToken,
  DirectLineHttpError,
  errorName,
  forbidden,
  isLoopbackAddress,
  notFound,
  parseOr400,
  queryOf,
  route,
} from './directLineHttp';
import type { DirectLineConversation } from './directLineStore';
import { DirectLineTokens, type TokenClaims } from './directLineTokens';
import { readUpload } from './multipartUpload';

/** The base path of the Direct Line 3.0 API, as Web Chat's `domain` names it. */
export const DIRECT_LINE_BASE = '/v3/directline';

/** Largest `activity` part of an upload: about Azure's cap on an activity's JSON. */
const MAX_UPLOAD_ACTIVITY_BYTES = 512 * 1024;

const userIdSchema = z
  .string()
  .trim()
  .min(1)
  .max(128)
  // eslint-disable-next-line no-control-regex -- ids end up in logs and activities
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters');

const generateBodySchema = z
  .looseObject({
    user: z
      .looseObject({
        id: userIdSchema.optional(),
        name: z.string().trim().max(256).optional(),
      })
      .optional(),
  })
  .optional();

/** Direct Line's `POST /conversations` body: the user and locale, both decided by the token here. */
const startBodySchema = z.looseObject({}).optional();

const conversationIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'is not a conversation id');
const watermarkSchema = z
  .string()
  .regex(/^\d{0,15}$/, 'must be a whole number')
  .transform((v) => (v === '' ? 0 : Number(v)));

/** A local name for the random user id Direct Line gives users the page did not name. */
function generatedUserId(): string {
  return `dl_${randomBytes(12).toString('hex')}`;
}

/**
 * Mounts the client side of Direct Line 3.0: tokens, conversations, the activity feed, uploads, and the
 * downloads of uploaded files.
 */
export function registerClientRoutes(server: restify.Server, ctx: DirectLineContext): void {
  const onUnexpected = (err: unknown, req: restify.Request) =>
    ctx.log.error('Local Direct Line request failed', {
      method: req.method,
      route: req.getRoute()?.path,
      error: errorName(err),
    });
  const handle = (handler: (req: restify.Request, res: restify.Response) => Promise<void>) =>
    route(onUnexpected, handler);

  /** The token's claims and conversation, or a 403 (for any token problem) / 404 (conversation gone). */
  const authorize = async (
    req: restify.Request,
    conversationId?: string,
  ): Promise<{ claims: TokenClaims; conversation: DirectLineConversation; token: string }> => {
    const token = bearerToken(req);
    const claims = await ctx.tokens.verify(token, conversationId);
    if (!claims || !token) throw forbidden();
    const conversation = await ctx.store.getConversation(claims.conversationId);
    if (!conversation) throw notFound('The conversation');
    return { claims, conversation, token };
  };

  const pathConversation = (req: restify.Request): string =>
    parseOr400(conversationIdSchema, req.params?.conversationId, 'conversation id');

  const streamUrl = (req: restify.Request, conversationId: string): string =>
    // The feed is polled over REST; this address exists for clients that insist on a stream URL, and a
    // WebSocket to it is refused, which tells such a client to poll.
    `ws://${req.headers.host ?? 'localhost'}${DIRECT_LINE_BASE}/conversations/${conversationId}/stream`;

  const conversationBody = (
    req: restify.Request,
    conversationId: string,
    token: string,
    claims: TokenClaims,
  ) => ({
    conversationId,
    token,
    expires_in: DirectLineTokens.secondsLeft(claims),
    streamUrl: streamUrl(req, conversationId),
  });

  const checkRoom = (conversationId: string) => {
    if (!ctx.delivery.hasRoom(conversationId)) {
      throw new DirectLineHttpError(
        429,
        'TooManyRequests',
        'The bot is still working through earlier messages of this conversation. Try again shortly.',
        { 'retry-after': '5' },
      );
    }
  };

  /** Stores the user's activity in the feed (the client sees it echoed) and queues it for the bot. */
  const accept = async (
    conversation: DirectLineConversation,
    posted: Record<string, unknown>,
  ): Promise<string> => {
    checkRoom(conversation._id);
    const admitted = await ctx.delivery.admit(conversation._id, async () =>
      toBot(
        await ctx.store.append(conversation._id, (id) =>
          userActivity(posted, {
            id,
            conversationId: conversation._id,
            user: userAccount(conversation),
            bot: ctx.bot,
            timestamp: new Date(),
          }),
        ),
        ctx.selfUrl(),
      ),
    );
    return String(admitted.id);
  };

  let lastPurge = 0;
  const purgeNowAndThen = () => {
    // Expired tokens and files are swept as conversations start, at most every ten minutes: the local channel
    // runs no timers of its own.
    if (Date.now() - lastPurge < 10 * 60 * 1000) return;
    lastPurge = Date.now();
    Promise.all([ctx.tokens.purgeExpired(), ctx.files.purgeExpired()]).catch((err: unknown) =>
      ctx.log.warn('Purging expired Direct Line tokens and files failed', { error: errorName(err) }),
    );
  };

  server.post(
    `${DIRECT_LINE_BASE}/tokens/generate`,
    handle(async (req, res) => {
      if (ctx.tokensFor === 'loopback' && !isLoopbackAddress(req.socket?.remoteAddress)) {
        throw new DirectLineHttpError(
          403,
          'local-only',
          'The local chat page serves browsers on this machine only (set LOCAL_CHANNEL=on to open it to others).',
        );
      }
      const body = parseOr400(generateBodySchema, req.body, 'request body');
      const userId = body?.user?.id ?? generatedUserId();
      const userName = body?.user?.name || undefined;
      const conversation = await ctx.store.createConversation({
        id: userId,
        ...(userName ? { name: userName } : {}),
      });
      const issued = await ctx.tokens.issue({
        conversationId: conversation._id,
        userId,
        ...(userName ? { userName } : {}),
      });
      purgeNowAndThen();
      res.send(200, { conversationId: conversation._id, token: issued.token, expires_in: issued.expiresIn });
    }),
  );

  server.post(
    `${DIRECT_LINE_BASE}/tokens/refresh`,
    handle(async (req, res) => {
      const { claims } = await authorize(req);
      const issued = await ctx.tokens.refresh(claims);
      res.send(200, {
        conversationId: claims.conversationId,
        token: issued.token,
        expires_in: issued.expiresIn,
      });
    }),
  );

  server.post(
    `${DIRECT_LINE_BASE}/conversations`,
    handle(async (req, res) => {
      parseOr400(startBodySchema, req.body, 'request body');
      const { claims, conversation, token } = await authorize(req);
      const update = conversationStart({
        id: `${conversation._id}|start`,
        conversationId: conversation._id,
        user: userAccount(conversation),
        bot: ctx.bot,
        serviceUrl: ctx.selfUrl(),
        timestamp: new Date(),
      });
      const isNew = await ctx.store.start(conversation._id, update);
      // Azure tells the bot who joined when a conversation starts; the bot greets the user on it.
      if (isNew) ctx.delivery.enqueue(conversation._id, update);
      res.send(isNew ? 201 : 200, conversationBody(req, conversation._id, token, claims));
    }),
  );

  server.get(
    `${DIRECT_LINE_BASE}/conversations/:conversationId`,
    handle(async (req, res) => {
      const conversationId = pathConversation(req);
      parseOr400(watermarkSchema, queryOf(req).get('watermark') ?? '', 'watermark');
      const { claims, token } = await authorize(req, conversationId);
      res.send(200, conversationBody(req, conversationId, token, claims));
    }),
  );

  server.get(
    `${DIRECT_LINE_BASE}/conversations/:conversationId/activities`,
    handle(async (req, res) => {
      const conversationId = pathConversation(req);
      const watermark = parseOr400(watermarkSchema, queryOf(req).get('watermark') ?? '', 'watermark');
      await authorize(req, conversationId);
      res.header('cache-control', 'no-store');
      res.send(200, await ctx.store.after(conversationId, watermark));
    }),
  );

  server.post(
    `${DIRECT_LINE_BASE}/conversations/:conversationId/activities`,
    handle(async (req, res) => {
      const conversationId = pathConversation(req);
      const { conversation } = await authorize(req, conversationId);
      const posted = parseOr400(clientActivitySchema, req.body, 'activity');
      const filesPrefix = DirectLineFiles.url(ctx.selfUrl(), '');
      for (const attachment of posted.attachments ?? []) {
        if (
          attachment.contentUrl !== undefined &&
          !isAcceptableAttachmentUrl(attachment.contentUrl, filesPrefix)
        ) {
          throw new DirectLineHttpError(
            400,
            'BadArgument',
            'Attachment links must be https or inline data; send local files with the upload.',
          );
        }
      }
      res.send(200, { id: await accept(conversation, posted) });
    }),
  );

  server.post(
    `${DIRECT_LINE_BASE}/conversations/:conversationId/upload`,
    handle(async (req, res) => {
      const conversationId = pathConversation(req);
      const userId = queryOf(req).get('userId');
      if (userId !== null) parseOr400(userIdSchema, userId, 'userId');
      const { conversation } = await authorize(req, conversationId);
      if (!/^multipart\/form-data\b/i.test(req.headers['content-type'] ?? '')) {
        throw new DirectLineHttpError(415, 'BadArgument', 'The upload must be multipart/form-data.');
      }
      const declared = Number(req.headers['content-length']);
      const ceiling = ctx.maxUploadFiles * ctx.maxFileBytes + MAX_UPLOAD_ACTIVITY_BYTES + 64 * 1024;
      if (Number.isFinite(declared) && declared > ceiling) {
        // Refused before reading: the connection is closed after the answer rather than drained.
        res.header('connection', 'close');
        throw tooLargeUpload(ctx.maxFileBytes);
      }
      checkRoom(conversationId);

      const upload = await readUpload<DirectLineFile>(
        req,
        {
          maxFileBytes: ctx.maxFileBytes,
          maxFiles: ctx.maxUploadFiles,
          maxActivityBytes: MAX_UPLOAD_ACTIVITY_BYTES,
        },
        (content, info) =>
          ctx.files.save(content, {
            conversationId,
            name: displayName(info.filename),
            contentType: contentTypeOf(info.mimeType),
            maxBytes: ctx.maxFileBytes,
          }),
        (saved) => ctx.files.delete(saved.map((f) => f._id)),
      );
      let posted: z.infer<typeof clientActivitySchema>;
      try {
        posted = parseOr400(clientActivitySchema, parseJson(upload.activityJson), 'activity part');
      } catch (err) {
        await ctx.files.delete(upload.files.map((f) => f._id)).catch(() => undefined);
        throw err;
      }
      // The attachments are the uploaded files, in order; what the activity part said about them (names,
      // types, blob: links of the browser) is replaced by what was received.
      const attachments = upload.files.map((file) => ({
        contentType: file.contentType,
        contentUrl: DirectLineFiles.url(ctx.selfUrl(), file._id),
        name: file.name,
      }));
      res.send(200, { id: await accept(conversation, { ...posted, attachments }) });
    }),
  );

  server.get(
    `${DIRECT_LINE_BASE}/files/:fileId`,
    handle(async (req, res) => {
      const file = await ctx.files.get(String(req.params?.fileId ?? ''));
      if (!file) throw notFound('The file');
      res.writeHead(200, {
        // Served as bytes to save, never as a page of this origin: the content is whatever the user sent.
        'content-type': 'application/octet-stream',
        'content-length': String(file.bytes),
        'content-disposition': contentDisposition(file.name),
        'cache-control': 'private, no-store',
        'x-content-type-options': 'nosniff',
        'content-security-policy': "default-src 'none'; sandbox",
      });
      try {
        for await (const chunk of ctx.files.read(file)) {
          if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
        }
        res.end();
      } catch (err) {
        // The status is gone: cutting the connection tells the client the file is incomplete.
        ctx.log.warn('A Direct Line file download failed', { error: errorName(err) });
        res.destroy();
      }
    }),
  );
}

function tooLargeUpload(maxFileBytes: number): DirectLineHttpError {
  return new DirectLineHttpError(
    413,
    'FileTooLarge',
    `The upload is larger than the ${maxFileBytes}-byte limit for a file. Send a smaller file.`,
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new DirectLineHttpError(400, 'BadArgument', 'The activity part is not valid JSON.');
  }
}

/** The user's file name as display text: last path segment, no control characters, bounded length. */
function displayName(filename: string): string {
  // eslint-disable-next-line no-control-regex -- stripping control characters is the point
  const base = (filename.split(/[\\/]/).pop() ?? '').replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return base === '' ? 'file' : base.slice(0, 255);
}

/** A part's declared type if it looks like a MIME type, else the neutral one. */
function contentTypeOf(mimeType: string): string {
  const type = mimeType.trim().toLowerCase();
  return /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type) && type.length <= 127
    ? type
    : 'application/octet-stream';
}

/** `attachment` with an ASCII fallback name and the exact name in RFC 5987 form. */
function contentDisposition(name: string): string {
  const ascii = name.replace(/[^A-Za-z0-9._ -]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
