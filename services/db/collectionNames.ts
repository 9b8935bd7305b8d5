/** The product's collections, by name (users are in `users/userTypes.ts`). */

export const IMPORTS_COLLECTION = 'imports';
export const IMPORT_ROWS_COLLECTION = 'importRows';
/** Uploaded files kept for planning and for the background import (metadata; bytes are in chunks). */
export const UPLOADS_COLLECTION = 'uploads';
export const UPLOAD_CHUNKS_COLLECTION = 'uploadChunks';
/** Confirmed imports waiting for, or held by, a worker under a lease. */
export const IMPORT_JOBS_COLLECTION = 'importJobs';
/** One document per import being or having been undone (`_id` is its id): only one undo of it applies. */
export const IMPORT_UNDO_LOCKS_COLLECTION = 'importUndoLocks';
/** Microsoft Teams tenants linked to accounts, and administrators added at run time. */
export const ACCOUNT_TENANTS_COLLECTION = 'accountTenants';
export const ACCOUNT_ADMINS_COLLECTION = 'accountAdmins';
/** Each account's allowed email domains (`_id` is the account id); imports flag addresses outside them. */
export const ACCOUNT_DOMAINS_COLLECTION = 'accountDomains';
/** Small named values the instances share, such as the report-link signing key. */
export const SETTINGS_COLLECTION = 'settings';
/** The local Direct Line channel (Web Chat without Azure): conversations, their activity feeds and tokens. */
export const DIRECT_LINE_CONVERSATIONS_COLLECTION = 'directLineConversations';
export const DIRECT_LINE_ACTIVITIES_COLLECTION = 'directLineActivities';
export const DIRECT_LINE_TOKENS_COLLECTION = 'directLineTokens';
/** Files sent through the local Direct Line channel, kept briefly for the bot to download (bytes in chunks). */
export const DIRECT_LINE_FILES_COLLECTION = 'directLineFiles';
export const DIRECT_LINE_FILE_CHUNKS_COLLECTION = 'directLineFileChunks';
