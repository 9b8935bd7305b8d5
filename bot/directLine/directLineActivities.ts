import { z } from 'zod';
import type { ActivityJson } from './directLineStore';
import { watermarkOfActivityId } from './directLineStore';

/**
 * The shapes of activities crossing the local channel, and how the channel fills in the fields it owns
 * (ids, times, who speaks, which conversation): whatever a client or the bot says about those is replaced.
 */

/** Who an activity is from or to, as channels send it. */
export interface ChannelAccount {
  id: string;
  name?: string;
  role: 'user' | 'bot';
}

export const CHANNEL_ID = 'webchat';

const MAX_TEXT = 100_000;

const attachmentSchema = z.looseObject({
  contentType: z.string().max(256),
  contentUrl: z.string().max(MAX_TEXT).optional(),
  name: z.string().max(1024).optional(),
});

/**
 * An activity a Direct Line client posts. Open-ended (Web Chat adds channelData, entities, locale…), but the
 * type must be there, and attachments are limited to what a browser legitimately sends.
 */
export const clientActivitySchema = z.looseObject({
  type: z.string().min(1).max(64),
  text: z.string().max(MAX_TEXT).optional(),
  attachments: z.array(attachmentSchema).max(10).optional(),
});

/** An activity the bot posts or updates through the connector endpoints. */
export const botActivitySchema = z.looseObject({
  type: z.string().min(1).max(64),
  replyToId: z.string().max(512).optional(),
});

/** Attachment links a client may pass to the bot: inline data, https, or a file this channel stored. */
export function isAcceptableAttachmentUrl(url: string, ownFilesPrefix: string): boolean {
  return /^data:/i.test(url) || /^https:\/\//i.test(url) || url.startsWith(ownFilesPrefix);
}

/** Fields the channel owns and never takes from a client or the bot. */
const CHANNEL_FIELDS = ['id', 'timestamp', 'serviceUrl', 'channelId', 'conversation', 'from', 'recipient'];

function withoutChannelFields(activity: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(activity).filter(([key]) => !CHANNEL_FIELDS.includes(key)));
}

/**
 * A user's activity as the channel stores it (and echoes it back to the client): the client's own fields,
 * with the channel's identity fields set from the token, not from what the client claims.
 */
export function userActivity(
  posted: Record<string, unknown>,
  ids: { id: string; conversationId: string; user: ChannelAccount; bot: ChannelAccount; timestamp: Date },
): ActivityJson {
  return {
    ...withoutChannelFields(posted),
    id: ids.id,
    timestamp: ids.timestamp.toISOString(),
    channelId: CHANNEL_ID,
    conversation: { id: ids.conversationId },
    from: ids.user,
    recipient: ids.bot,
  };
}

/** The activity as the bot receives it: the stored one plus the address its replies go to. */
export function toBot(stored: ActivityJson, serviceUrl: string): ActivityJson & { type: string } {
  return { ...stored, type: String(stored.type), serviceUrl };
}

/**
 * A bot's activity as the channel stores it. `from` gets the bot's role so Web Chat draws it on the bot's
 * side, and a `replyToId` that names no activity of this feed (such as the start-of-conversation update,
 * which clients never see) is dropped: Web Chat would hold the reply back waiting for it.
 */
export function botActivity(
  posted: Record<string, unknown>,
  ids: {
    id: string;
    conversationId: string;
    bot: ChannelAccount;
    user: ChannelAccount;
    timestamp: Date | string;
  },
): ActivityJson {
  const { replyToId, ...rest } = withoutChannelFields(posted);
  const from = isRecord(posted.from) && typeof posted.from.id === 'string' ? posted.from : ids.bot;
  const recipient =
    isRecord(posted.recipient) && typeof posted.recipient.id === 'string' ? posted.recipient : ids.user;
  const keepReply =
    typeof replyToId === 'string' && watermarkOfActivityId(ids.conversationId, replyToId) !== null;
  return {
    ...rest,
    ...(keepReply ? { replyToId } : {}),
    id: ids.id,
    timestamp: typeof ids.timestamp === 'string' ? ids.timestamp : ids.timestamp.toISOString(),
    channelId: CHANNEL_ID,
    conversation: { id: ids.conversationId },
    from: { ...from, role: 'bot' },
    recipient: { ...recipient, role: 'user' },
  };
}

/** The update the bot receives when a conversation starts: the user and the bot joined. */
export function conversationStart(ids: {
  id: string;
  conversationId: string;
  user: ChannelAccount;
  bot: ChannelAccount;
  serviceUrl: string;
  timestamp: Date;
}): ActivityJson & { type: string } {
  return {
    type: 'conversationUpdate',
    id: ids.id,
    timestamp: ids.timestamp.toISOString(),
    channelId: CHANNEL_ID,
    serviceUrl: ids.serviceUrl,
    conversation: { id: ids.conversationId },
    from: ids.user,
    recipient: ids.bot,
    membersAdded: [ids.bot, ids.user],
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
