import { z } from 'zod';
import { AppError } from '../services/errors';

const optional = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const schema = z
  .object({
    MicrosoftAppId: optional,
    MicrosoftAppPassword: optional,
    MicrosoftAppType: z.enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI']).optional(),
    MicrosoftAppTenantId: optional,
  })
  .superRefine((s, ctx) => {
    if (!s.MicrosoftAppId) return;
    if (s.MicrosoftAppType !== 'UserAssignedMSI' && !s.MicrosoftAppPassword) {
      ctx.addIssue({
        code: 'custom',
        path: ['MicrosoftAppPassword'],
        message: 'is required when MicrosoftAppId is set',
      });
    }
    if (s.MicrosoftAppType === 'SingleTenant' && !s.MicrosoftAppTenantId) {
      ctx.addIssue({
        code: 'custom',
        path: ['MicrosoftAppTenantId'],
        message: 'is required for a SingleTenant bot',
      });
    }
  });

/** The Bot Framework identity of this bot; without an app id the bot runs unauthenticated for local use. */
export interface BotSettings {
  authenticated: boolean;
  /** Options for ConfigurationBotFrameworkAuthentication. */
  auth: {
    MicrosoftAppId?: string;
    MicrosoftAppPassword?: string;
    MicrosoftAppType?: string;
    MicrosoftAppTenantId?: string;
  };
}

/** Reads the Bot Framework settings; a bad combination stops start-up with a message naming the setting. */
export function loadBotSettings(env: NodeJS.ProcessEnv = process.env): BotSettings {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new AppError('config-invalid', `Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const s = parsed.data;
  return {
    authenticated: Boolean(s.MicrosoftAppId),
    auth: {
      ...(s.MicrosoftAppId ? { MicrosoftAppId: s.MicrosoftAppId } : {}),
      ...(s.MicrosoftAppPassword ? { MicrosoftAppPassword: s.MicrosoftAppPassword } : {}),
      ...(s.MicrosoftAppType ? { MicrosoftAppType: s.MicrosoftAppType } : {}),
      ...(s.MicrosoftAppTenantId ? { MicrosoftAppTenantId: s.MicrosoftAppTenantId } : {}),
    },
  };
}
