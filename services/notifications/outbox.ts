import type { MailKind, OutboxEntry } from '../users/userTypes';

/** Field of the user document that holds each kind of message. */
export const OUTBOX_FIELD: Record<MailKind, 'invitation' | 'activationNotice'> = {
  invitation: 'invitation',
  activation: 'activationNotice',
};

/**
 * A fresh outbox entry, written by the import in the same single-document update that creates or activates
 * the user, so the message can never be lost or queued without the change (no transaction needed).
 */
export function newOutboxEntry(kind: MailKind, importId: string, now: Date): OutboxEntry {
  return { kind, state: 'pending', importId, queuedAt: now, attempts: 0, nextAttemptAt: now };
}
