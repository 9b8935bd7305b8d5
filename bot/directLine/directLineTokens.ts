import { createHash, randomBytes } from 'node:crypto';
import type { Db } from 'mongodb';
import { DIRECT_LINE_TOKENS_COLLECTION } from '../../services/db/indexes';

/** Who a token speaks for, and in which conversation. */
export interface TokenClaims {
  conversationId: string;
  userId: string;
  userName?: string;
  expiresAt: Date;
}

/** A token as handed to the client: the secret itself is never stored. */
export interface IssuedToken {
  token: string;
  /** Seconds until it expires, as Direct Line's `expires_in`. */
  expiresIn: number;
  expiresAt: Date;
}

/** A token as stored: only its SHA-256, so a database dump holds no usable token. */
interface StoredToken extends TokenClaims {
  /** Hex SHA-256 of the token; lookups by _id are the only query FerretDB answers without a scan. */
  _id: string;
  createdAt: Date;
}

/** Direct Line's own token lifetime; clients refresh at half of it. */
export const DEFAULT_TOKEN_TTL_MS = 30 * 60 * 1000;

const TOKEN_BYTES = 32;
/** base64url of {@link TOKEN_BYTES} bytes, so junk is refused without a database round trip. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Bearer tokens of the local Direct Line channel: random, bound to one conversation and one user, expiring.
 * They live in the database, so any instance can check them and a restart signs nobody out.
 */
export class DirectLineTokens {
  constructor(
    private readonly db: Db,
    private readonly ttlMs: number = DEFAULT_TOKEN_TTL_MS,
  ) {
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError('ttlMs must be positive');
  }

  private get tokens() {
    return this.db.collection<StoredToken>(DIRECT_LINE_TOKENS_COLLECTION);
  }

  /** A new token for the conversation and user, valid for the configured lifetime from now. */
  async issue(claims: Omit<TokenClaims, 'expiresAt'>, now = new Date()): Promise<IssuedToken> {
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    const expiresAt = new Date(now.getTime() + this.ttlMs);
    await this.tokens.insertOne({
      _id: hashToken(token),
      conversationId: claims.conversationId,
      userId: claims.userId,
      ...(claims.userName === undefined ? {} : { userName: claims.userName }),
      createdAt: now,
      expiresAt,
    });
    return { token, expiresIn: Math.round(this.ttlMs / 1000), expiresAt };
  }

  /**
   * The claims of a live token, or null when it is missing, unknown or expired, or (with `conversationId`)
   * for another conversation: the caller answers all of these alike.
   */
  async verify(
    token: string | undefined,
    conversationId?: string,
    now = new Date(),
  ): Promise<TokenClaims | null> {
    if (!token || !TOKEN_SHAPE.test(token)) return null;
    const stored = await this.tokens.findOne({ _id: hashToken(token) });
    if (!stored || stored.expiresAt.getTime() <= now.getTime()) return null;
    if (conversationId !== undefined && stored.conversationId !== conversationId) return null;
    const { conversationId: id, userId, userName, expiresAt } = stored;
    return { conversationId: id, userId, ...(userName === undefined ? {} : { userName }), expiresAt };
  }

  /**
   * A fresh token for the same conversation and user. The old one is left to expire on its own, as Direct
   * Line does, so a request already on its way with it still goes through.
   */
  async refresh(claims: TokenClaims, now = new Date()): Promise<IssuedToken> {
    const { expiresAt: _expiresAt, ...rest } = claims;
    return this.issue(rest, now);
  }

  /** Seconds left before a token's expiry, for `expires_in` when the same token is handed back. */
  static secondsLeft(claims: TokenClaims, now = new Date()): number {
    return Math.max(0, Math.round((claims.expiresAt.getTime() - now.getTime()) / 1000));
  }

  /** Removes expired tokens; returns how many went. */
  async purgeExpired(now = new Date()): Promise<number> {
    const { deletedCount } = await this.tokens.deleteMany({ expiresAt: { $lt: now } });
    return deletedCount;
  }
}

/** The database key of a token, for tests that need to age one. */
export const tokenKey = hashToken;
