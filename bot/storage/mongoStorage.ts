import { randomUUID } from 'node:crypto';
import type { Storage, StoreItem, StoreItems } from 'botbuilder';
import type { Collection, Db } from 'mongodb';

/** How bot state is kept: the item as JSON text, so keys with dots or dollars and nested arrays are safe on every server. */
interface StateDocument {
  _id: string;
  eTag: string;
  json: string;
  updatedAt: Date;
}

export const BOT_STATE_COLLECTION = 'botState';

/** Thrown when an item was changed by someone else since it was read (optimistic concurrency). */
export class StateConflictError extends Error {
  readonly code = 'state-conflict';
  constructor(key: string) {
    super(`Bot state "${key}" was changed by another turn; the write was refused.`);
    this.name = 'StateConflictError';
  }
}

/**
 * Conversation and user state in MongoDB with eTag concurrency, so several bot instances can serve one
 * conversation: a write carrying an eTag succeeds only if the stored item still has it; `*` or no eTag
 * writes unconditionally.
 */
export class MongoStorage implements Storage {
  private readonly collection: Collection<StateDocument>;

  constructor(db: Db, collectionName = BOT_STATE_COLLECTION) {
    this.collection = db.collection<StateDocument>(collectionName);
  }

  async read(keys: string[]): Promise<StoreItems> {
    const items: StoreItems = {};
    if (keys.length === 0) return items;
    const docs = await this.collection.find({ _id: { $in: keys } }).toArray();
    for (const doc of docs) items[doc._id] = { ...(JSON.parse(doc.json) as StoreItem), eTag: doc.eTag };
    return items;
  }

  async write(changes: StoreItems): Promise<void> {
    for (const [key, value] of Object.entries(changes)) {
      await this.writeOne(key, (value ?? {}) as StoreItem);
    }
  }

  async delete(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.collection.deleteMany({ _id: { $in: keys } });
  }

  private async writeOne(key: string, item: StoreItem): Promise<void> {
    const { eTag: expected, ...rest } = item;
    const next = { eTag: randomUUID(), json: JSON.stringify(rest), updatedAt: new Date() };
    if (expected === undefined || expected === '*') {
      await this.collection.updateOne({ _id: key }, { $set: next }, { upsert: true });
      return;
    }
    const updated = await this.collection.updateOne({ _id: key, eTag: expected }, { $set: next });
    if (updated.matchedCount === 1) return;
    // No stored item under that eTag: a first write is allowed to create it; anything else is a conflict.
    try {
      await this.collection.insertOne({ _id: key, ...next });
    } catch (err) {
      if ((err as { code?: number }).code === 11000) throw new StateConflictError(key);
      throw err;
    }
  }
}
