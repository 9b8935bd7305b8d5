import { randomUUID } from 'node:crypto';
import type { Middleware, TurnContext } from 'botbuilder';
import type { Logger } from '../services/logger';

const TURN_ID = Symbol('enrollment.turnId');

/** The correlation id of the turn, as logged and as quoted to the user when the turn fails. */
export function turnIdOf(context: TurnContext): string | undefined {
  return context.turnState.get(TURN_ID) as string | undefined;
}

/**
 * Gives every turn a correlation id and logs its start and end with it: channel, activity type and
 * duration, never the text or attachments the user sent.
 */
export class TurnLogging implements Middleware {
  constructor(private readonly log: Logger) {}

  async onTurn(context: TurnContext, next: () => Promise<void>): Promise<void> {
    const turnId = randomUUID().slice(0, 8);
    context.turnState.set(TURN_ID, turnId);
    const log = this.log.child({ turnId });
    const started = Date.now();
    log.debug('Turn started', { channelId: context.activity.channelId, activityType: context.activity.type });
    await next();
    log.debug('Turn finished', { ms: Date.now() - started });
  }
}
