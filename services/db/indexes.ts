import type { Db, IndexDescription } from 'mongodb';
import { numberUnnumberedImports } from '../history/importNumbers';
import { USERS_COLLECTION } from '../users/userTypes';
import {
  IMPORTS_COLLECTION,
  IMPORT_ROWS_COLLECTION,
  UPLOADS_COLLECTION,
  UPLOAD_CHUNKS_COLLECTION,
  IMPORT_JOBS_COLLECTION,
  ACCOUNT_TENANTS_COLLECTION,
  ACCOUNT_ADMINS_COLLECTION,
  DIRECT_LINE_ACTIVITIES_COLLECTION,
  DIRECT_LINE_TOKENS_COLLECTION,
  DIRECT_LINE_FILES_COLLECTION,
  DIRECT_LINE_FILE_CHUNKS_COLLECTION,
} from './collectionNames';

export * from './collectionNames';

/** The indexes of each collection, by collection name. */
export const COLLECTION_INDEXES: Record<string, IndexDescription[]> = {
  [USERS_COLLECTION]: [
    { key: { accountId: 1, email: 1 }, name: 'account_email_unique', unique: true },
    { key: { mailDue: 1 }, name: 'mail_due' },
    { key: { accountId: 1, 'invitation.importId': 1 }, name: 'account_invitation_import' },
    { key: { accountId: 1, 'activationNotice.importId': 1 }, name: 'account_activation_import' },
    // An invitation link finds its user by the token's hash (and, for links sent before tokens were listed,
    // by `tokenHash`): never a collection scan, however many links are tried.
    { key: { 'invitation.tokens.hash': 1 }, name: 'invitation_tokens' },
    { key: { 'invitation.tokenHash': 1 }, name: 'invitation_token_hash' },
  ],
  [IMPORTS_COLLECTION]: [
    { key: { accountId: 1, createdAt: -1 }, name: 'account_created' },
    { key: { accountId: 1, 'file.sha256': 1 }, name: 'account_sha256' },
    // Numbers imports per account ("#12"): concurrent creators that pick the same number collide here.
    { key: { accountId: 1, number: 1 }, name: 'account_number_unique', unique: true },
  ],
  [IMPORT_ROWS_COLLECTION]: [{ key: { importId: 1, seq: 1 }, name: 'import_seq_unique', unique: true }],
  [UPLOADS_COLLECTION]: [{ key: { expiresAt: 1 }, name: 'expires' }],
  [UPLOAD_CHUNKS_COLLECTION]: [{ key: { uploadId: 1, seq: 1 }, name: 'upload_seq_unique', unique: true }],
  [IMPORT_JOBS_COLLECTION]: [
    // activeKey is the account id while a job is queued or running and the job's own id afterwards, so a
    // unique index admits one active import per account without partial indexes or transactions.
    { key: { activeKey: 1 }, name: 'one_active_import_per_account', unique: true },
    { key: { status: 1, leaseUntil: 1 }, name: 'status_lease' },
    { key: { accountId: 1, createdAt: -1 }, name: 'account_created' },
  ],
  [ACCOUNT_TENANTS_COLLECTION]: [{ key: { accountId: 1 }, name: 'account' }],
  [ACCOUNT_ADMINS_COLLECTION]: [
    { key: { accountId: 1, principal: 1 }, name: 'account_principal_unique', unique: true },
  ],
  [DIRECT_LINE_ACTIVITIES_COLLECTION]: [
    { key: { conversationId: 1, watermark: 1 }, name: 'conversation_watermark_unique', unique: true },
  ],
  [DIRECT_LINE_TOKENS_COLLECTION]: [{ key: { expiresAt: 1 }, name: 'expires' }],
  [DIRECT_LINE_FILES_COLLECTION]: [{ key: { expiresAt: 1 }, name: 'expires' }],
  [DIRECT_LINE_FILE_CHUNKS_COLLECTION]: [
    { key: { fileId: 1, seq: 1 }, name: 'file_seq_unique', unique: true },
    { key: { expiresAt: 1 }, name: 'expires' },
  ],
};

/**
 * Creates the indexes the product relies on; safe to call at every start. One index per command: FerretDB
 * 1.24 drops the connection when a single createIndexes command lists several indexes that already exist.
 * Imports recorded before imports had numbers are numbered first, so `account_number_unique` can be built.
 */
export async function ensureIndexes(db: Db): Promise<void> {
  for (const [collection, indexes] of Object.entries(COLLECTION_INDEXES)) {
    if (collection === IMPORTS_COLLECTION) await numberUnnumberedImports(db);
    for (const { key, ...options } of indexes) await db.collection(collection).createIndex(key, options);
  }
}
