import { TeamsInfo, type Activity, type TurnContext } from 'botbuilder';
import { z } from 'zod';
import type { AccountDirectory } from '../../services/accounts/accountDirectory';
import { AppError } from '../../services/errors';
import type { Logger } from '../../services/logger';

/** Who may do what: which account a conversation belongs to, and who administers it. */
export interface AccessSettings {
  defaultAccount: string;
  /** Teams tenant id → account id. */
  tenantAccounts: Map<string, string>;
  /** Teams Entra object ids, channel user ids or emails, lower-cased. */
  admins: Set<string>;
}

const listOf = (text: string) =>
  text
    .split(/[,;\s]+/)
    .map((item) => item.trim())
    .filter((item) => item !== '');

const schema = z.object({
  DEFAULT_ACCOUNT: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'must be 1-100 letters, digits or . _ : -')
    .default('default'),
  TENANT_ACCOUNTS: z
    .string()
    .default('')
    .transform((text, ctx) => {
      const map = new Map<string, string>();
      for (const pair of listOf(text)) {
        const [tenant, account] = pair.split('=');
        if (!tenant || !account) {
          ctx.addIssue({ code: 'custom', message: `"${pair}" is not tenantId=accountId` });
          continue;
        }
        map.set(tenant.toLowerCase(), account);
      }
      return map;
    }),
  ADMINS: z
    .string()
    .default('')
    .transform((text) => new Set(listOf(text).map((item) => item.toLowerCase()))),
});

/** Reads DEFAULT_ACCOUNT, TENANT_ACCOUNTS (`tenant=account,…`) and ADMINS (`id-or-email,…`). */
export function loadAccessSettings(env: NodeJS.ProcessEnv = process.env): AccessSettings {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new AppError('config-invalid', `Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return {
    defaultAccount: parsed.data.DEFAULT_ACCOUNT,
    tenantAccounts: parsed.data.TENANT_ACCOUNTS,
    admins: parsed.data.ADMINS,
  };
}

export type AccountResolution = { ok: true; accountId: string } | { ok: false; reason: string };

/**
 * The account a conversation belongs to: in Teams, the tenant's mapped account; elsewhere the default
 * account. A Teams tenant nobody mapped gets no account rather than someone else's.
 */
export function resolveAccount(activity: Partial<Activity>, settings: AccessSettings): AccountResolution {
  if (activity.channelId !== 'msteams') return { ok: true, accountId: settings.defaultAccount };
  const tenant = teamsTenantOf(activity);
  const accountId = tenant ? settings.tenantAccounts.get(tenant) : undefined;
  return accountId
    ? { ok: true, accountId }
    : {
        ok: false,
        reason: 'This Microsoft Teams organisation is not linked to an Enrollment Assistant account yet.',
      };
}

/** The Teams tenant id of an activity, lower-case; '' when it names none. */
function teamsTenantOf(activity: Partial<Activity>): string {
  const channelData = (activity.channelData ?? {}) as { tenant?: { id?: string } };
  return (channelData.tenant?.id ?? activity.conversation?.tenantId ?? '').trim().toLowerCase();
}

/** True when the sender is one of the configured administrators (by Entra object id, user id or email). */
export function isAdministrator(
  activity: Partial<Activity>,
  settings: AccessSettings,
  email?: string,
): boolean {
  const from = activity.from;
  const candidates = [from?.aadObjectId, from?.id, email].filter(
    (value): value is string => typeof value === 'string' && value !== '',
  );
  return candidates.some((value) => settings.admins.has(value.toLowerCase()));
}

/** What {@link AccountAccess.check} found out about the sender of a turn. */
export interface AccessCheck {
  accountId: string;
  isAdmin: boolean;
  /** The sender's Entra object id, or their channel user id: what an administrator would add for them. */
  principal: string;
}

/** The sender's account and rights, or why the conversation belongs to no account. */
export type AccessResult = ({ ok: true } & AccessCheck) | { ok: false; reason: string };

/** How long a turn waits for the sender's email before deciding without it. */
const EMAIL_LOOKUP_TIMEOUT_MS = 5000;

/**
 * Decides, for each turn, which account the conversation belongs to and whether the sender administers it,
 * combining the settings (TENANT_ACCOUNTS, ADMINS, DEFAULT_ACCOUNT) with the links and administrators stored
 * through the `enroll tenants` and `enroll admins` commands. The settings win where both speak: a tenant in
 * TENANT_ACCOUNTS uses that account whatever is stored, and everyone in ADMINS administers every account.
 */
export class AccountAccess {
  /**
   * @param directory the stored links and administrators; undefined uses the settings alone.
   * @param lookupEmail finds a Teams sender's email (see {@link teamsEmailLookup}), so administrators can be
   *   named by email; without it, only ids match.
   */
  constructor(
    private readonly settings: AccessSettings,
    private readonly directory: AccountDirectory | undefined,
    private readonly lookupEmail?: (context: TurnContext) => Promise<string | undefined>,
    /**
     * True for a turn from the built-in local chat page, whose user administers the default account: that
     * page only serves browsers on this machine (or whoever LOCAL_CHANNEL=on lets in), and runs only without
     * a Microsoft app id, where any request to /api/messages is trusted anyway.
     */
    private readonly isLocalOperator?: (activity: Partial<Activity>) => boolean,
  ) {}

  /**
   * The account from TENANT_ACCOUNTS first, then from the stored links (msteams); DEFAULT_ACCOUNT on other
   * channels. The sender is an administrator when their Entra object id, user id or email is in ADMINS or
   * among the account's stored administrators. The email costs a call to Teams, so it is looked up only when
   * the ids did not already decide, and only in msteams; a failed look-up counts as no email.
   */
  async check(context: TurnContext): Promise<AccessResult> {
    const { activity } = context;
    const account = await this.accountOf(activity);
    if (!account.ok) return account;
    const { accountId } = account;
    const from = activity.from ?? {};
    const principal = from.aadObjectId || from.id || '';
    const ids = [from.aadObjectId, from.id].filter((id): id is string => typeof id === 'string' && id !== '');

    if (this.isLocalOperator?.(activity) && accountId === this.settings.defaultAccount)
      return { ok: true, accountId, isAdmin: true, principal };
    if (isAdministrator(activity, this.settings) || (await this.isStoredAdmin(accountId, ids)))
      return { ok: true, accountId, isAdmin: true, principal };
    if (activity.channelId !== 'msteams' || !this.lookupEmail || !from.id)
      return { ok: true, accountId, isAdmin: false, principal };
    const email = await this.emailOf(context);
    const isAdmin =
      email !== undefined &&
      (this.settings.admins.has(email.toLowerCase()) || (await this.isStoredAdmin(accountId, [email])));
    return { ok: true, accountId, isAdmin, principal };
  }

  private async accountOf(activity: Partial<Activity>): Promise<AccountResolution> {
    const configured = resolveAccount(activity, this.settings);
    if (configured.ok || activity.channelId !== 'msteams') return configured;
    const tenant = teamsTenantOf(activity);
    const stored = tenant && this.directory ? await this.directory.accountForTenant(tenant) : null;
    if (stored) return { ok: true, accountId: stored };
    return {
      ok: false,
      reason:
        'This Microsoft Teams organisation is not linked to an Enrollment Assistant account yet. ' +
        (tenant
          ? `Whoever runs Enrollment Assistant can link it with: npm run -s enroll -- tenants link ${tenant} --account <account>`
          : 'Teams did not say which organisation this conversation belongs to.'),
    };
  }

  private async isStoredAdmin(accountId: string, principals: string[]): Promise<boolean> {
    return this.directory ? this.directory.isAdmin(accountId, principals) : false;
  }

  /** The sender's email, or undefined when the look-up fails, finds none or takes too long. */
  private async emailOf(context: TurnContext): Promise<string | undefined> {
    const lookup = this.lookupEmail;
    if (!lookup) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), EMAIL_LOOKUP_TIMEOUT_MS);
      timer.unref();
    });
    try {
      // A look-up that throws (even synchronously) must not turn a refusal into a failed turn.
      const found = Promise.resolve()
        .then(() => lookup(context))
        .catch(() => undefined);
      const email = await Promise.race([found, timeout]);
      return email?.trim() || undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The Teams sender's email: `TeamsInfo.getMember(context, from.id)` → email, else userPrincipalName.
 * Undefined on any failure (the failure is logged at debug to `log`), never thrown, so a connector hiccup
 * only costs the email-based match.
 */
export async function teamsEmailLookup(context: TurnContext, log?: Logger): Promise<string | undefined> {
  try {
    const member = await TeamsInfo.getMember(context, context.activity.from.id);
    return member.email?.trim() || member.userPrincipalName?.trim() || undefined;
  } catch (err) {
    log?.debug('Could not look up the Teams sender’s email', { error: err });
    return undefined;
  }
}

/**
 * The polite refusal a sender who is not an administrator gets, telling them what to pass on: their id
 * (`principal` from {@link AccountAccess.check}) and the two ways of adding it.
 */
export function refusalText(principal: string, accountId?: string): string {
  return (
    'Sorry, only the administrators of this account can import users. Ask one of them to add you ' +
    `(your user id here is ${principal}; it goes in the ADMINS setting, or they can run ` +
    `npm run -s enroll -- admins add ${principal} --account ${accountId ?? '<account>'}).`
  );
}
