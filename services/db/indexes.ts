import type { Db } from 'mongodb';
import { USERS_COLLECTION } from '../users/userTypes';

export const IMPORTS_COLLECTION = 'imports';
export const IMPORT_ROWS_COLLECTION = 'importRows';

/** Creates the indexes the product relies on; safe to call at every start. */
export async function ensureIndexes(db: Db): Promise<void> {
  await db.collection(USERS_COLLECTION).createIndexes([
    { key: { accountId: 1, email: 1 }, name: 'account_email_unique', unique: true },
    { key: { mailDue: 1 }, name: 'mail_due' },
    { key: { accountId: 1, 'invitation.importId': 1 }, name: 'account_invitation_import' },
    { key: { accountId: 1, 'activationNotice.importId': 1 }, name: 'account_activation_import' },
  ]);
  await db.collection(IMPORTS_COLLECTION).createIndexes([
    { key: { accountId: 1, createdAt: -1 }, name: 'account_created' },
    { key: { accountId: 1, 'file.sha256': 1 }, name: 'account_sha256' },
  ]);
  await db
    .collection(IMPORT_ROWS_COLLECTION)
    .createIndexes([{ key: { importId: 1, seq: 1 }, name: 'import_seq_unique', unique: true }]);
}
