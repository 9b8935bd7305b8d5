import { randomUUID } from 'node:crypto';
import type { TurnContext } from 'botbuilder';
import type { Logger } from '../services/logger';
import { turnIdOf } from './turnLogging';

/**
 * Logs a failed turn under a correlation id the admin can quote, and tells them something useful. State is
 * deliberately left alone: an import in progress must survive a failed turn.
 */
export async function handleTurnError(context: TurnContext, error: Error, log: Logger): Promise<void> {
  const correlationId = turnIdOf(context) ?? randomUUID().slice(0, 8);
  log.error('Turn failed', {
    correlationId,
    error,
    channelId: context.activity.channelId,
    activityType: context.activity.type,
  });
  // Two messages handled at once by different instances: the later save loses, and nothing was applied.
  const conflict = (error as { code?: unknown }).code === 'state-conflict';
  try {
    await context.sendActivity(
      conflict
        ? 'I was still handling your previous message when this one arrived, so I could not take it into ' +
            'account. Please send it again.'
        : `Sorry, something went wrong on my side (reference ${correlationId}). Nothing you sent was lost; ` +
            'please try again, and quote that reference if it keeps happening.',
    );
  } catch (sendError) {
    log.error('Could not tell the user about the failed turn', { correlationId, error: sendError as Error });
  }
}
