import type { Db } from 'mongodb';
import { z } from 'zod';
import {
  ACCOUNT_ADMINS_COLLECTION,
  ACCOUNT_DOMAINS_COLLECTION,
  ACCOUNT_TENANTS_COLLECTION,
} from '../db/indexes';
import { AppError } from '../errors';

/** A Microsoft Teams tenant linked to an account; `_id` is the tenant id, lower-case. */
interface TenantLinkDocument {
  _id: string;
  accountId: string;
  linkedAt: Date;
  linkedBy: string;
}

/** An administrator added at run time; `_id` is `${accountId}\n${principal}`, so one add wins a race. */
interface AccountAdminDocument {
  _id: string;
  accountId: string;
  principal: string;
  addedAt: Date;
  addedBy: string;
}

/** An account's allowed email domains; `_id` is the account id. */
interface AccountDomainsDocument {
  _id: string;
  domains: string[];
  updatedAt: Date;
  updatedBy: string;
}

/** An account's allowed email domains, as listed. */
export interface AllowedDomains {
  accountId: string;
  domains: string[];
  updatedAt: Date;
  updatedBy: string;
}

/** A stored tenant → account link, as listed. */
export interface TenantLink {
  tenantId: string;
  accountId: string;
  linkedAt: Date;
  linkedBy: string;
}

/** A stored administrator of an account, as listed. */
export interface AccountAdmin {
  principal: string;
  addedAt: Date;
  addedBy: string;
}

/** The same rule DEFAULT_ACCOUNT follows, so any account the settings can name can be stored too. */
const accountIdSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'must be 1-100 letters, digits or . _ : -');

const tenantIdSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    'must be a Microsoft Entra tenant id (a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47)',
  );

/** 320 characters is the longest an email address can be; Entra object ids and channel ids are shorter. */
const principalSchema = z
  .string()
  .trim()
  .toLowerCase()
  .min(1, 'must not be empty')
  .max(320, 'must be at most 320 characters')
  .regex(/^\S*$/, 'must not contain spaces');

/** How many allowed domains one account may list. */
export const MAX_ALLOWED_DOMAINS = 100;

const HOST_LABEL = /^[a-z0-9-]{1,63}$/;

/**
 * A host name that can end an email address we accept: dot-separated labels of letters, digits and inner
 * hyphens, at least two, the last one 2+ letters (as `isValidEmail` requires).
 */
function isDomainName(domain: string): boolean {
  const labels = domain.split('.');
  return (
    domain.length <= 253 &&
    labels.length >= 2 &&
    labels.every((label) => HOST_LABEL.test(label) && !label.startsWith('-') && !label.endsWith('-')) &&
    /^[a-z]{2,63}$/.test(labels[labels.length - 1] ?? '')
  );
}

/** An allowed domain, lower-case; "@acme.com" is taken as acme.com. */
const domainSchema = z
  .string()
  .trim()
  .toLowerCase()
  .transform((domain) => domain.replace(/^@/, ''))
  .refine(isDomainName, 'must be a domain name such as acme.com or eu.acme.com');

const byField = z.string().trim().min(1, 'must not be empty').max(320, 'must be at most 320 characters');

/** Parses one input or throws an option-invalid AppError naming what is wrong with which value. */
function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => issue.message).join('; ');
  const text = typeof value === 'string' && value.length > 60 ? `${value.slice(0, 60)}…` : value;
  throw new AppError('option-invalid', `${JSON.stringify(text)} is not a valid ${what}: it ${problems}.`);
}

const adminKey = (accountId: string, principal: string) => `${accountId}\n${principal}`;

/**
 * The stored side of account access: which Microsoft Teams tenants belong to which account, and who
 * administers each account, added at run time rather than through the TENANT_ACCOUNTS and ADMINS settings.
 * Account ids are case-sensitive (as in the settings); tenant ids and principals are stored lower-case.
 * Writes validate every input and write nothing when one is invalid. The look-ups the bot makes on every
 * turn ({@link accountForTenant}, {@link isAdmin}) answer "no" for a value that could never have been stored
 * instead of throwing, because those values come from channel traffic, not from an administrator.
 */
export class AccountDirectory {
  constructor(private readonly db: Db) {}

  private get tenants() {
    return this.db.collection<TenantLinkDocument>(ACCOUNT_TENANTS_COLLECTION);
  }

  private get admins() {
    return this.db.collection<AccountAdminDocument>(ACCOUNT_ADMINS_COLLECTION);
  }

  private get domains() {
    return this.db.collection<AccountDomainsDocument>(ACCOUNT_DOMAINS_COLLECTION);
  }

  /** Links a tenant to an account, replacing any earlier link of that tenant (a tenant has one account). */
  async linkTenant(tenantId: string, accountId: string, by: string): Promise<void> {
    const tenant = parse(tenantIdSchema, tenantId, 'tenant id');
    const account = parse(accountIdSchema, accountId, 'account id');
    const linkedBy = parse(byField, by, 'name for who made the change');
    await this.tenants.replaceOne(
      { _id: tenant },
      { accountId: account, linkedAt: new Date(), linkedBy },
      { upsert: true },
    );
  }

  /** Removes a tenant's link; false when it was not linked. */
  async unlinkTenant(tenantId: string): Promise<boolean> {
    const tenant = parse(tenantIdSchema, tenantId, 'tenant id');
    const result = await this.tenants.deleteOne({ _id: tenant });
    return result.deletedCount > 0;
  }

  /** The account a tenant is linked to, or null (also for anything that is not a tenant id). */
  async accountForTenant(tenantId: string): Promise<string | null> {
    const tenant = tenantIdSchema.safeParse(tenantId);
    if (!tenant.success) return null;
    const link = await this.tenants.findOne({ _id: tenant.data }, { projection: { accountId: 1 } });
    return link?.accountId ?? null;
  }

  /** The stored links, of one account or of all, ordered by tenant id. */
  async listTenants(accountId?: string): Promise<TenantLink[]> {
    const filter =
      accountId === undefined ? {} : { accountId: parse(accountIdSchema, accountId, 'account id') };
    const links = await this.tenants.find(filter).sort({ _id: 1 }).toArray();
    return links.map(({ _id, accountId: account, linkedAt, linkedBy }) => ({
      tenantId: _id,
      accountId: account,
      linkedAt,
      linkedBy,
    }));
  }

  /**
   * Makes `principal` (a Microsoft Entra object id, a channel user id or an email) an administrator of the
   * account. True when newly added, false when it already was one (the original entry is kept).
   */
  async addAdmin(accountId: string, principal: string, by: string): Promise<boolean> {
    const account = parse(accountIdSchema, accountId, 'account id');
    const who = parse(principalSchema, principal, 'administrator (an Entra object id, user id or email)');
    const addedBy = parse(byField, by, 'name for who made the change');
    try {
      await this.admins.insertOne({
        _id: adminKey(account, who),
        accountId: account,
        principal: who,
        addedAt: new Date(),
        addedBy,
      });
      return true;
    } catch (err) {
      // Already there: adding twice is harmless, and the first entry keeps its date and author.
      if ((err as { code?: number }).code === 11000) return false;
      throw err;
    }
  }

  /** Removes an administrator of the account; false when it was not one. */
  async removeAdmin(accountId: string, principal: string): Promise<boolean> {
    const account = parse(accountIdSchema, accountId, 'account id');
    const who = parse(principalSchema, principal, 'administrator (an Entra object id, user id or email)');
    const result = await this.admins.deleteOne({ accountId: account, principal: who });
    return result.deletedCount > 0;
  }

  /** True when any of `principals` (compared lower-case) is a stored administrator of the account. */
  async isAdmin(accountId: string, principals: string[]): Promise<boolean> {
    const account = accountIdSchema.safeParse(accountId);
    if (!account.success) return false;
    const keys = [
      ...new Set(
        principals.flatMap((p) => {
          const parsed = principalSchema.safeParse(p);
          return parsed.success ? [adminKey(account.data, parsed.data)] : [];
        }),
      ),
    ];
    if (keys.length === 0) return false;
    // By _id: the one look-up every server (FerretDB on SQLite included) answers without a scan.
    return (await this.admins.findOne({ _id: { $in: keys } }, { projection: { _id: 1 } })) !== null;
  }

  /** The account's stored administrators, ordered by principal. */
  async listAdmins(accountId: string): Promise<AccountAdmin[]> {
    const account = parse(accountIdSchema, accountId, 'account id');
    const admins = await this.admins.find({ accountId: account }).sort({ principal: 1 }).toArray();
    return admins.map(({ principal, addedAt, addedBy }) => ({ principal, addedAt, addedBy }));
  }

  /**
   * Limits the account's email domains to `domains` (each also covers its subdomains), replacing any earlier
   * list: imports then flag rows that would create users with addresses elsewhere. Returns the list as
   * stored (lower-case, without repeats). At least one domain; {@link clearAllowedDomains} lifts the limit.
   */
  async setAllowedDomains(accountId: string, domains: readonly string[], by: string): Promise<string[]> {
    const account = parse(accountIdSchema, accountId, 'account id');
    if (domains.length === 0)
      throw new AppError(
        'option-invalid',
        'Give at least one allowed domain, such as acme.com; to allow any domain, clear the setting.',
      );
    const stored = [...new Set(domains.map((d) => parse(domainSchema, d, 'allowed domain')))];
    if (stored.length > MAX_ALLOWED_DOMAINS)
      throw new AppError(
        'option-invalid',
        `An account can have at most ${MAX_ALLOWED_DOMAINS} allowed domains (got ${stored.length}); a domain also covers its subdomains.`,
      );
    const updatedBy = parse(byField, by, 'name for who made the change');
    await this.domains.replaceOne(
      { _id: account },
      { domains: stored, updatedAt: new Date(), updatedBy },
      { upsert: true },
    );
    return stored;
  }

  /** Lifts the account's domain limit; false when it had none. */
  async clearAllowedDomains(accountId: string): Promise<boolean> {
    const account = parse(accountIdSchema, accountId, 'account id');
    const result = await this.domains.deleteOne({ _id: account });
    return result.deletedCount > 0;
  }

  /** The account's allowed domains; empty when any domain is allowed (also for an id never stored). */
  async allowedDomains(accountId: string): Promise<string[]> {
    const account = accountIdSchema.safeParse(accountId);
    if (!account.success) return [];
    const found = await this.domains.findOne({ _id: account.data }, { projection: { domains: 1 } });
    return found?.domains ?? [];
  }

  /** The stored domain limits, of one account or of all, ordered by account id. */
  async listAllowedDomains(accountId?: string): Promise<AllowedDomains[]> {
    const filter = accountId === undefined ? {} : { _id: parse(accountIdSchema, accountId, 'account id') };
    const found = await this.domains.find(filter).sort({ _id: 1 }).toArray();
    return found.map(({ _id, domains, updatedAt, updatedBy }) => ({
      accountId: _id,
      domains,
      updatedAt,
      updatedBy,
    }));
  }
}
