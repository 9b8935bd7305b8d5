import type { Db, Filter } from 'mongodb';
import { IMPORT_ROWS_COLLECTION, IMPORTS_COLLECTION } from '../db/indexes';
import { USERS_COLLECTION, type UserDocument } from '../users/userTypes';
import { INTERRUPTED_AFTER_MS, type ImportHistory } from './importHistory';
import {
  emptyOutcomes,
  OUTCOMES,
  type ImportRecord,
  type OutcomeCounts,
  type RowResult,
  type RowResultChunk,
} from './importRecord';

/** How many imports an ambiguous reference offers to choose from. */
export const MAX_CANDIDATES = 3;

/** Which of an account's imports to list. Every criterion given must hold; blank strings are ignored. */
export interface ImportFilter {
  /** Imports created at or after this moment. */
  from?: Date;
  /** Imports created at or before this moment (inclusive). */
  to?: Date;
  /** The admin as imports record them (name or principal): its leading whole words, any case ("ann"). */
  by?: string;
  /** The file's name, case-insensitive exact. */
  fileName?: string;
}

/** One page of an account's imports, with figures about all of those the filter matches. */
export interface ImportPage {
  /** The page, newest first. */
  imports: ImportRecord[];
  /** how many match the filter in all */
  total: number;
  /** outcome counts summed over ALL matching imports, via $group/$sum */
  totals: OutcomeCounts;
}

/** How an administrator named an import: by reference, or by file name and/or when it ran. */
export interface ImportReference {
  /** `"12"` (also `"#12"`): the account's import number 12; or an import id `"imp_…"`. */
  importRef?: string;
  /** The file's name, case-insensitive exact. */
  fileName?: string;
  /** Created at or after this moment. */
  from?: Date;
  /** Created at or before this moment (inclusive). */
  to?: Date;
}

/** Which import a reference names. */
export type ImportResolution =
  | { kind: 'found'; record: ImportRecord }
  /** 2 to {@link MAX_CANDIDATES} imports newest first; `more` when further imports match as well. */
  | { kind: 'ambiguous'; candidates: ImportRecord[]; more: boolean }
  /** `no-imports`: the account has no imports at all; `no-match`: none of them is the one named. */
  | { kind: 'not-found'; reason: 'no-imports' | 'no-match' };

/** One page of an import's ignored and failed rows. */
export interface ProblemPage {
  /** In row order. */
  rows: RowResult[];
  /** How many rows the import ignored or failed in all. */
  total: number;
}

/** What one import did with one user's row. */
export interface UserHistoryEntry {
  importId: string;
  number: number;
  createdAt: Date;
  fileName: string;
  by: string;
  row: RowResult;
}

/** What the account's imports did with one email address, and that user as they are now. */
export interface UserHistory {
  /** The address asked about, trimmed and lower-cased. */
  email: string;
  /** current state from users collection, this account; null when the account never had this user */
  user: UserDocument | null;
  /** newest import first (rows of one import in row order); one page of them */
  entries: UserHistoryEntry[];
  /** How many entries there are in all. */
  total: number;
}

/** Matches `value` whole, ignoring case, without letting its characters act as a pattern. */
function caseInsensitiveExact(value: string): { $regex: string; $options: string } {
  return { $regex: `^${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, $options: 'i' };
}

/**
 * Admins are named as people say them: "Ann" finds "Ann Admin" (whole leading words, any case), while
 * "An" finds neither "Ann" nor "Dan".
 */
function caseInsensitiveLeadingWords(value: string): { $regex: string; $options: string } {
  return { $regex: `^${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:\\s|$)`, $options: 'i' };
}

/** A non-negative whole number from a caller's paging value. */
function count(n: number): number {
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

function importQuery(accountId: string, filter: ImportFilter): Filter<ImportRecord> {
  const query: Filter<ImportRecord> = { accountId };
  if (filter.from || filter.to) {
    query.createdAt = {
      ...(filter.from ? { $gte: filter.from } : {}),
      ...(filter.to ? { $lte: filter.to } : {}),
    };
  }
  const by = filter.by?.trim();
  if (by) query.by = caseInsensitiveLeadingWords(by);
  const fileName = filter.fileName?.trim();
  if (fileName) query['file.name'] = caseInsensitiveExact(fileName);
  return query;
}

/** Newest first; imports created in the same millisecond by number. */
const NEWEST_FIRST = { createdAt: -1, number: -1 } as const;

/**
 * Answers administrators' questions about their account's import history: lists with filters, which import
 * they mean, an import's problem rows, and what imports did with one user. Every method is confined to one
 * account, so an administrator only ever sees their own account's imports.
 */
export class HistoryQueries {
  constructor(
    private readonly db: Db,
    private readonly history: ImportHistory,
  ) {}

  private get imports() {
    return this.db.collection<ImportRecord>(IMPORTS_COLLECTION);
  }

  private get chunks() {
    return this.db.collection<RowResultChunk>(IMPORT_ROWS_COLLECTION);
  }

  private markInterrupted(accountId: string): Promise<number> {
    return this.history.markInterrupted(accountId, new Date(Date.now() - INTERRUPTED_AFTER_MS));
  }

  /**
   * One page of the account's imports that match `filter`, newest first, with how many match in all and
   * their outcome counts summed. Imports interrupted by a crash are shown as failed, as in
   * `ImportHistory.list`.
   */
  async listImports(
    accountId: string,
    filter: ImportFilter,
    skip: number,
    limit: number,
  ): Promise<ImportPage> {
    await this.markInterrupted(accountId);
    const query = importQuery(accountId, filter);
    const [imports, total, ...sums] = await Promise.all([
      count(limit) === 0
        ? Promise.resolve([])
        : this.imports.find(query).sort(NEWEST_FIRST).skip(count(skip)).limit(count(limit)).toArray(),
      this.sum(query, 1),
      ...OUTCOMES.map((outcome) => this.sum(query, `$outcomes.${outcome}`)),
    ]);
    const totals = emptyOutcomes();
    OUTCOMES.forEach((outcome, i) => (totals[outcome] = sums[i] ?? 0));
    return { imports, total, totals };
  }

  /**
   * `$sum` of `value` over the imports matching `query`. One accumulator per `$group`: FerretDB 1.24 computes
   * only the first accumulator of a `$group` and answers 0 for the others (FerretDB issue #4616).
   */
  private async sum(query: Filter<ImportRecord>, value: 1 | `$${string}`): Promise<number> {
    const [group] = await this.imports
      .aggregate<{ n?: unknown }>([{ $match: query }, { $group: { _id: null, n: { $sum: value } } }])
      .toArray();
    return Number(group?.n ?? 0);
  }

  /**
   * The import an administrator refers to. `importRef` decides alone when given: digits (optionally after
   * `#`) are the account's import number, `imp_…` an import id of this account; anything else matches
   * nothing. Otherwise the file name and/or date range pick the imports: one is found, several are
   * ambiguous (the newest {@link MAX_CANDIDATES}). With no criterion at all, the latest import is meant.
   * Nothing found is `no-imports` when the account has no imports at all, `no-match` otherwise.
   */
  async resolveImport(accountId: string, ref: ImportReference): Promise<ImportResolution> {
    await this.markInterrupted(accountId);
    const importRef = ref.importRef?.trim();
    if (importRef) {
      const numberMatch = /^#?\s*(\d{1,15})$/.exec(importRef);
      let record: ImportRecord | null = null;
      if (numberMatch) {
        record = await this.imports.findOne({ accountId, number: Number(numberMatch[1]) });
      } else if (/^imp_[a-z0-9]+$/i.test(importRef)) {
        record = await this.imports.findOne({ _id: importRef.toLowerCase(), accountId });
      }
      return record ? { kind: 'found', record } : this.notFound(accountId);
    }

    const query = importQuery(accountId, { fileName: ref.fileName, from: ref.from, to: ref.to });
    const matches = await this.imports
      .find(query)
      .sort(NEWEST_FIRST)
      .limit(MAX_CANDIDATES + 1)
      .toArray();
    const [first] = matches;
    if (!first) return this.notFound(accountId);
    // With no criterion every import matches, and the newest is the one meant.
    const criteria = Object.keys(query).length > 1;
    if (matches.length === 1 || !criteria) return { kind: 'found', record: first };
    return {
      kind: 'ambiguous',
      candidates: matches.slice(0, MAX_CANDIDATES),
      more: matches.length > MAX_CANDIDATES,
    };
  }

  private async notFound(accountId: string): Promise<ImportResolution> {
    const any = await this.imports.findOne({ accountId }, { projection: { _id: 1 } });
    return { kind: 'not-found', reason: any ? 'no-match' : 'no-imports' };
  }

  /**
   * One page of the import's ignored and failed rows, in row order. Paged in the database, so a page costs
   * the same however far into a large import it is; `total` comes from the import's counters.
   */
  async problemRows(record: ImportRecord, skip: number, limit: number): Promise<ProblemPage> {
    const total = record.outcomes.ignored + record.outcomes.failed;
    if (count(limit) === 0) return { rows: [], total };
    const docs = await this.chunks
      .aggregate<{ rows: RowResult }>([
        { $match: { importId: record._id } },
        { $sort: { seq: 1 } },
        { $unwind: '$rows' },
        { $match: { 'rows.outcome': { $in: ['ignored', 'failed'] } } },
        ...(count(skip) > 0 ? [{ $skip: count(skip) }] : []),
        { $limit: count(limit) },
        { $project: { _id: 0, rows: 1 } },
      ])
      .toArray();
    return { rows: docs.map((d) => d.rows), total };
  }

  /**
   * What the account's imports did with one email address (compared trimmed and lower-cased), newest
   * import first, `limit` entries from `skip`; and the user as the account holds them now.
   */
  async userHistory(accountId: string, email: string, limit = 20, skip = 0): Promise<UserHistory> {
    const key = email.trim().toLowerCase();
    if (key === '') return { email: key, user: null, entries: [], total: 0 };
    const [user, imports] = await Promise.all([
      this.db.collection<UserDocument>(USERS_COLLECTION).findOne({ accountId, email: key }),
      // Row chunks carry no account, so the account's imports say which chunks may be read.
      this.imports
        .find({ accountId }, { projection: { _id: 1, number: 1, createdAt: 1, by: 1, 'file.name': 1 } })
        .toArray(),
    ]);
    if (imports.length === 0) return { email: key, user, entries: [], total: 0 };

    const byId = new Map(imports.map((i) => [i._id, i]));
    const docs = await this.chunks
      .aggregate<{ _id: string; importId?: string; rows: RowResult }>([
        { $match: { importId: { $in: [...byId.keys()] }, 'rows.email': key } },
        { $unwind: '$rows' },
        { $match: { 'rows.email': key } },
        { $project: { _id: 1, importId: 1, rows: 1 } },
      ])
      .toArray();
    const entries: UserHistoryEntry[] = [];
    for (const { _id, importId: storedImportId, rows: row } of docs) {
      // FerretDB 1.24's $unwind keeps only `_id` and the unwound field; a chunk's id is `<importId>:<seq>`.
      const importId = storedImportId ?? _id.slice(0, _id.lastIndexOf(':'));
      const record = byId.get(importId);
      if (!record) continue;
      entries.push({
        importId,
        number: record.number,
        createdAt: record.createdAt,
        fileName: record.file.name,
        by: record.by,
        row,
      });
    }
    entries.sort(
      (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.number - a.number || a.row.row - b.row.row,
    );
    return {
      email: key,
      user,
      entries: entries.slice(count(skip), count(skip) + count(limit)),
      total: entries.length,
    };
  }
}
