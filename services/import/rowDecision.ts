import type { ObjectId } from 'mongodb';
import {
  PROFILE_FIELDS,
  type MailKind,
  type Profile,
  type ProfileField,
  type UserStatus,
} from '../users/userTypes';
import { checkEmailDomain, describeEmailFlag, type EmailFlag } from './emailDomainCheck';
import type { FlaggedEmailChoice } from './importOptions';
import type { ParsedRow, RequestedAction, RowProblem } from './rowRules';

/** What the import will do to the account for one row. */
export type Effect = 'create' | 'update' | 'delete' | 'activate' | 'unchanged';

/** The stored user a row refers to, as far as deciding needs it. */
export interface ExistingUser extends Profile {
  _id: ObjectId;
  email: string;
  status: UserStatus;
}

export type FieldChanges = Partial<Record<ProfileField, { old: string | null; new: string }>>;

export interface AppliedRow {
  kind: 'apply';
  row: number;
  email: string;
  action: RequestedAction;
  effect: Effect;
  profile: Profile;
  changes: FieldChanges;
  /** Present when the row refers to a stored user (a deleted one too, which a create revives). */
  existing?: ExistingUser;
  /** Status a created user starts in. */
  createStatus?: 'invited' | 'active';
  /** Message the row queues. */
  notify?: MailKind;
  /** Why the row's email is flagged for the admin (it creates a user with a doubtful address). */
  flag?: EmailFlag;
  /** Where the row is when its number does not say (an email list's "item 7 on line 3"). */
  where?: string;
}

/** An ignored row; `flag` when it is ignored because its email is flagged and the admin chose to skip those. */
export type RowDecision = AppliedRow | { kind: 'ignore'; problem: RowProblem; flag?: EmailFlag };

export interface DecisionOptions {
  /** Treat an Update row for an email the account does not have as New. */
  createMissingOnUpdate: boolean;
  /** The account's allowed email domains; empty or absent, any domain is allowed. */
  allowedDomains?: readonly string[];
  /** What to do with a row that would create a user with a flagged email; undecided, it is imported. */
  flaggedEmails?: FlaggedEmailChoice;
  /**
   * Create users without a First and Last Name: an email list's addresses, whose invitation asks the
   * person to complete their profile.
   */
  namesOptional?: boolean;
}

function diff(existing: Profile | undefined, profile: Profile): FieldChanges {
  const changes: FieldChanges = {};
  for (const field of PROFILE_FIELDS) {
    const value = profile[field];
    if (value === undefined) continue;
    const old = existing?.[field];
    if (old !== value) changes[field] = { old: old ?? null, new: value };
  }
  return changes;
}

/**
 * Decides what one valid row does, given the user the account already has under that email (if any). This
 * is the rule table of the import; the plan and the commit both use it so that what the admin is shown is
 * what happens.
 */
export function decideRow(
  parsed: ParsedRow,
  existing: ExistingUser | undefined,
  options: DecisionOptions,
): RowDecision {
  const live = existing && existing.status !== 'deleted' ? existing : undefined;
  const ignore = (code: RowProblem['code'], message: string, field?: RowProblem['field']): RowDecision => ({
    kind: 'ignore',
    problem: {
      row: parsed.row,
      email: parsed.email,
      code,
      message,
      action: parsed.action,
      ...(field ? { field } : {}),
    },
  });
  const apply = (effect: Effect, extra: Partial<AppliedRow> = {}): RowDecision => ({
    kind: 'apply',
    row: parsed.row,
    email: parsed.email,
    action: parsed.action,
    effect,
    profile: parsed.profile,
    changes: diff(effect === 'create' ? undefined : live, parsed.profile),
    ...(existing ? { existing } : {}),
    ...extra,
  });
  const create = (status: 'invited' | 'active'): RowDecision => {
    const missing = options.namesOptional
      ? []
      : (['firstName', 'lastName'] as const).filter((f) => !parsed.profile[f]);
    if (missing.length > 0) {
      const names = missing.map((f) => (f === 'firstName' ? 'First Name' : 'Last Name')).join(' and ');
      return ignore(
        'missing-field',
        `${names} ${missing.length > 1 ? 'are' : 'is'} required to create a user.`,
        missing[0],
      );
    }
    // Only a row that brings a user in is checked: an address the account already has is no new typo.
    const flag = checkEmailDomain(parsed.email, options.allowedDomains);
    if (flag && options.flaggedEmails === 'skip') {
      const skipped = ignore(
        'flagged-email',
        `${describeEmailFlag(parsed.email, flag)}; skipped as you chose.`,
      );
      return { ...skipped, flag };
    }
    return apply('create', {
      createStatus: status,
      notify: status === 'invited' ? 'invitation' : 'activation',
      ...(flag ? { flag } : {}),
    });
  };
  const updateOrUnchanged = (): RowDecision => {
    const changes = diff(live, parsed.profile);
    return apply(Object.keys(changes).length > 0 ? 'update' : 'unchanged');
  };

  switch (parsed.action) {
    case 'new':
      return live ? updateOrUnchanged() : create('invited');
    case 'update':
      if (live) return updateOrUnchanged();
      return options.createMissingOnUpdate
        ? create('invited')
        : ignore('not-found', 'Update skipped: no user with this email in the account.');
    case 'delete':
      return live
        ? apply('delete')
        : ignore('not-found', 'Delete skipped: no user with this email in the account.');
    case 'activate':
      if (!live) return create('active');
      if (live.status === 'invited') return apply('activate', { notify: 'activation' });
      return updateOrUnchanged();
  }
}
