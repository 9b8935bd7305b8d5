import type { Logger } from '../../services/logger';
import { errorName } from './directLineHttp';

/** An activity on its way to the bot, as the Bot Framework protocol carries it. */
export type BotBoundActivity = Record<string, unknown> & { type: string };

export interface TurnDeliveryDeps {
  /** This process's own base URL: activities go to its `/api/messages`. */
  selfUrl: () => string;
  log: Logger;
  /** A turn still running after this long is abandoned, so one stuck turn cannot hold up its conversation. */
  turnTimeoutMs?: number;
  /** Most turns waiting in one conversation; more are refused until the bot catches up. */
  maxQueuedPerConversation?: number;
  /** Stand-in for the global fetch, for tests. */
  fetchImpl?: typeof fetch;
}

export const DEFAULT_TURN_TIMEOUT_MS = 120_000;
export const DEFAULT_MAX_QUEUED = 20;

interface ConversationQueue {
  tail: Promise<void>;
  waiting: number;
}

/**
 * Hands user activities to the bot by posting them to this process's own messaging endpoint, after the
 * client's request has been answered: a turn can take seconds, and Direct Line clients expect their post to
 * return at once. Turns of one conversation run one at a time in arrival order (the bot's dialog state
 * expects that); conversations do not wait for each other. The queue is in memory: a restart drops turns
 * not yet delivered, as a dropped connection would.
 */
export class TurnDelivery {
  private readonly queues = new Map<string, ConversationQueue>();
  /** Per conversation, the admission in progress: see {@link admit}. */
  private readonly admitting = new Map<string, Promise<unknown>>();
  private readonly turnTimeoutMs: number;
  private readonly maxQueued: number;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly deps: TurnDeliveryDeps) {
    this.turnTimeoutMs = deps.turnTimeoutMs ?? DEFAULT_TURN_TIMEOUT_MS;
    this.maxQueued = deps.maxQueuedPerConversation ?? DEFAULT_MAX_QUEUED;
    this.fetchImpl = deps.fetchImpl ?? fetch;
  }

  /** True when the conversation can take another turn now; see {@link enqueue}. */
  hasRoom(conversationId: string): boolean {
    return (this.queues.get(conversationId)?.waiting ?? 0) < this.maxQueued;
  }

  /**
   * Runs `persist` (which stores the activity in the feed and returns it as the bot is to receive it), then
   * queues the result, one admission per conversation at a time: so the bot gets a conversation's activities
   * in the order of their watermarks, the order the user sees them in, even when the client posts several at
   * once. Returns what `persist` returned; if it throws, nothing is queued.
   */
  async admit(conversationId: string, persist: () => Promise<BotBoundActivity>): Promise<BotBoundActivity> {
    const previous = this.admitting.get(conversationId) ?? Promise.resolve();
    const admitted = previous.then(async () => {
      const activity = await persist();
      this.enqueue(conversationId, activity);
      return activity;
    });
    const settled = admitted.catch(() => undefined);
    this.admitting.set(conversationId, settled);
    void settled.then(() => {
      if (this.admitting.get(conversationId) === settled) this.admitting.delete(conversationId);
    });
    return admitted;
  }

  /**
   * Queues the activity for the bot behind the conversation's earlier ones and returns at once. Failures are
   * logged (kind, status and conversation id only: never the activity's text or user).
   */
  enqueue(conversationId: string, activity: BotBoundActivity): void {
    const queue = this.queues.get(conversationId) ?? { tail: Promise.resolve(), waiting: 0 };
    queue.waiting++;
    queue.tail = queue.tail
      .then(() => this.deliver(conversationId, activity))
      .finally(() => {
        queue.waiting--;
        if (queue.waiting === 0 && this.queues.get(conversationId) === queue)
          this.queues.delete(conversationId);
      });
    this.queues.set(conversationId, queue);
  }

  /** Resolves once every queued turn has been delivered (or has failed). */
  async idle(): Promise<void> {
    while (this.queues.size > 0) {
      await Promise.all([...this.queues.values()].map((q) => q.tail));
    }
  }

  private async deliver(conversationId: string, activity: BotBoundActivity): Promise<void> {
    const started = Date.now();
    try {
      const response = await this.fetchImpl(`${this.deps.selfUrl()}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(activity),
        signal: AbortSignal.timeout(this.turnTimeoutMs),
      });
      // The body only matters for invokes, which a Direct Line client cannot wait for anyway.
      await response.arrayBuffer().catch(() => undefined);
      if (response.status >= 300) {
        this.deps.log.error('The bot refused an activity from the local Web Chat channel', {
          conversationId,
          type: activity.type,
          status: response.status,
          ...(response.status === 401
            ? { hint: 'the local channel posts unauthenticated: run it without MicrosoftAppId' }
            : {}),
        });
      } else {
        this.deps.log.debug('Local Web Chat turn delivered', {
          conversationId,
          type: activity.type,
          ms: Date.now() - started,
        });
      }
    } catch (err) {
      this.deps.log.error('An activity from the local Web Chat channel did not reach the bot', {
        conversationId,
        type: activity.type,
        error: errorName(err),
      });
    }
  }
}
