import { promises as fs } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { loadConfig, loadNluEngine } from '../services/config';
import { openEnrollmentServices, type EnrollmentServices } from '../services/enrollmentServices';
import { AppError, isAppError } from '../services/errors';
import { writeFixCsv } from '../services/history/fixFile';
import { writeCsvReport, writeJsonReport } from '../services/history/rowReport';
import { fileSourceFromPath } from '../services/import/fileSource';
import {
  parseDefaultStatus,
  parseFlaggedChoice,
  parseMappingAssignment,
  parseSheetName,
  type ImportOptions,
} from '../services/import/importOptions';
import { describeEmailFlag } from '../services/import/emailDomainCheck';
import type { ImportPlan } from '../services/import/importPlan';
import { createLogger } from '../services/logger';
import { createRecognizer } from '../services/understanding/createRecognizer';
import {
  adminJson,
  adminText,
  allowedDomainsJson,
  allowedDomainsText,
  importJson,
  importText,
  planJson,
  planText,
  recognitionJson,
  recognitionText,
  tenantJson,
  tenantText,
  userJson,
} from './cliOutput';
import { undoPlanJson, undoPlanText, undoResultJson, undoResultText } from './undoOutput';

/** Where one run of the command line reads its settings from and writes its output to. */
export interface EnrollCliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

export const USAGE = `Usage: npm run -s enroll -- <command> [options]

Commands:
  import <file> --account <id> [--as <admin>] [--dry-run] [--default-status New|Update|Delete|Activate]
                [--map field=Header ...] [--create-missing] [--flagged import|skip] [--reflow]
                [--sheet <name>] [--json]
  history --account <id> [--limit N] [--json]
  show <importId> [--json]
  report <importId> --format csv|json [--out <file>]
  report <importId> --fix [--out <file>]
  users --account <id> [--include-deleted] [--json]
  admins add <principal> --account <id> [--as <admin>] [--json]
  admins remove <principal> --account <id> [--json]
  admins list --account <id> [--json]
  tenants link <tenantId> --account <id> [--as <admin>] [--json]
  tenants unlink <tenantId> [--json]
  tenants list [--account <id>] [--json]
  domains set <account> <domain,domain,...> [--as <admin>] [--json]
  domains clear <account> [--json]
  domains list [--account <id>] [--json]
  undo <importId or #number> --account <id> [--as <admin>] [--yes] [--json]
  understand "<message>" [--now <ISO date>] [--json]

undo shows what undoing the import would do; with --yes it does it.
A <principal> is a Microsoft Teams user's Entra object id, a channel user id or an email.`;

const COMMANDS = [
  'import',
  'history',
  'show',
  'report',
  'users',
  'admins',
  'tenants',
  'domains',
  'undo',
  'understand',
] as const;
type Command = (typeof COMMANDS)[number];
/** The commands that work on the database (all but `understand`, which needs nothing but its message). */
type ServiceCommand = Exclude<Command, 'understand'>;

/** The second word of the commands that have one, checked with the command before connecting. */
const SUBCOMMANDS: Partial<Record<Command, readonly string[]>> = {
  admins: ['add', 'remove', 'list'],
  tenants: ['link', 'unlink', 'list'],
  domains: ['set', 'clear', 'list'],
};

const OPTIONS = {
  account: { type: 'string' },
  as: { type: 'string' },
  'dry-run': { type: 'boolean' },
  'default-status': { type: 'string' },
  map: { type: 'string', multiple: true },
  'create-missing': { type: 'boolean' },
  flagged: { type: 'string' },
  reflow: { type: 'boolean' },
  sheet: { type: 'string' },
  json: { type: 'boolean' },
  format: { type: 'string' },
  fix: { type: 'boolean' },
  out: { type: 'string' },
  limit: { type: 'string' },
  'include-deleted': { type: 'boolean' },
  now: { type: 'string' },
  yes: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** One run's parsed arguments and the streams it writes to. */
interface Run {
  io: EnrollCliIo;
  values: Values;
  /** The first word after the command. */
  target: string | undefined;
  /** Every word after the command. */
  args: string[];
}

function usage(message: string): AppError {
  return new AppError('usage', `${message}\n\n${USAGE}`);
}

function isCommand(command: string): command is Command {
  return (COMMANDS as readonly string[]).includes(command);
}

function requireAccount(values: Values): string {
  const account = values.account?.trim();
  if (!account) throw usage('--account <id> is required.');
  return account;
}

/** Who is making a change, for the record: --as, else the user running the command. */
function actor(run: Run): string {
  return run.values.as?.trim() || run.io.env.USER || 'cli';
}

/** Checks a command's second word before anything else happens, so a typo never reaches the database. */
function checkSubcommand(command: Command, sub: string | undefined): void {
  const known = SUBCOMMANDS[command];
  if (!known) return;
  if (sub === undefined) throw usage(`${command} needs one of: ${known.join(', ')}.`);
  if (!known.includes(sub)) throw usage(`Unknown ${command} command "${sub}". Use ${known.join(', ')}.`);
}

/**
 * The one value `<command> <sub> <value>` takes, or a usage error naming what is missing or extra (a name
 * with a space, typed unquoted, arrives as several words).
 */
function oneValue(run: Run, command: string, what: string): string {
  const [, value, ...extra] = run.args;
  if (!value?.trim()) throw usage(`${command} needs ${what}.`);
  if (extra.length > 0)
    throw usage(`${command} takes one value; also got ${extra.map((word) => `"${word}"`).join(', ')}.`);
  return value;
}

function print(run: Run, json: unknown, text: string): void {
  run.io.stdout.write(run.values.json ? JSON.stringify(json, null, 2) + '\n' : text + '\n');
}

async function runImport(services: EnrollmentServices, run: Run): Promise<void> {
  const { values, target: file } = run;
  if (!file) throw usage('import needs a file.');
  const accountId = requireAccount(values);
  const options: ImportOptions = {};
  if (values['default-status'] !== undefined)
    options.defaultAction = parseDefaultStatus(values['default-status']);
  if (values.map) options.mapping = Object.assign({}, ...values.map.map(parseMappingAssignment));
  if (values['create-missing']) options.createMissingOnUpdate = true;
  if (values.flagged !== undefined) options.flaggedEmails = parseFlaggedChoice(values.flagged);
  if (values.reflow) options.reflow = true;
  if (values.sheet !== undefined) options.sheet = parseSheetName(values.sheet);
  const source = await fileSourceFromPath(file);
  const plan = await services.imports.plan(source, accountId, options);
  if (values['dry-run']) {
    print(run, planJson(plan), planText(plan));
    return;
  }
  if (plan.needs.includes('confirm-reflow')) throw reflowUndecided(plan);
  if (plan.needs.includes('confirm-flagged-emails')) throw flaggedUndecided(plan);
  const record = await services.imports.commit(source, accountId, options, {
    by: actor(run),
  });
  // Deliver what this import queued now, so a one-off CLI run does not leave invitations waiting for a bot.
  const delivery = await services.outbox.runOnce();
  print(
    run,
    { ...planJson(plan), ...importJson(record), delivery },
    `${planText(plan)}\n\n${importText(record)}\n  delivered now: ${delivery.sent} sent, ${delivery.failed} failed, ${delivery.retrying} to retry (${services.mail.description})`,
  );
}

/** Why a file whose rows run together is not imported without --reflow, with the rows it would make. */
function reflowUndecided(plan: ImportPlan): AppError {
  const reflow = plan.reflow;
  const rows = reflow?.rows ?? 0;
  const first = (reflow?.sample ?? []).map((values) => values.join(' | ')).join('; ');
  return new AppError(
    'decision-needed',
    `The rows of ${plan.file.name} are run together on one line. Re-flowed into rows of ${reflow?.columns ?? 0} ` +
      `values they make ${rows} ${rows === 1 ? 'row' : 'rows'}, the first: ${first}. If that is right, add ` +
      '--reflow to import them (--dry-run shows the plan). Nothing was imported.',
    { needs: 'confirm-reflow', rows },
  );
}

/** Why an import with flagged emails and no --flagged is refused, naming them (the first few). */
function flaggedUndecided(plan: ImportPlan): AppError {
  const { count, rows } = plan.flagged;
  const named = rows
    .slice(0, 5)
    .map((f) => `${f.where ?? `row ${f.row}`} ${f.email} (${describeEmailFlag(f.email, f)})`)
    .join(', ');
  const more = count > 5 ? `, and ${count - 5} more` : '';
  return new AppError(
    'decision-needed',
    `${count === 1 ? '1 email is' : `${count} emails are`} flagged: ${named}${more}. Add --flagged import to ` +
      'import them as they are, or --flagged skip to leave those rows out (--dry-run lists them all). ' +
      'Nothing was imported.',
    { flagged: count },
  );
}

/** Without --yes what undoing the import would do (nothing is changed); with --yes, the undo. */
async function runUndo(services: EnrollmentServices, run: Run): Promise<void> {
  const { values, args } = run;
  const [ref, ...extra] = args;
  if (!ref?.trim()) throw usage('undo needs an import id or number, such as: undo #12 --account <id>');
  if (extra.length > 0)
    throw usage(`undo takes one import; also got ${extra.map((word) => `"${word}"`).join(', ')}.`);
  const accountId = requireAccount(values);
  if (!values.yes) {
    const plan = await services.imports.undo.plan(accountId, ref);
    print(
      run,
      undoPlanJson(plan),
      undoPlanText(plan, `npm run -s enroll -- undo ${ref} --account ${accountId}`),
    );
    return;
  }
  const result = await services.imports.undo.apply(accountId, ref, actor(run));
  // Messages an undone undo queued again go out now, as after an import.
  if (result.record.invitations + result.record.activationNotices > 0) await services.outbox.runOnce();
  print(run, undoResultJson(result), undoResultText(result));
}

async function runHistory(services: EnrollmentServices, run: Run): Promise<void> {
  const { values } = run;
  const limit = values.limit ? Number(values.limit) : 50;
  if (!Number.isInteger(limit) || limit < 1) throw usage('--limit must be a positive whole number.');
  const imports = await services.imports.history.list(requireAccount(values), limit);
  print(
    run,
    { imports: imports.map(importJson) },
    imports.length === 0 ? 'No imports yet.' : imports.map(importText).join('\n'),
  );
}

async function runShow(services: EnrollmentServices, run: Run): Promise<void> {
  if (!run.target) throw usage('show needs an import id.');
  const record = await services.imports.history.get(run.target);
  print(
    run,
    {
      ...importJson(record),
      file: record.file,
      columns: record.columns,
      ignoredColumns: record.ignoredColumns,
      options: record.options,
      problemCounts: record.problemCounts,
      error: record.error ?? null,
    },
    importText(record),
  );
}

async function runReport(services: EnrollmentServices, run: Run): Promise<void> {
  const { target, values } = run;
  if (!target) throw usage('report needs an import id.');
  if (values.fix && values.format !== undefined) throw usage('report takes --fix or --format, not both.');
  const { history } = services.imports;
  const record = await history.get(target);
  // The report writers only write and wait for 'drain', which every writable stream supports.
  let writer: ((out: Writable) => Promise<number>) | undefined;
  if (values.fix) writer = (out) => writeFixCsv(history, record, out);
  else if (values.format === 'csv') writer = (out) => writeCsvReport(history.rowResults(target), out);
  else if (values.format === 'json')
    writer = (out) => writeJsonReport(target, history.rowResults(target), out);
  if (!writer)
    throw usage(
      'report needs --format csv or --format json. Use --fix for the rows not imported, to correct.',
    );
  if (values.out === undefined) {
    await writer(run.io.stdout as Writable);
    return;
  }
  const rows = await writeToFile(values.out, writer);
  print(
    run,
    { importId: target, out: values.out, rows },
    `Wrote ${rows} ${rows === 1 ? 'row' : 'rows'}${values.fix ? ' not imported' : ''} to ${values.out}.`,
  );
}

/** Runs `writer` into a new file (replacing one that exists) and waits until it is all on disk. */
async function writeToFile(file: string, writer: (out: Writable) => Promise<number>): Promise<number> {
  const handle = await fs.open(file, 'w').catch((err: NodeJS.ErrnoException) => {
    throw new AppError('option-invalid', `--out: cannot write "${file}" (${err.code ?? err.message}).`);
  });
  const out = handle.createWriteStream();
  out.on('error', () => undefined); // a write error destroys the stream; `finished` below reports it
  try {
    const rows = await writer(out);
    out.end();
    await finished(out);
    return rows;
  } catch (err) {
    out.destroy();
    throw err;
  }
}

async function runUsers(services: EnrollmentServices, run: Run): Promise<void> {
  const users = await services.imports.directory
    .list(requireAccount(run.values), { includeDeleted: run.values['include-deleted'] ?? false })
    .toArray();
  print(
    run,
    { users: users.map(userJson) },
    users.map((u) => `${u.email}\t${u.status}\t${u.invitation?.state ?? '-'}`).join('\n') || 'No users.',
  );
}

async function runAdmins(services: EnrollmentServices, run: Run): Promise<void> {
  const { accounts } = services;
  const sub = run.args[0];
  if (sub === 'list') {
    if (run.args.length > 1) throw usage('admins list takes no other words; use --account <id>.');
    const accountId = requireAccount(run.values);
    const admins = await accounts.listAdmins(accountId);
    print(
      run,
      { accountId, admins: admins.map(adminJson) },
      admins.map(adminText).join('\n') ||
        `No stored administrators for ${accountId} (those in the ADMINS setting are not listed here).`,
    );
    return;
  }
  const given = oneValue(run, `admins ${sub}`, 'an administrator (an Entra object id, user id or email)');
  const accountId = requireAccount(run.values);
  const principal = given.trim().toLowerCase();
  if (sub === 'add') {
    const added = await accounts.addAdmin(accountId, given, actor(run));
    print(
      run,
      { accountId, principal, added },
      added
        ? `Added ${principal} as an administrator of ${accountId}.`
        : `${principal} is already an administrator of ${accountId}; nothing changed.`,
    );
    return;
  }
  const removed = await accounts.removeAdmin(accountId, given);
  print(
    run,
    { accountId, principal, removed },
    removed
      ? `Removed ${principal} from the administrators of ${accountId}.`
      : `${principal} is not a stored administrator of ${accountId}; nothing changed.`,
  );
}

async function runTenants(services: EnrollmentServices, run: Run): Promise<void> {
  const { accounts } = services;
  const sub = run.args[0];
  if (sub === 'list') {
    if (run.args.length > 1) throw usage('tenants list takes no other words; use --account <id> to filter.');
    if (run.values.account !== undefined && !run.values.account.trim())
      throw usage('--account <id> must not be blank.');
    const tenants = await accounts.listTenants(run.values.account?.trim());
    print(
      run,
      { tenants: tenants.map(tenantJson) },
      tenants.map(tenantText).join('\n') || 'No linked tenants.',
    );
    return;
  }
  const given = oneValue(run, `tenants ${sub}`, 'a tenant id');
  const tenantId = given.trim().toLowerCase();
  if (sub === 'link') {
    const accountId = requireAccount(run.values);
    // Read first only to say what the link replaces; linking itself needs no read.
    const previous = await accounts.accountForTenant(tenantId);
    await accounts.linkTenant(tenantId, accountId, actor(run));
    print(
      run,
      { tenantId, accountId, previousAccountId: previous },
      `Linked tenant ${tenantId} to account ${accountId}` +
        (previous && previous !== accountId ? ` (it was linked to ${previous}).` : '.'),
    );
    return;
  }
  if (run.values.account !== undefined) throw usage('tenants unlink takes no --account: a tenant has one.');
  const previous = await accounts.accountForTenant(tenantId);
  const unlinked = await accounts.unlinkTenant(tenantId);
  print(
    run,
    { tenantId, unlinked, previousAccountId: unlinked ? previous : null },
    unlinked
      ? `Unlinked tenant ${tenantId} from account ${previous ?? '?'}.`
      : `Tenant ${tenantId} is not linked; nothing changed.`,
  );
}

/**
 * `domains set <account> <d1,d2,…>`, `domains clear <account>`, `domains list [--account <id>]`: the email
 * domains an account's imports accept without flagging. The domains may also be given as several words.
 */
async function runDomains(services: EnrollmentServices, run: Run): Promise<void> {
  const { accounts } = services;
  const sub = run.args[0];
  if (sub === 'list') {
    if (run.args.length > 1) throw usage('domains list takes no other words; use --account <id> to filter.');
    const account = run.values.account?.trim();
    if (run.values.account !== undefined && !account) throw usage('--account <id> must not be blank.');
    const lists = await accounts.listAllowedDomains(account);
    print(
      run,
      { accounts: lists.map(allowedDomainsJson) },
      lists.map(allowedDomainsText).join('\n') ||
        (account ? `${account} allows any email domain.` : 'No account limits its email domains.'),
    );
    return;
  }
  if (run.values.account !== undefined)
    throw usage(`domains ${sub} takes the account as its first word: domains ${sub} <account> …`);
  const [, given, ...rest] = run.args;
  const accountId = given?.trim();
  if (!accountId) throw usage(`domains ${sub} needs an account id.`);
  if (sub === 'set') {
    const domains = rest
      .join(',')
      .split(/[\s,;]+/)
      .filter((d) => d !== '');
    if (domains.length === 0)
      throw usage(
        'domains set needs the domains, comma-separated: domains set <account> acme.com,acme.co.uk',
      );
    const previous = await accounts.allowedDomains(accountId);
    const stored = await accounts.setAllowedDomains(accountId, domains, actor(run));
    print(
      run,
      { accountId, allowedDomains: stored, previous },
      `Imports into ${accountId} now flag emails outside ${stored.join(', ')} (subdomains included).`,
    );
    return;
  }
  if (rest.length > 0)
    throw usage(`domains clear takes one account; also got ${rest.map((w) => `"${w}"`).join(', ')}.`);
  const previous = await accounts.allowedDomains(accountId);
  const cleared = await accounts.clearAllowedDomains(accountId);
  print(
    run,
    { accountId, cleared, previous },
    cleared
      ? `${accountId} allows any email domain again (it allowed ${previous.join(', ')}).`
      : `${accountId} has no allowed domains set; nothing changed.`,
  );
}

/** What the assistant understands of a message; needs no database, so it opens none. */
async function runUnderstand(run: Run): Promise<void> {
  const message = run.args.join(' ').trim();
  if (!message) throw usage('understand needs a message, such as: understand "how did the last import go"');
  let now = new Date();
  if (run.values.now !== undefined) {
    now = new Date(run.values.now);
    if (!/^\d{4}-\d{2}-\d{2}/.test(run.values.now) || Number.isNaN(now.getTime()))
      throw usage('--now must be an ISO date such as 2026-11-25 or 2026-11-25T10:00:00Z.');
  }
  const recognizer = await createRecognizer({ nluEngine: loadNluEngine(run.io.env) });
  const recognition = await recognizer.recognize(message, now);
  print(run, recognitionJson(recognition), recognitionText(recognition));
}

const HANDLERS: Record<ServiceCommand, (services: EnrollmentServices, run: Run) => Promise<void>> = {
  import: runImport,
  history: runHistory,
  show: runShow,
  report: runReport,
  users: runUsers,
  admins: runAdmins,
  tenants: runTenants,
  domains: runDomains,
  undo: runUndo,
};

async function main(argv: string[], io: EnrollCliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: OPTIONS,
    allowPositionals: true,
    strict: true,
  });
  const [command, ...args] = positionals;
  if (values.help || !command) {
    io.stdout.write(USAGE + '\n');
    return command || values.help ? 0 : 2;
  }
  // Checked before connecting, so a typo does not wait for (or fail on) the database.
  if (!isCommand(command)) throw usage(`Unknown command "${command}".`);
  checkSubcommand(command, args[0]);
  if (command === 'understand') {
    await runUnderstand({ io, values, target: args[0], args });
    return 0;
  }
  const config = loadConfig(io.env);
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, (line) => {
    io.stderr.write(line + '\n');
  });
  const services = await openEnrollmentServices(config, log);
  try {
    await HANDLERS[command](services, { io, values, target: args[0], args });
    return 0;
  } finally {
    await services.close();
  }
}

/** Errors of node:util parseArgs (unknown option, missing option value…) are usage errors. */
function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

function reportError(err: unknown, json: boolean, io: EnrollCliIo): number {
  const code = isAppError(err) ? err.code : isParseArgsError(err) ? 'usage' : 'internal';
  const message = err instanceof Error ? err.message : String(err);
  if (json) io.stdout.write(JSON.stringify({ error: { code, message } }, null, 2) + '\n');
  else io.stderr.write(`Error (${code}): ${message}\n`);
  return code === 'usage' ? 2 : 1;
}

/**
 * Runs the `enroll` command line: `argv` are the arguments after the script name. Output goes to
 * `io.stdout` (JSON with --json, text otherwise), logs and text-mode errors to `io.stderr`, and settings come
 * from `io.env`. Resolves to the exit code: 0 on success, 2 for a usage error, 1 for any other error. Never
 * rejects and never exits the process.
 */
export async function runEnrollCli(argv: string[], io: EnrollCliIo): Promise<number> {
  try {
    return await main(argv, io);
  } catch (err) {
    return reportError(err, argv.includes('--json'), io);
  }
}
