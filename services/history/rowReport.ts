import type { Writable } from 'node:stream';
import { PROFILE_FIELDS } from '../users/userTypes';
import type { RowResult } from './importRecord';

const CSV_COLUMNS = ['Row', 'Email', 'Requested Action', 'Outcome', 'Reason', 'Changes'] as const;

/**
 * Makes a value safe for a spreadsheet cell: spreadsheet programs run cells that begin with = + - @ (or a tab
 * or carriage return before them) as formulas, and quoting alone does not stop that, so such cells get a
 * leading apostrophe. Then RFC 4180 quoting.
 */
export function csvCell(value: string): string {
  const neutral = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(neutral) ? `"${neutral.replace(/"/g, '""')}"` : neutral;
}

function describeChanges(result: RowResult): string {
  if (!result.changes) return '';
  return PROFILE_FIELDS.filter((f) => result.changes?.[f])
    .map((f) => {
      const change = result.changes?.[f];
      return `${f}: ${change?.old ?? '(empty)'} -> ${change?.new ?? '(empty)'}`;
    })
    .join('; ');
}

/** Writes with backpressure; rejects if the reader goes away, so an abandoned download frees its cursor. */
export async function write(out: Writable, text: string): Promise<void> {
  if (out.destroyed) throw new Error('The report output was closed before the report was complete.');
  if (out.write(text)) return;
  await new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      out.off('drain', onDrain);
      out.off('close', onClose);
      out.off('error', done);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new Error('The report output was closed before the report was complete.'));
    out.once('drain', onDrain);
    out.once('close', onClose);
    out.once('error', done);
  });
}

/** Streams the per-row results as CSV, one line per row, with a header line. */
export async function writeCsvReport(rows: AsyncIterable<RowResult>, out: Writable): Promise<number> {
  await write(out, CSV_COLUMNS.join(',') + '\r\n');
  let count = 0;
  for await (const r of rows) {
    const cells = [String(r.row), r.email, r.action ?? '', r.outcome, r.reason ?? '', describeChanges(r)];
    await write(out, cells.map(csvCell).join(',') + '\r\n');
    count++;
  }
  return count;
}

/** Streams the per-row results as one JSON document `{ importId, rows: [...] }`. */
export async function writeJsonReport(
  importId: string,
  rows: AsyncIterable<RowResult>,
  out: Writable,
): Promise<number> {
  await write(out, `{"importId":${JSON.stringify(importId)},"rows":[`);
  let count = 0;
  for await (const r of rows) {
    await write(out, (count === 0 ? '\n' : ',\n') + JSON.stringify(r));
    count++;
  }
  await write(out, '\n]}\n');
  return count;
}
