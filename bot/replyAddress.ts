import type { ConversationReference } from 'botbuilder';
import { z } from 'zod';

/** A stored reply address, checked before use: it comes back from the database or a job. */
const referenceSchema = z
  .object({
    channelId: z.string().min(1),
    serviceUrl: z.string().url(),
    conversation: z.object({ id: z.string().min(1) }).passthrough(),
  })
  .passthrough();

/** The conversation reference in a stored reply address (JSON text); null when it is not a usable one. */
export function parseReplyAddress(text: string): Partial<ConversationReference> | null {
  try {
    return referenceSchema.parse(JSON.parse(text)) as unknown as Partial<ConversationReference>;
  } catch {
    return null;
  }
}
