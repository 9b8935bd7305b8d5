import type restify from 'restify';
import { botActivity, botActivitySchema } from './directLineActivities';
import { userAccount, type DirectLineContext } from './directLineContext';
import {
  DirectLineHttpError,
  errorName,
  isLoopbackAddress,
  notFound,
  parseOr400,
  route,
} from './directLineHttp';
import type { DirectLineConversation } from './directLineStore';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The Bot Connector API's base path, under the serviceUrl the channel gives the bot. */
export const CONNECTOR_BASE = '/v3/conversations';

/**
 * Mounts the part of the Bot Connector API the bot replies through when its serviceUrl is this process:
 * sending an activity, replying to one, and updating one in place. Only conversations of the local channel
 * exist here, and only this machine may call (the bot posts to its own loopback address): the endpoints carry
 * no credentials, since an unauthenticated bot sends none.
 */
export function registerConnectorRoutes(server: restify.Server, ctx: DirectLineContext): void {
  const handle = (handler: (req: restify.Request, res: restify.Response) => Promise<void>) =>
    route(
      (err, req) =>
        ctx.log.error('Local connector request failed', {
          method: req.method,
          route: req.getRoute()?.path,
          error: errorName(err),
        }),
      handler,
    );

  const conversationOf = async (req: restify.Request): Promise<DirectLineConversation> => {
    if (!isLoopbackAddress(req.socket?.remoteAddress)) {
      throw new DirectLineHttpError(403, 'Forbidden', 'Only the bot on this machine may post here.');
    }
    const conversationId = String(req.params?.conversationId ?? '');
    const conversation = conversationId === '' ? null : await ctx.store.getConversation(conversationId);
    if (!conversation) throw notFound('The conversation');
    return conversation;
  };

  const post = handle(async (req, res) => {
    const conversation = await conversationOf(req);
    const posted = parseOr400(botActivitySchema, req.body, 'activity');
    const replyToId = req.params?.activityId as string | undefined;
    const stored = await ctx.store.append(conversation._id, (id) =>
      botActivity(
        { ...(replyToId ? { replyToId } : {}), ...posted },
        {
          id,
          conversationId: conversation._id,
          bot: ctx.bot,
          user: userAccount(conversation),
          timestamp: new Date(),
        },
      ),
    );
    res.send(200, { id: stored.id });
  });

  server.post(`${CONNECTOR_BASE}/:conversationId/activities`, post);
  server.post(`${CONNECTOR_BASE}/:conversationId/activities/:activityId`, post);

  server.put(
    `${CONNECTOR_BASE}/:conversationId/activities/:activityId`,
    handle(async (req, res) => {
      const conversation = await conversationOf(req);
      const activityId = String(req.params?.activityId ?? '');
      const posted = parseOr400(botActivitySchema, req.body, 'activity');
      const updated = await ctx.store.update(conversation._id, activityId, (first) => {
        // The bot edits its own messages only, never what the user said.
        if (!isRecord(first.from) || first.from.role !== 'bot') throw notFound('The activity');
        return botActivity(
          // An update replaces the activity; it keeps its place in the conversation (Web Chat orders by
          // timestamp) and what it replied to.
          { ...posted, replyToId: posted.replyToId ?? first.replyToId },
          {
            id: activityId,
            conversationId: conversation._id,
            bot: ctx.bot,
            user: userAccount(conversation),
            timestamp: typeof first.timestamp === 'string' ? first.timestamp : new Date(),
          },
        );
      });
      if (!updated) throw notFound('The activity');
      res.send(200, { id: activityId });
    }),
  );
}
