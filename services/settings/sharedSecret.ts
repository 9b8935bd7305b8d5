import { randomBytes } from 'node:crypto';
import type { Db } from 'mongodb';
import { SETTINGS_COLLECTION } from '../db/indexes';

/** A named value shared by every instance through the database. */
interface SettingDocument {
  _id: string;
  /** Base64 of the secret's bytes. */
  value: string;
}

/** The size of a generated secret: as long as an HMAC-SHA256 digest, and what report links require. */
export const SHARED_SECRET_BYTES = 32;

function decode(doc: SettingDocument, name: string): Buffer {
  const bytes = typeof doc.value === 'string' ? Buffer.from(doc.value, 'base64') : Buffer.alloc(0);
  // A damaged value is reported rather than replaced: replacing it would silently void every link that
  // other instances have already signed with it.
  if (bytes.length < SHARED_SECRET_BYTES) {
    throw new Error(
      `The shared secret "${name}" in the ${SETTINGS_COLLECTION} collection is damaged; delete it to have a new one made.`,
    );
  }
  return bytes;
}

/**
 * The secret stored under `name`, made on first use: 32 random bytes that every instance sharing the
 * database reads, so all of them sign and verify alike without any configuration. When two instances start
 * together, the first insert wins and the other reads the winner's value.
 */
export async function loadOrCreateSecret(db: Db, name: string): Promise<Buffer> {
  const settings = db.collection<SettingDocument>(SETTINGS_COLLECTION);
  const existing = await settings.findOne({ _id: name });
  if (existing) return decode(existing, name);

  const value = randomBytes(SHARED_SECRET_BYTES);
  try {
    await settings.insertOne({ _id: name, value: value.toString('base64') });
    return value;
  } catch (err) {
    if ((err as { code?: number }).code !== 11000) throw err;
  }
  // Another instance inserted between our read and our insert: its value is the one everybody uses.
  const winner = await settings.findOne({ _id: name });
  if (!winner) throw new Error(`The shared secret "${name}" vanished while it was being created.`);
  return decode(winner, name);
}
