import { parseArgs } from 'node:util';
import { loadConfig } from '../services/config';
import { openEnrollmentServices, type EnrollmentServices } from '../services/enrollmentServices';
import { AppError, isAppError } from '../services/errors';
import { writeCsvReport, writeJsonReport } from '../services/history/rowReport';
import { fileSourceFromPath } from '../services/import/fileSource';
import {
  parseDefaultStatus,
  parseMappingAssignment,
  type ImportOptions,
} from '../services/import/importOptions';
import { createLogger } from '../services/logger';
import { importJson, importText, planJson, planText, userJson } from './cliOutput';

const USAGE = `Usage: npm run -s enroll -- <command> [options]

Commands:
  import <file> --account <id> [--as <admin>] [--dry-run] [--default-status New|Update|Delete|Activate]
                [--map field=Header ...] [--create-missing] [--json]
  history --account <id> [--limit N] [--json]
  show <importId> [--json]
  report <importId> --format csv|json
  users --account <id> [--include-deleted] [--json]`;

const OPTIONS = {
  account: { type: 'string' },
  as: { type: 'string' },
  'dry-run': { type: 'boolean' },
  'default-status': { type: 'string' },
  map: { type: 'string', multiple: true },
  'create-missing': { type: 'boolean' },
  json: { type: 'boolean' },
  format: { type: 'string' },
  limit: { type: 'string' },
  'include-deleted': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function usage(message: string): AppError {
  return new AppError('usage', `${message}\n\n${USAGE}`);
}

function requireAccount(values: Values): string {
  const account = values.account?.trim();
  if (!account) throw usage('--account <id> is required.');
  return account;
}

function print(values: Values, json: unknown, text: string): void {
  process.stdout.write(values.json ? JSON.stringify(json, null, 2) + '\n' : text + '\n');
}

async function runImport(
  services: EnrollmentServices,
  file: string | undefined,
  values: Values,
): Promise<void> {
  if (!file) throw usage('import needs a file.');
  const accountId = requireAccount(values);
  const options: ImportOptions = {};
  if (values['default-status']) options.defaultAction = parseDefaultStatus(values['default-status']);
  if (values.map) options.mapping = Object.assign({}, ...values.map.map(parseMappingAssignment));
  if (values['create-missing']) options.createMissingOnUpdate = true;
  const source = await fileSourceFromPath(file);
  const plan = await services.imports.plan(source, accountId, options);
  if (values['dry-run']) {
    print(values, planJson(plan), planText(plan));
    return;
  }
  const record = await services.imports.commit(source, accountId, options, {
    by: values.as?.trim() || process.env.USER || 'cli',
  });
  // Deliver what this import queued now, so a one-off CLI run does not leave invitations waiting for a bot.
  const delivery = await services.outbox.runOnce();
  print(
    values,
    { ...planJson(plan), ...importJson(record), delivery },
    `${planText(plan)}\n\n${importText(record)}\n  delivered now: ${delivery.sent} sent, ${delivery.failed} failed, ${delivery.retrying} to retry (${services.mail.description})`,
  );
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: OPTIONS,
    allowPositionals: true,
    strict: true,
  });
  const [command, target] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE + '\n');
    return command || values.help ? 0 : 2;
  }
  const config = loadConfig();
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const services = await openEnrollmentServices(config, log);
  try {
    switch (command) {
      case 'import':
        await runImport(services, target, values);
        break;
      case 'history': {
        const limit = values.limit ? Number(values.limit) : 50;
        if (!Number.isInteger(limit) || limit < 1) throw usage('--limit must be a positive whole number.');
        const imports = await services.imports.history.list(requireAccount(values), limit);
        print(
          values,
          { imports: imports.map(importJson) },
          imports.length === 0 ? 'No imports yet.' : imports.map(importText).join('\n'),
        );
        break;
      }
      case 'show': {
        if (!target) throw usage('show needs an import id.');
        const record = await services.imports.history.get(target);
        print(
          values,
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
        break;
      }
      case 'report': {
        if (!target) throw usage('report needs an import id.');
        await services.imports.history.get(target);
        const rows = services.imports.history.rowResults(target);
        if (values.format === 'csv') await writeCsvReport(rows, process.stdout);
        else if (values.format === 'json') await writeJsonReport(target, rows, process.stdout);
        else throw usage('report needs --format csv or --format json.');
        break;
      }
      case 'users': {
        const users = await services.imports.directory
          .list(requireAccount(values), { includeDeleted: values['include-deleted'] ?? false })
          .toArray();
        print(
          values,
          { users: users.map(userJson) },
          users.map((u) => `${u.email}\t${u.status}\t${u.invitation?.state ?? '-'}`).join('\n') ||
            'No users.',
        );
        break;
      }
      default:
        throw usage(`Unknown command "${command}".`);
    }
    return 0;
  } finally {
    await services.close();
  }
}

function reportError(err: unknown, json: boolean): number {
  const known = isAppError(err);
  const code = known
    ? err.code
    : (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
      ? 'usage'
      : 'internal';
  const message = err instanceof Error ? err.message : String(err);
  if (json) process.stdout.write(JSON.stringify({ error: { code, message } }, null, 2) + '\n');
  else process.stderr.write(`Error (${code}): ${message}\n`);
  return code === 'usage' ? 2 : 1;
}

const argv = process.argv.slice(2);
main(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.exitCode = reportError(err, argv.includes('--json'));
  },
);
