import { ObjectId, type Db } from 'mongodb';
import { newOutboxEntry } from '../../services/notifications/outbox';
import { USERS_COLLECTION, type OutboxEntry, type UserDocument } from '../../services/users/userTypes';

export const T0 = new Date('2030-03-01T09:00:00.000Z');

/** A clock the tests move by hand. */
export function testClock(start = T0): { now: () => Date; set(d: Date): void; advance(ms: number): void } {
  let current = new Date(start);
  return {
    now: () => new Date(current),
    set: (d) => {
      current = new Date(d);
    },
    advance: (ms) => {
      current = new Date(current.getTime() + ms);
    },
  };
}

/** An invitation or activation entry as the import queues it, with optional changes for the test. */
export function entry(kind: 'invitation' | 'activation', changes: Partial<OutboxEntry> = {}): OutboxEntry {
  return { ...newOutboxEntry(kind, changes.importId ?? 'imp1', T0), ...changes };
}

/** Inserts a user the way the import leaves one, with its outbox entries and `mailDue`. */
export async function insertUser(db: Db, fields: Partial<UserDocument> = {}): Promise<UserDocument> {
  const queued = fields.invitation ?? fields.activationNotice;
  const live = [fields.invitation, fields.activationNotice].some(
    (e) => e?.state === 'pending' || e?.state === 'sending',
  );
  const user: UserDocument = {
    _id: new ObjectId(),
    accountId: 'acct1',
    email: `user${new ObjectId().toHexString()}@example.com`,
    firstName: 'Ada',
    lastName: 'Lovelace',
    status: 'invited',
    createdAt: T0,
    updatedAt: T0,
    createdByImportId: queued?.importId ?? 'imp1',
    lastImportId: queued?.importId ?? 'imp1',
    ...(queued ? { mailDue: live } : {}),
    ...fields,
  };
  await db.collection<UserDocument>(USERS_COLLECTION).insertOne(user);
  return user;
}

export async function getUser(db: Db, id: ObjectId): Promise<UserDocument> {
  const user = await db.collection<UserDocument>(USERS_COLLECTION).findOne({ _id: id });
  if (!user) throw new Error('user vanished');
  return user;
}
