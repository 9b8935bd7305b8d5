import type { Db, Filter } from 'mongodb';
import { EmailKeyMap } from '../import/emailKeySet';
import type { ExistingUser } from '../import/rowDecision';
import { PROFILE_FIELDS, USERS_COLLECTION, type UserDocument } from './userTypes';

const EXISTING_PROJECTION = Object.fromEntries(
  ['_id', 'email', 'status', ...PROFILE_FIELDS].map((field) => [field, 1]),
) as Record<string, 1>;

/** Read access to an account's users, shaped for the import. */
export class UserDirectory {
  constructor(private readonly db: Db) {}

  private get users() {
    return this.db.collection<UserDocument>(USERS_COLLECTION);
  }

  /**
   * Every email the account has (deleted users too), as compact keys. One streaming read replaces a
   * lookup per row: most rows of a typical file are new, and on servers without usable secondary
   * indexes (FerretDB on SQLite) each lookup would otherwise scan the collection.
   */
  async emailKeys(accountId: string): Promise<EmailKeyMap> {
    const keys = new EmailKeyMap();
    const cursor = this.users.find({ accountId }, { projection: { email: 1, _id: 0 }, batchSize: 5000 });
    for await (const doc of cursor) keys.set(doc.email, 1);
    return keys;
  }

  /** The stored users with these (lower-case) emails, keyed by email. */
  async findByEmails(accountId: string, emails: string[]): Promise<Map<string, ExistingUser>> {
    const found = new Map<string, ExistingUser>();
    if (emails.length === 0) return found;
    const filter: Filter<UserDocument> = { accountId, email: { $in: emails } };
    const cursor = this.users.find(filter, { projection: EXISTING_PROJECTION });
    for await (const doc of cursor) found.set(doc.email, doc as ExistingUser);
    return found;
  }

  /** Number of users the account has that are not deleted. */
  async countLive(accountId: string): Promise<number> {
    return this.users.countDocuments({ accountId, status: { $ne: 'deleted' } });
  }

  /** One user by email (case-insensitive), or null. */
  async findOne(accountId: string, email: string): Promise<UserDocument | null> {
    return this.users.findOne({ accountId, email: email.trim().toLowerCase() });
  }

  /** The account's users, sorted by email. */
  list(accountId: string, options: { includeDeleted?: boolean; limit?: number; skip?: number } = {}) {
    const filter: Filter<UserDocument> = options.includeDeleted
      ? { accountId }
      : { accountId, status: { $ne: 'deleted' } };
    return this.users
      .find(filter)
      .sort({ email: 1 })
      .skip(options.skip ?? 0)
      .limit(options.limit ?? 0);
  }
}
