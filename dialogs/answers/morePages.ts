import type { ConversationState, StatePropertyAccessor, TurnContext } from 'botbuilder';
import { moreCursorSchema, type MoreCursor } from './moreCursor';
import { normalizeUtterance } from '../reviewReply';

const SHOW_MORE_WORDS = new Set([
  'more',
  'show more',
  'show me more',
  'see more',
  'load more',
  'next',
  'next page',
  'next one',
  'next ones',
  'continue',
  'more please',
  'show more please',
  'keep going',
  'the rest',
  'show the rest',
  'show me the rest',
  'show more results',
  'more results',
]);

/** "show more", "next page", "the rest"… */
export const isShowMore = (text: string) => SHOW_MORE_WORDS.has(normalizeUtterance(text));

/**
 * Remembers where the last long answer stopped, in conversation state, so a typed "show more" continues it.
 * Only the latest answer's next page is kept: a new question replaces it.
 */
export class MorePages {
  private readonly next: StatePropertyAccessor<MoreCursor | null>;

  constructor(conversationState: ConversationState) {
    this.next = conversationState.createProperty<MoreCursor | null>('nextPage');
  }

  readonly remember = async (context: TurnContext, cursor: MoreCursor | undefined): Promise<void> => {
    await this.next.set(context, cursor ?? null);
  };

  /** The next page of the last answer, checked again since it comes back from storage; undefined if none. */
  async nextPage(context: TurnContext): Promise<MoreCursor | undefined> {
    const parsed = moreCursorSchema.safeParse(await this.next.get(context, null));
    return parsed.success ? parsed.data : undefined;
  }
}
