import type { Db, IndexDescription } from 'mongodb';
import { USERS_COLLECTION } from '../users/userTypes';

export const IMPORTS_COLLECTION = 'imports';
export const IMPORT_ROWS_COLLECTION = 'importRows';

/** The indexes of each collection, by collection name. */
export const COLLECTION_INDEXES: Record<string, IndexDescription[]> = {
  [USERS_COLLECTION]: [
    { key: { accountId: 1, email: 1 }, name: 'account_email_unique', unique: true },
    { key: { mailDue: 1 }, name: 'mail_due' },
    { key: { accountId: 1, 'invitation.importId': 1 }, name: 'account_invitation_import' },
    { key: { accountId: 1, 'activationNotice.importId': 1 }, name: 'account_activation_import' },
  ],
  [IMPORTS_COLLECTION]: [
    { key: { accountId: 1, createdAt: -1 }, name: 'account_created' },
    { key: { accountId: 1, 'file.sha256': 1 }, name: 'account_sha256' },
  ],
  [IMPORT_ROWS_COLLECTION]: [{ key: { importId: 1, seq: 1 }, name: 'import_seq_unique', unique: true }],
};

/**
 * Creates the indexes the product relies on; safe to call at every start. One index per command: FerretDB
 * 1.24 drops the connection when a single createIndexes command lists several indexes that already exist.
 */
export async function ensureIndexes(db: Db): Promise<void> {
  for (const [collection, indexes] of Object.entries(COLLECTION_INDEXES)) {
    for (const { key, ...options } of indexes) await db.collection(collection).createIndex(key, options);
  }
}
