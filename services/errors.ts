/**
 * Every failure the product reports to an administrator carries a stable code, so the CLI, the bot and the
 * tests can react to the kind of problem without parsing prose.
 */
export type ErrorCode =
  | 'config-invalid'
  | 'file-empty'
  | 'file-binary'
  | 'file-too-large'
  | 'file-no-header'
  | 'file-no-email-column'
  | 'file-unreadable'
  /** A file whose rows are run together on one line, in a count of values that does not fill whole rows. */
  | 'file-run-together'
  /** An Excel 97-2003 workbook (.xls), which is not read: it must be saved as .xlsx or CSV. */
  | 'file-legacy-excel'
  /** A password-protected (encrypted) workbook, which cannot be read without the password. */
  | 'file-password-protected'
  /** The worksheet asked for is not in the workbook; details.sheets lists those that are. */
  | 'file-sheet-not-found'
  | 'mapping-invalid'
  | 'option-invalid'
  | 'import-not-found'
  | 'import-not-committable'
  /** The account already has an import queued or running; details.jobId names it. */
  | 'import-busy'
  /** A commit stopped between batches on request (shutdown, lost lease); its record stays resumable. */
  | 'import-stopped'
  /** A stored upload is missing, expired or belongs to another account. */
  | 'upload-not-found'
  | 'db-unavailable'
  | 'embedded-db-failed'
  | 'mail-failed'
  | 'attachment-missing'
  | 'attachment-not-allowed'
  | 'attachment-unsupported'
  | 'attachment-too-large'
  | 'attachment-failed'
  | 'attachment-multiple'
  /** An undo was refused: the import is older than UNDO_WINDOW_DAYS. */
  | 'undo-window-passed'
  /** An undo was refused: the import was undone already; details.undoneBy names the undo. */
  | 'undo-already-undone'
  /** An undo was refused: the import is still running (or waiting to start). */
  | 'undo-import-running'
  /** An undo would change nothing: the import changed nothing, or everything it changed has changed since. */
  | 'undo-nothing-to-do'
  /** A plan needs the administrator's decision before it can be imported (the message names how to give it). */
  | 'decision-needed'
  | 'usage';

/** An error whose message is written for the administrator and whose code is stable. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

/** True when `err` is an {@link AppError}, optionally of the given code. */
export function isAppError(err: unknown, code?: ErrorCode): err is AppError {
  return err instanceof AppError && (code === undefined || err.code === code);
}
