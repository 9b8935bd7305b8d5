import type { Activity } from 'botbuilder';
import { z } from 'zod';
import { AppError } from '../../services/errors';

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
  const channelData = (activity.channelData ?? {}) as { tenant?: { id?: string } };
  const tenant = (channelData.tenant?.id ?? activity.conversation?.tenantId ?? '').toLowerCase();
  const accountId = tenant ? settings.tenantAccounts.get(tenant) : undefined;
  return accountId
    ? { ok: true, accountId }
    : {
        ok: false,
        reason: 'This Microsoft Teams organisation is not linked to an Enrollment Assistant account yet.',
      };
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
