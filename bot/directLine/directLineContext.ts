import type { Logger } from '../../services/logger';
import type { ChannelAccount } from './directLineActivities';
import type { TurnDelivery } from './directLineDelivery';
import type { DirectLineFiles } from './directLineFiles';
import type { DirectLineConversation, DirectLineStore } from './directLineStore';
import type { DirectLineTokens } from './directLineTokens';

/** What the local channel's routes share. */
export interface DirectLineContext {
  store: DirectLineStore;
  tokens: DirectLineTokens;
  files: DirectLineFiles;
  delivery: TurnDelivery;
  /** This process's own base URL, known once the server listens. */
  selfUrl: () => string;
  /** The bot as the channel names it to the bot and to clients. */
  bot: ChannelAccount;
  maxFileBytes: number;
  /** Most files in one upload. */
  maxUploadFiles: number;
  /** Who may start a chat (see DirectLineDeps.tokensFor). */
  tokensFor: 'loopback' | 'anyone';
  log: Logger;
}

/** The conversation's user, as activities name them. */
export function userAccount(conversation: DirectLineConversation): ChannelAccount {
  return {
    id: conversation.userId,
    ...(conversation.userName === undefined ? {} : { name: conversation.userName }),
    role: 'user',
  };
}
