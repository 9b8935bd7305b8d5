import type { AccountAdmin, AllowedDomains, TenantLink } from '../services/accounts/accountDirectory';
import { describeEmailFlag } from '../services/import/emailDomainCheck';
import type { ImportRecord } from '../services/history/importRecord';
import { describeEmailList, type ImportPlan } from '../services/import/importPlan';
import { actionLabel } from '../services/import/rowRules';
import { decide, type Recognition } from '../services/understanding/recognizer';
import type { UserDocument } from '../services/users/userTypes';
import { PROFILE_FIELDS } from '../services/users/userTypes';

/** The dry-run document the CLI prints with --json (the contract the conversation and acceptance checks use). */
export function planJson(plan: ImportPlan) {
  return {
    file: plan.file,
    columns: plan.columns,
    ignoredColumns: plan.ignoredColumns,
    actions: plan.actions,
    effects: plan.effects,
    invitations: plan.invitations,
    activationNotices: plan.activationNotices,
    problems: plan.problems.map(({ row, email, code, message, where }) => ({
      row,
      email,
      code,
      message,
      ...(where ? { where } : {}),
    })),
    problemCounts: plan.problemCounts,
    problemsTruncated: plan.problemsTruncated,
    preview: plan.preview.map(({ action, ...rest }) => ({ ...rest, action: actionLabel(action) })),
    deletions: plan.deletions,
    flagged: plan.flagged,
    emailList: plan.emailList,
    reflow: plan.reflow,
    needs: plan.needs,
    alreadyImported: plan.alreadyImported,
  };
}

export function importJson(record: ImportRecord) {
  return {
    importId: record._id,
    fileName: record.file.name,
    createdAt: record.createdAt,
    finishedAt: record.finishedAt ?? null,
    by: record.by,
    status: record.status,
    outcomes: record.outcomes,
    invitations: record.invitations,
    activationNotices: record.activationNotices,
  };
}

export function userJson(user: UserDocument) {
  const mail = (entry: UserDocument['invitation']) =>
    entry
      ? {
          state: entry.state,
          importId: entry.importId,
          queuedAt: entry.queuedAt,
          attempts: entry.attempts,
          ...(entry.sentAt ? { sentAt: entry.sentAt } : {}),
          ...(entry.lastError ? { lastError: entry.lastError } : {}),
        }
      : null;
  return {
    email: user.email,
    ...Object.fromEntries(PROFILE_FIELDS.map((f) => [f, user[f] ?? null])),
    status: user.status,
    invitation: mail(user.invitation),
    activationNotice: mail(user.activationNotice),
  };
}

const plural = (n: number, word: string, many = `${word}s`) => `${n} ${n === 1 ? word : many}`;

export function planText(plan: ImportPlan): string {
  const lines: string[] = [];
  const f = plan.file;
  if (plan.emailList) {
    lines.push(
      `File: ${f.name} (${f.bytes} bytes, ${f.encoding}, an email list of ${plural(f.rows, 'entry', 'entries')})`,
    );
    lines.push(`Email list: ${describeEmailList(plan.emailList)}.`);
  } else if (f.sheet !== undefined) {
    const others = (f.sheets ?? []).filter((name) => name !== f.sheet);
    const also = others.length > 0 ? `; other sheets: ${others.map((name) => `"${name}"`).join(', ')}` : '';
    lines.push(
      `File: ${f.name} (${f.bytes} bytes, Excel workbook, sheet "${f.sheet}"${also}, ${plural(f.rows, 'data row')})`,
    );
  } else {
    lines.push(
      `File: ${f.name} (${f.bytes} bytes, ${f.encoding}, ${f.delimiterName}-delimited, ${plural(f.rows, 'data row')})`,
    );
  }
  if (plan.reflow) {
    const r = plan.reflow;
    const confirm = plan.needs.includes('confirm-reflow') ? ' (import them with --reflow)' : '';
    lines.push(
      `Rows run together on one line: ${r.values} values after the ${r.columns}-column header, re-flowed into ${plural(r.rows, 'row')}${confirm}. The first:`,
    );
    for (const values of r.sample) lines.push(`  ${values.join(' | ')}`);
  }
  lines.push('Columns:');
  for (const [field, header] of Object.entries(plan.columns))
    lines.push(`  ${field.padEnd(12)} <- "${header}"`);
  if (plan.ignoredColumns.length > 0)
    lines.push(`Ignored columns: ${plan.ignoredColumns.map((c) => `"${c}"`).join(', ')}`);
  const e = plan.effects;
  lines.push(
    `Will create ${e.create}, update ${e.update}, activate ${e.activate}, delete ${e.delete}; ${e.unchanged} already up to date.`,
  );
  lines.push(
    `Messages: ${plural(plan.invitations, 'invitation')}, ${plural(plan.activationNotices, 'activation notice')}.`,
  );
  const ignored = Object.values(plan.problemCounts).reduce((a, b) => a + (b ?? 0), 0);
  if (ignored > 0) {
    lines.push(`Rows ignored: ${ignored}`);
    for (const p of plan.problems.slice(0, 20))
      lines.push(`  ${p.where ? '' : `row ${p.row}: `}${p.code} - ${p.message}`);
    if (ignored > 20) lines.push(`  … and ${ignored - 20} more (use --json for the list)`);
  }
  if (plan.flagged.count > 0) {
    const decided = !plan.needs.includes('confirm-flagged-emails');
    lines.push(
      `Flagged emails: ${plan.flagged.count}${decided ? '' : ' (choose with --flagged import or --flagged skip)'}`,
    );
    for (const f of plan.flagged.rows.slice(0, 20))
      lines.push(`  ${f.where ?? `row ${f.row}`}: ${f.email} - ${describeEmailFlag(f.email, f)}`);
    if (plan.flagged.count > 20)
      lines.push(`  … and ${plan.flagged.count - 20} more (use --json for the list)`);
  }
  if (plan.deletions.count > 0)
    lines.push(
      `Deletes: ${plan.deletions.sample.join(', ')}${plan.deletions.count > plan.deletions.sample.length ? ', …' : ''}`,
    );
  if (plan.alreadyImported) {
    lines.push(
      `Note: this exact file was already imported as ${plan.alreadyImported.importId} on ${plan.alreadyImported.createdAt.toISOString()}.`,
    );
  }
  return lines.join('\n');
}

export function importText(record: ImportRecord): string {
  const o = record.outcomes;
  return [
    `Import ${record._id} ${record.status}: ${record.file.name}`,
    `  created ${o.created}, updated ${o.updated}, activated ${o.activated}, deleted ${o.deleted}, unchanged ${o.unchanged}, ignored ${o.ignored}, failed ${o.failed}`,
    `  ${plural(record.invitations, 'invitation')} and ${plural(record.activationNotices, 'activation notice')} queued`,
  ].join('\n');
}

/** One stored administrator as the CLI prints it with --json. */
export function adminJson(admin: AccountAdmin) {
  return { principal: admin.principal, addedAt: admin.addedAt, addedBy: admin.addedBy };
}

/** One stored administrator as a tab-separated line: principal, when added, by whom. */
export function adminText(admin: AccountAdmin): string {
  return `${admin.principal}\t${admin.addedAt.toISOString()}\t${admin.addedBy}`;
}

/** One stored tenant link as the CLI prints it with --json. */
export function tenantJson(link: TenantLink) {
  return {
    tenantId: link.tenantId,
    accountId: link.accountId,
    linkedAt: link.linkedAt,
    linkedBy: link.linkedBy,
  };
}

/** One stored tenant link as a tab-separated line: tenant, account, when linked, by whom. */
export function tenantText(link: TenantLink): string {
  return `${link.tenantId}\t${link.accountId}\t${link.linkedAt.toISOString()}\t${link.linkedBy}`;
}

/** One account's allowed email domains as the CLI prints them with --json. */
export function allowedDomainsJson(entry: AllowedDomains) {
  return {
    accountId: entry.accountId,
    allowedDomains: entry.domains,
    updatedAt: entry.updatedAt,
    updatedBy: entry.updatedBy,
  };
}

/** One account's allowed email domains as a tab-separated line: account, domains, when set, by whom. */
export function allowedDomainsText(entry: AllowedDomains): string {
  return `${entry.accountId}\t${entry.domains.join(',')}\t${entry.updatedAt.toISOString()}\t${entry.updatedBy}`;
}

const roundScore = (score: number) => Math.round(score * 1000) / 1000;

/** What `understand --json` prints: the intent, its score and the entities (the contract acceptance checks use). */
export function recognitionJson(recognition: Recognition) {
  return { intent: recognition.intent, score: roundScore(recognition.score), entities: recognition.entities };
}

/**
 * One line: the intent and score, then the entities; a second line when the assistant would ask rather than
 * answer, with the intents it would suggest.
 */
export function recognitionText(recognition: Recognition): string {
  const entities = Object.entries(recognition.entities).map(([name, value]) => `${name}=${value}`);
  const line = [`${recognition.intent} (${roundScore(recognition.score)})`, ...entities].join('  ');
  const decision = decide(recognition);
  if (decision.action === 'answer') return line;
  const offered = decision.candidates.map((c) => `${c.intent} (${roundScore(c.score)})`).join(', ');
  return `${line}\nwould ask (${decision.reason}), suggesting: ${offered}`;
}
