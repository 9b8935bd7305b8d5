import { randomBytes } from 'node:crypto';
import { MongoServerError, type Db } from 'mongodb';
import {
  DIRECT_LINE_ACTIVITIES_COLLECTION,
  DIRECT_LINE_CONVERSATIONS_COLLECTION,
} from '../../services/db/indexes';

/** A conversation of the local Direct Line channel, between one user and the bot. */
export interface DirectLineConversation {
  _id: string;
  userId: string;
  userName?: string;
  createdAt: Date;
  /**
   * A recent watermark of the feed: where the next write starts looking. Only a hint, never behind by
   * much and never ahead; the feed's unique ids decide.
   */
  lastWatermark: number;
}

/** An activity as the channel shows it to clients: plain JSON. */
export type ActivityJson = Record<string, unknown>;

/**
 * One entry of a conversation's feed. An activity the bot updates gets a new entry with a new watermark, so
 * polling clients receive it again. Watermark 0 marks the conversation as started; clients never see it.
 */
interface FeedEntry {
  /** `${conversationId}:${watermark}`: unique, which is what hands out each watermark once. */
  _id: string;
  conversationId: string;
  watermark: number;
  activityId: string;
  /** The activity as JSON text: its keys may contain dots or start with `$`, which documents may not. */
  json: string;
  createdAt: Date;
}

/** A page of a conversation's feed, as `GET …/activities` answers it. */
export interface FeedPage {
  activities: ActivityJson[];
  /** The watermark to ask from next time (decimal text, as Direct Line clients keep it). */
  watermark: string;
}

/** At most this many activities per page; a client polling again gets the rest. */
export const FEED_PAGE_SIZE = 100;
/** Taken watermarks tried one after another before the feed is asked for its latest one. */
const STEPS_BEFORE_LOOKUP = 8;
/** Conversations whose latest watermark this process remembers. */
const MAX_REMEMBERED = 10_000;

const ACTIVITY_ID = /^(.+)\|(\d{1,12})$/;

/** A new conversation id: unguessable, since the bot's reply endpoints accept any conversation that exists. */
function newConversationId(): string {
  return `dlc-${randomBytes(16).toString('hex')}`;
}

/** The activity id Direct Line gives the activity stored at `watermark`: `${conversationId}|0000012`. */
export function activityIdFor(conversationId: string, watermark: number): string {
  return `${conversationId}|${String(watermark).padStart(7, '0')}`;
}

/** The watermark an activity id of this conversation was first stored at, or null if it is not one of ours. */
export function watermarkOfActivityId(conversationId: string, activityId: string): number | null {
  const match = ACTIVITY_ID.exec(activityId);
  if (!match || match[1] !== conversationId) return null;
  const watermark = Number(match[2]);
  return Number.isSafeInteger(watermark) && watermark > 0 ? watermark : null;
}

function isDuplicateKey(err: unknown): boolean {
  return err instanceof MongoServerError && err.code === 11000;
}

/**
 * Conversations and their activity feeds, in the database so a restart loses nothing.
 *
 * A watermark is taken by inserting the feed entry `${conversationId}:${watermark}`: the unique _id lets one
 * writer have it, and a writer only tries a watermark once the one before it is written, so the feed has no
 * holes and a client polling after watermark N never misses an entry that lands later below N. (FerretDB
 * 1.24 loses concurrent `$inc` updates, so a counter cannot be trusted to do this.)
 */
export class DirectLineStore {
  /** The latest watermark this process wrote, per conversation: the usual starting point of the next. */
  private readonly latest = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private get conversations() {
    return this.db.collection<DirectLineConversation>(DIRECT_LINE_CONVERSATIONS_COLLECTION);
  }

  private get feed() {
    return this.db.collection<FeedEntry>(DIRECT_LINE_ACTIVITIES_COLLECTION);
  }

  /** Creates a conversation for the user. */
  async createConversation(user: { id: string; name?: string }): Promise<DirectLineConversation> {
    const conversation: DirectLineConversation = {
      _id: newConversationId(),
      userId: user.id,
      ...(user.name === undefined ? {} : { userName: user.name }),
      createdAt: this.now(),
      lastWatermark: 0,
    };
    await this.conversations.insertOne(conversation);
    return conversation;
  }

  async getConversation(conversationId: string): Promise<DirectLineConversation | null> {
    return this.conversations.findOne({ _id: conversationId });
  }

  /**
   * Marks the conversation started, keeping `activity` (what the bot is told) at watermark 0. True only for
   * the one call that started it, however many race.
   */
  async start(conversationId: string, activity: ActivityJson): Promise<boolean> {
    try {
      await this.feed.insertOne(this.entry(conversationId, 0, String(activity.id ?? ''), activity));
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  /** Stores a new activity at the next watermark; `build` receives its id. Returns the stored activity. */
  async append(conversationId: string, build: (activityId: string) => ActivityJson): Promise<ActivityJson> {
    return this.write(conversationId, (watermark) => {
      const activityId = activityIdFor(conversationId, watermark);
      return { ...build(activityId), id: activityId };
    });
  }

  /**
   * Stores a new version of an activity under the same id and a new watermark, so clients that already
   * have it receive it again and replace it (every version stays in the feed, in order: a client reading
   * from the start replays them, ending on the latest). `build` gets the first version. Returns null when
   * the activity is not in this conversation.
   */
  async update(
    conversationId: string,
    activityId: string,
    build: (first: ActivityJson) => ActivityJson,
  ): Promise<ActivityJson | null> {
    const firstWatermark = watermarkOfActivityId(conversationId, activityId);
    if (firstWatermark === null) return null;
    const first = await this.feed.findOne({ _id: `${conversationId}:${firstWatermark}` });
    if (!first || first.activityId !== activityId) return null;
    const next = build(JSON.parse(first.json) as ActivityJson);
    return this.write(conversationId, () => ({ ...next, id: activityId }));
  }

  /**
   * The activities after `watermark`, oldest first, with the watermark to ask from next (the given one when
   * nothing is new). Clients poll every second, so the usual answer, nothing new, costs one lookup by _id
   * (the one query FerretDB answers without a scan); only when there is something does a range query fetch
   * the page. The feed has no holes (see the class comment), so the next entry's absence means nothing new.
   */
  async after(conversationId: string, watermark: number, limit = FEED_PAGE_SIZE): Promise<FeedPage> {
    const next = await this.feed.findOne({ _id: `${conversationId}:${watermark + 1}` });
    const entries = !next
      ? []
      : await this.feed
          .find({ conversationId, watermark: { $gt: watermark } })
          .sort({ watermark: 1 })
          .limit(limit)
          .toArray();
    return {
      activities: entries.map((entry) => JSON.parse(entry.json) as ActivityJson),
      watermark: String(entries.at(-1)?.watermark ?? watermark),
    };
  }

  /** Inserts the activity at the first free watermark after the latest known one. */
  private async write(
    conversationId: string,
    activityAt: (watermark: number) => ActivityJson,
  ): Promise<ActivityJson> {
    const stored = await this.getConversation(conversationId);
    if (!stored) throw new Error('The conversation does not exist.');
    let watermark = Math.max(stored.lastWatermark, this.latest.get(conversationId) ?? 0) + 1;
    for (let attempt = 1; ; attempt++) {
      const activity = activityAt(watermark);
      try {
        await this.feed.insertOne(this.entry(conversationId, watermark, String(activity.id), activity));
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        watermark =
          attempt % STEPS_BEFORE_LOOKUP === 0 ? (await this.newest(conversationId)) + 1 : watermark + 1;
        continue;
      }
      if (watermark > (this.latest.get(conversationId) ?? 0)) {
        // A bound on memory for a long-running process: forgetting only costs the next write a lookup.
        if (this.latest.size >= MAX_REMEMBERED) this.latest.clear();
        this.latest.set(conversationId, watermark);
      }
      // Only a hint for other processes and after a restart: a lost or late update just costs a retry.
      await this.conversations.updateOne({ _id: conversationId }, { $max: { lastWatermark: watermark } });
      return activity;
    }
  }

  /** The highest watermark in the feed (one indexed query, for when the hints are far behind). */
  private async newest(conversationId: string): Promise<number> {
    const [top] = await this.feed.find({ conversationId }).sort({ watermark: -1 }).limit(1).toArray();
    return top?.watermark ?? 0;
  }

  private entry(
    conversationId: string,
    watermark: number,
    activityId: string,
    activity: ActivityJson,
  ): FeedEntry {
    return {
      _id: `${conversationId}:${watermark}`,
      conversationId,
      watermark,
      activityId,
      json: JSON.stringify(activity),
      createdAt: this.now(),
    };
  }
}
