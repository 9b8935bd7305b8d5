import { z } from 'zod';

/**
 * Where the next page of a long answer starts. It rides on the card's "Show more" button and is kept in
 * conversation state for a typed "show more"; either way it is checked before use, and the account always
 * comes from the sender, never from the cursor.
 */
const skip = z.number().int().min(0).max(1_000_000);
const isoDate = z.iso.datetime();
const importId = z.string().regex(/^imp_[a-z0-9]{4,40}$/);

export const moreCursorSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('imports'),
    skip,
    from: isoDate.optional(),
    to: isoDate.optional(),
    by: z.string().min(1).max(200).optional(),
    fileName: z.string().min(1).max(260).optional(),
  }),
  z.object({ kind: z.literal('problems'), skip, importId }),
  z.object({
    kind: z.literal('invitations'),
    skip,
    importId: importId.optional(),
    from: isoDate.optional(),
    to: isoDate.optional(),
  }),
  z.object({ kind: z.literal('user'), skip, email: z.string().min(3).max(320) }),
]);

export type MoreCursor = z.infer<typeof moreCursorSchema>;

/** A "Show more" click: `{ action: 'showMore', cursor }`. */
export const showMoreSubmitSchema = z.object({ action: z.literal('showMore'), cursor: moreCursorSchema });
