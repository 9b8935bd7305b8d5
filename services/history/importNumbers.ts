import type { AnyBulkWriteOperation, Collection, Db } from 'mongodb';
import { IMPORTS_COLLECTION } from '../db/collectionNames';
import type { ImportRecord } from './importRecord';

/**
 * FerretDB 1.24 stops answering an `update` command that carries 100 or more statements, so numbers are
 * written in bulks well under that.
 */
const UPDATES_PER_COMMAND = 50;

/** How often a backfill starts over when someone else took a number it meant to give. */
const MAX_BACKFILL_PASSES = 5;

/** True for a duplicate key error (MongoDB and FerretDB alike report code 11000). */
export function isDuplicateKeyError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, writeErrors } = err as { code?: unknown; writeErrors?: unknown };
  if (code === 11000) return true;
  // A bulk write's error carries the codes of its failed statements.
  const errors: unknown[] = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
  return errors.some((e) => (e as { code?: unknown }).code === 11000);
}

/** The highest number the account's imports carry, 0 when none is numbered yet. */
export async function highestImportNumber(
  imports: Collection<ImportRecord>,
  accountId: string,
): Promise<number> {
  const highest = await imports.findOne(
    { accountId, number: { $exists: true } },
    { sort: { number: -1 }, projection: { _id: 0, number: 1 } },
  );
  return typeof highest?.number === 'number' ? highest.number : 0;
}

/**
 * Numbers the imports recorded before imports had numbers: per account in `createdAt` order (then id),
 * continuing after the highest number the account already has. Runs before the unique index on
 * `{ accountId, number }` is built (see `ensureIndexes`), which could not be built over several unnumbered
 * imports of one account. Safe to run at every start and by several processes at once: each number is
 * written only onto an import that still has none, and a number someone else took meanwhile makes the
 * backfill start over from the new highest number. Returns how many imports it numbered.
 */
export async function numberUnnumberedImports(db: Db): Promise<number> {
  const imports = db.collection<ImportRecord>(IMPORTS_COLLECTION);
  let numbered = 0;
  for (let pass = 1; ; pass++) {
    const unnumbered = await imports
      .find(
        { number: { $exists: false } },
        { projection: { _id: 1, accountId: 1, createdAt: 1 }, sort: { accountId: 1, createdAt: 1, _id: 1 } },
      )
      .toArray();
    if (unnumbered.length === 0) return numbered;

    const byAccount = new Map<string, string[]>();
    for (const { _id, accountId } of unnumbered) {
      const ids = byAccount.get(accountId) ?? [];
      ids.push(_id);
      byAccount.set(accountId, ids);
    }
    let collided = false;
    for (const [accountId, ids] of byAccount) {
      let next = (await highestImportNumber(imports, accountId)) + 1;
      const ops: AnyBulkWriteOperation<ImportRecord>[] = ids.map((_id) => ({
        updateOne: { filter: { _id, number: { $exists: false } }, update: { $set: { number: next++ } } },
      }));
      for (let i = 0; i < ops.length; i += UPDATES_PER_COMMAND) {
        try {
          const result = await imports.bulkWrite(ops.slice(i, i + UPDATES_PER_COMMAND), { ordered: true });
          numbered += result.modifiedCount;
        } catch (err) {
          // Someone created an import with a number meant for one of these: start over from the new highest.
          if (!isDuplicateKeyError(err) || pass >= MAX_BACKFILL_PASSES) throw err;
          numbered += (err as { result?: { modifiedCount?: number } }).result?.modifiedCount ?? 0;
          collided = true;
          break;
        }
      }
      if (collided) break;
    }
    if (!collided) return numbered;
  }
}
