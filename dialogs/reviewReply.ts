import { z } from 'zod';
import {
  FIELD_LABELS,
  IMPORT_FIELDS,
  normalizeHeader,
  resolveField,
  type ImportField,
} from '../services/import/columns';
import type { ImportOptions } from '../services/import/importOptions';
import { actionLabel, parseAction, REQUESTED_ACTIONS } from '../services/import/rowRules';

/** What the admin can be answering about: the file's headers and the plan on screen. */
export interface ReviewContext {
  /** Every header of the file, in file order. */
  headers: string[];
  /** Field → header as the plan on screen maps it. */
  columns: Partial<Record<ImportField, string>>;
  /** The id of the plan card on screen; a click on an older card carries another one. */
  planId: string;
  options: ImportOptions;
  /** How many emails the plan on screen flags (absent in state saved before flagging existed: none). */
  flagged?: number;
  /** The plan on screen re-flows rows run together on one line (absent: it does not). */
  runTogether?: boolean;
  /** For a workbook: the worksheet the plan on screen read, and all of its worksheets. */
  sheet?: string;
  sheets?: string[];
  /** There is no plan on screen: the sheet read holds no user list, and only another sheet can be chosen. */
  noPlan?: boolean;
}

/** A reply to the plan, typed or clicked, reduced to what it asks for. */
export type ReviewReply =
  /** Go ahead; with `options` when the answer also made the one choice that changes nothing on screen (the re-flow). */
  | { kind: 'confirm'; options?: ImportOptions }
  | { kind: 'cancel' }
  | { kind: 'help' }
  /** New choices: the plan is recomputed with them and shown again. */
  | { kind: 'change'; options: ImportOptions; said: string }
  | { kind: 'stale' }
  /** A reply we understood the shape of but cannot apply, with a message saying exactly why. */
  | { kind: 'invalid'; message: string }
  | { kind: 'unknown' };

/** What a deletion confirmation answer means. */
export type DeletionReply = 'confirm' | 'cancel' | 'help' | 'unsure' | 'unknown';

const NONE = '__none__';
const CONFIRM_WORDS = new Set([
  'yes',
  'y',
  'yep',
  'yeah',
  'yes please',
  'ok',
  'okay',
  'sure',
  'confirm',
  'confirmed',
  'import',
  'import it',
  'import them',
  'import now',
  'go',
  'go ahead',
  'do it',
  'proceed',
  'start',
  'looks good',
  'lgtm',
  'import again',
]);
const CANCEL_WORDS = new Set([
  'cancel',
  'no',
  'n',
  'nope',
  'stop',
  'abort',
  'quit',
  'exit',
  'never mind',
  'nevermind',
  'forget it',
  'cancel import',
  'cancel the import',
  'dont import',
]);
const HELP_WORDS = new Set(['help', '?', 'what can i say', 'what can i do', 'options', 'how']);

/** Lower case, no surrounding punctuation, single spaces, apostrophes dropped ("don't" → "dont"). */
export function normalizeUtterance(text: string): string {
  return text
    .toLowerCase()
    .replace(/[’']/g, '')
    .replace(/[.!?,;:]+$/g, '')
    .replace(/^[.!?,;:]+/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

export const isCancel = (text: string) => CANCEL_WORDS.has(normalizeUtterance(text));
export const isHelp = (text: string) => text.trim() === '?' || HELP_WORDS.has(normalizeUtterance(text));
export const isConfirm = (text: string) => CONFIRM_WORDS.has(normalizeUtterance(text));

/** The values an Adaptive Card submit sends; field choice sets are `map.<field>`. */
const cardSubmitSchema = z
  .object({
    action: z.enum(['confirm', 'apply', 'cancel', 'help']),
    planId: z.string().max(64).optional(),
    defaultStatus: z.string().max(20).optional(),
    createMissing: z.enum(['true', 'false', '']).optional(),
    flaggedEmails: z.enum(['import', 'skip', '']).optional(),
    reflow: z.enum(['true', 'false', '']).optional(),
  })
  .catchall(z.unknown());

/** The card submit a card's buttons send, checked; null when the activity's value is not one. */
export function parseCardSubmit(value: unknown): z.infer<typeof cardSubmitSchema> | null {
  const parsed = cardSubmitSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/** Longest reply we try to understand; longer text is not an answer to a plan. */
const MAX_REPLY_CHARS = 300;

/** The rest of `t` after the first of `prefixes` it starts with (as whole words), else undefined. */
function afterPrefix(t: string, prefixes: readonly string[]): string | undefined {
  for (const p of prefixes) {
    if (t === p) return '';
    const next = t.charAt(p.length);
    if (t.startsWith(p) && (next === ' ' || next === ':' || next === '='))
      return t.slice(p.length + 1).trim();
  }
  return undefined;
}

/** `t` without the first of `suffixes` it ends with (as a whole word, any case). */
function withoutSuffix(t: string, suffixes: readonly string[]): string {
  const lower = t.toLowerCase();
  for (const s of suffixes) if (lower.endsWith(` ${s}`)) return t.slice(0, -(s.length + 1)).trim();
  return t;
}

/** `t` without the first of `prefixes` it starts with (as a whole word, any case). */
function withoutPrefix(t: string, prefixes: readonly string[]): string {
  const lower = t.toLowerCase();
  for (const p of prefixes) if (lower.startsWith(`${p} `)) return t.slice(p.length + 1).trim();
  return t;
}

const unquote = (value: string) =>
  value
    .replace(/^["“”']+/, '')
    .replace(/["“”']+$/, '')
    .trim();
const isWord = (value: string) => /^[a-z]+$/.test(value);

function findHeader(headers: string[], text: string): string | undefined {
  const exact = headers.find((h) => h.trim().toLowerCase() === text.trim().toLowerCase());
  if (exact !== undefined) return exact;
  const key = normalizeHeader(text);
  return key === '' ? undefined : headers.find((h) => normalizeHeader(h) === key);
}

const quoteList = (items: string[]) => items.map((h) => `"${h}"`).join(', ');

/**
 * "map Business Phone to work phone" (column to field), also accepted the other way round and as
 * `workPhone=Business Phone`.
 */
function parseMapping(text: string, ctx: ReviewContext): ReviewReply | null {
  const stripped = text
    .trim()
    .replace(/[.!]+$/, '')
    .replace(/\s+/g, ' ');
  const lower = stripped.toLowerCase();
  const rest = afterPrefix(lower, ['map', 'use', 'put', 'match', 'assign']);
  let sentence: [string, string, string] | null = null;
  if (rest !== undefined) {
    // Keep the admin's spelling of the column: cut the original text where the lower-case copy says.
    const original = stripped.slice(stripped.length - rest.length);
    const cut = [' to ', ' as ', ' for ', ' into ', ' -> ', ' => ', ' → ']
      .map((sep) => ({ sep, at: rest.indexOf(sep) }))
      .filter((c) => c.at > 0)
      .sort((a, b) => a.at - b.at)[0];
    if (cut) {
      const left = unquote(withoutPrefix(original.slice(0, cut.at), ['column']));
      const right = unquote(
        withoutSuffix(withoutPrefix(original.slice(cut.at + cut.sep.length), ['the']), ['field', 'column']),
      );
      sentence = ['', left, right];
    }
  }
  const assignment = /^([A-Za-z][A-Za-z ]*?)\s*=\s*(.*)$/.exec(stripped);
  let field: ImportField | undefined;
  let header: string | undefined;
  if (sentence) {
    const [, left = '', right = ''] = sentence;
    const rightField = resolveField(right);
    const leftHeader = findHeader(ctx.headers, left);
    if (rightField && leftHeader !== undefined) {
      field = rightField;
      header = leftHeader;
    } else {
      // "map work phone to Business Phone": field first.
      const leftField = resolveField(left);
      const rightHeader = findHeader(ctx.headers, right);
      if (leftField && rightHeader !== undefined) {
        field = leftField;
        header = rightHeader;
      } else if (leftHeader !== undefined || (!rightField && !leftField)) {
        return {
          kind: 'invalid',
          message:
            `I could not tell which field "${leftHeader !== undefined ? right : left}" is. Fields: ` +
            `${IMPORT_FIELDS.map((f) => FIELD_LABELS[f]).join(', ')}. For example: "map Business Phone to Work Phone".`,
        };
      } else {
        const missing = rightField ? left : right;
        return {
          kind: 'invalid',
          message: `This file has no column "${missing}". Its columns are ${quoteList(ctx.headers)}.`,
        };
      }
    }
  } else if (assignment && resolveField(assignment[1] ?? '')) {
    field = resolveField(assignment[1] ?? '');
    const value = (assignment[2] ?? '').trim();
    if (value === '') header = undefined;
    else {
      header = findHeader(ctx.headers, value);
      if (header === undefined)
        return {
          kind: 'invalid',
          message: `This file has no column "${value}". Its columns are ${quoteList(ctx.headers)}.`,
        };
    }
    if (field && header === undefined) return unmap(field, ctx, text);
  } else {
    return null;
  }
  if (!field || header === undefined) return null;
  return {
    kind: 'change',
    options: { ...ctx.options, mapping: { ...ctx.options.mapping, [field]: header } },
    said: `${FIELD_LABELS[field]} now comes from "${header}".`,
  };
}

function unmap(field: ImportField, ctx: ReviewContext, text: string): ReviewReply {
  if (field === 'email')
    return {
      kind: 'invalid',
      message: `The ${FIELD_LABELS.email} column cannot be left out; choose which column holds it instead ("${text}" was not applied).`,
    };
  return {
    kind: 'change',
    options: { ...ctx.options, mapping: { ...ctx.options.mapping, [field]: null } },
    said: `${FIELD_LABELS[field]} will not be imported.`,
  };
}

/** "don't import Title", "ignore column Dept", "unmap title", "skip the Mobile column". */
function parseUnmap(text: string, ctx: ReviewContext): ReviewReply | null {
  const rest = afterPrefix(normalizeUtterance(text), [
    'dont import',
    'dont map',
    'dont use',
    'do not import',
    'do not map',
    'do not use',
    'ignore',
    'unmap',
    'skip',
    'leave out',
    'drop',
  ]);
  if (rest === undefined || rest === '') return null;
  const name = unquote(withoutSuffix(withoutPrefix(withoutPrefix(rest, ['the']), ['column']), ['column']));
  const header = findHeader(ctx.headers, name);
  const byHeader = header
    ? (Object.entries(ctx.columns).find(([, h]) => h === header)?.[0] as ImportField | undefined)
    : undefined;
  const field = byHeader ?? resolveField(name);
  if (!field) {
    if (header !== undefined) return { kind: 'invalid', message: `"${header}" is not imported already.` };
    return null;
  }
  return unmap(field, ctx, text);
}

/** "use New as default", "default status activate", "set the default to Update", "no default". */
function parseDefault(text: string, ctx: ReviewContext): ReviewReply | null {
  const t = normalizeUtterance(text);
  if (
    ['no default', 'no default status', 'clear the default', 'clear default', 'remove the default'].includes(
      t,
    )
  )
    return {
      kind: 'change',
      options: { ...ctx.options, defaultAction: undefined },
      said: 'No default status.',
    };
  let word: string | undefined;
  // "use New as default", "New as the default status"
  const asDefault =
    afterPrefix(t, ['treat them as', 'treat those as', 'treat as', 'use', 'make', 'set']) ?? t;
  const ending = [
    ' as the default status',
    ' as default status',
    ' as the default',
    ' as default',
    ' for default',
  ].find((e) => asDefault.endsWith(e));
  if (ending) word = asDefault.slice(0, -ending.length).trim();
  // "default status activate", "set the default to Update", "default: new"
  word ??= afterPrefix(t, [
    'set the default status to',
    'set the default to',
    'set default status to',
    'set default to',
    'the default status is',
    'the default is',
    'default status is',
    'default status to',
    'default status',
    'default is',
    'default to',
    'default',
  ]);
  // "rows without status are New"
  word ??= afterPrefix(t, [
    'rows without a status are',
    'rows without status are',
    'rows without a status',
    'rows without status',
    'missing statuses',
    'missing status',
    'empty statuses',
    'empty status',
  ]);
  if (word === undefined) return null;
  word = withoutPrefix(word.replace(/^[:=]\s*/, ''), ['are', 'as', '->']);
  if (!isWord(word)) return null;
  const action = parseAction(word);
  if (!action)
    return {
      kind: 'invalid',
      message: `"${word}" is not a User Status. Use ${REQUESTED_ACTIONS.map(actionLabel).join(', ')}.`,
    };
  return {
    kind: 'change',
    options: { ...ctx.options, defaultAction: action },
    said: `Rows without a User Status will be treated as ${actionLabel(action)}.`,
  };
}

const CREATE_MISSING = new Set([
  'create them',
  'create them as new',
  'create those as new',
  'create missing',
  'create missing users',
  'create missing users as new',
  'create missing as new',
  'create the missing ones',
  'create the missing users',
  'create unknown',
  'create unknown users',
  'create unknown users as new',
  'create the unknown users',
  'add them',
  'add missing users',
  'treat them as new',
  'treat those as new',
]);
const SKIP_MISSING = new Set([
  'skip them',
  'skip missing',
  'skip missing users',
  'skip the missing ones',
  'skip the missing users',
  'skip unknown users',
  'ignore them',
  'ignore missing',
  'ignore missing users',
  'ignore unknown users',
  'dont create them',
  'dont create missing users',
]);

/** Whether Update rows for unknown users are created as New. */
function parseCreateMissing(text: string, ctx: ReviewContext): ReviewReply | null {
  const t = normalizeUtterance(text);
  if (CREATE_MISSING.has(t))
    return {
      kind: 'change',
      options: { ...ctx.options, createMissingOnUpdate: true },
      said: 'Update rows for people the account does not have will create them as New.',
    };
  if (SKIP_MISSING.has(t))
    return {
      kind: 'change',
      options: { ...ctx.options, createMissingOnUpdate: false },
      said: 'Update rows for people the account does not have will be skipped.',
    };
  return null;
}

const IMPORT_FLAGGED = new Set([
  'import them anyway',
  'import them as they are',
  'import them as is',
  'import anyway',
  'import as is',
  'import flagged',
  'import the flagged',
  'import the flagged ones',
  'import flagged emails',
  'import the flagged emails',
  'import flagged addresses',
  'import the flagged addresses',
  'import the typos',
  'import the typos anyway',
  'keep flagged',
  'keep the flagged',
  'keep the flagged ones',
  'keep flagged emails',
  'keep the flagged emails',
  'keep them anyway',
  'keep the typos',
  'allow flagged',
  'allow the flagged',
  'allow them',
  'they are fine',
  'theyre fine',
  'they are ok',
  'theyre ok',
  'the emails are fine',
  'the emails are ok',
  'emails are fine',
  'the addresses are fine',
  'addresses are fine',
  'not typos',
  'they are not typos',
  'theyre not typos',
  'no typos',
]);
const SKIP_FLAGGED = new Set([
  'skip flagged',
  'skip the flagged',
  'skip the flagged ones',
  'skip flagged emails',
  'skip the flagged emails',
  'skip flagged addresses',
  'skip the flagged addresses',
  'skip flagged rows',
  'skip the flagged rows',
  'skip the typos',
  'skip typos',
  'skip the suspicious ones',
  'skip those emails',
  'skip those addresses',
  'ignore flagged',
  'ignore the flagged',
  'ignore the flagged ones',
  'ignore the typos',
  'leave out flagged',
  'leave out the flagged',
  'leave out the flagged ones',
  'leave out the typos',
  'leave the flagged out',
  'leave the typos out',
  'dont import flagged',
  'dont import the flagged',
  'dont import the flagged ones',
  'dont import flagged emails',
  'dont import the flagged emails',
  'dont import the typos',
  'do not import the flagged',
  'do not import the typos',
  'drop flagged',
  'drop the flagged',
  'drop the typos',
  'exclude flagged',
  'exclude the flagged',
  'exclude the typos',
]);

/** Whether rows with flagged emails (likely typos, outside the allowed domains) are imported or skipped. */
function parseFlagged(text: string, ctx: ReviewContext): ReviewReply | null {
  const t = normalizeUtterance(text);
  const choice = IMPORT_FLAGGED.has(t) ? 'import' : SKIP_FLAGGED.has(t) ? 'skip' : undefined;
  if (!choice) return null;
  if (!ctx.flagged) return { kind: 'invalid', message: 'No email address on this plan is flagged.' };
  return {
    kind: 'change',
    options: { ...ctx.options, flaggedEmails: choice },
    said:
      choice === 'import'
        ? 'The flagged email addresses will be imported as they are.'
        : 'Rows with flagged email addresses will be skipped.',
  };
}

/** Confirms the re-flow and imports at once: the plan on screen already shows the re-flowed rows. */
const REFLOW_AND_IMPORT = new Set([
  'yes reflow',
  'yes re-flow',
  'yes reflow them',
  'yes split them',
  'yes split into rows',
  'yes split it into rows',
  'yes split the rows',
  'reflow and import',
  're-flow and import',
  'split and import',
  'split into rows and import',
  'yes reflow and import',
  'yes the rows are right',
  'yes thats right',
]);
/** Confirms the re-flow only: the plan is shown again, ready to import. */
const REFLOW_ONLY = new Set([
  'reflow',
  're-flow',
  'reflow them',
  'reflow it',
  'reflow the rows',
  'split into rows',
  'split it into rows',
  'split them into rows',
  'split the rows',
  'split them',
  'thats right',
  'that is right',
  'thats correct',
  'that is correct',
  'the rows are right',
  'the rows are correct',
  'rows are right',
  'rows look right',
  'the rows look right',
]);

/** Whether the rows of a run-together file are re-flowed as the plan shows. */
function parseReflow(text: string, ctx: ReviewContext): ReviewReply | null {
  const t = normalizeUtterance(text).replace(/,/g, '');
  const andImport = REFLOW_AND_IMPORT.has(t);
  if (!andImport && !REFLOW_ONLY.has(t)) return null;
  if (!ctx.runTogether)
    return { kind: 'invalid', message: 'This file has one row per line: there is nothing to re-flow.' };
  const options = { ...ctx.options, reflow: true };
  if (andImport) return { kind: 'confirm', options };
  return { kind: 'change', options, said: 'The rows will be imported re-flowed as shown.' };
}

/** Verbs that may come before a sheet's name: "use sheet Staff", "switch to the Staff sheet". */
const SHEET_VERBS = [
  'please use',
  'use',
  'read',
  'read from',
  'import',
  'import from',
  'open',
  'try',
  'take',
  'choose',
  'pick',
  'select',
  'switch to',
  'change to',
  'go to',
];

/** `text` without the first of `prefixes` it starts with as whole words, any case; undefined if none. */
function stripWords(text: string, prefixes: readonly string[]): string | undefined {
  const lower = text.toLowerCase();
  const hit = prefixes.filter((p) => lower.startsWith(`${p} `)).sort((a, b) => b.length - a.length)[0];
  return hit === undefined ? undefined : text.slice(hit.length + 1).trim();
}

/**
 * "use sheet Staff", "read the Staff sheet", "switch to worksheet 2024 hires", "the Staff tab": read another
 * worksheet of the workbook. The word "sheet" (or "tab") must be there, so a column is never taken for a sheet.
 * Column choices start over, since another sheet has other columns.
 */
function parseSheet(text: string, ctx: ReviewContext): ReviewReply | null {
  let rest = text
    .trim()
    .replace(/[.!]+$/, '')
    .replace(/\s+/g, ' ');
  rest = stripWords(rest, SHEET_VERBS) ?? rest;
  rest = stripWords(rest, ['the']) ?? rest;
  let name = stripWords(rest, ['sheet', 'worksheet', 'tab']);
  if (name !== undefined) name = stripWords(name, ['named', 'called']) ?? name;
  else if (/ (?:(?:work)?sheet|tab)$/i.test(rest)) name = rest.replace(/ (?:(?:work)?sheet|tab)$/i, '');
  if (name === undefined) return null;
  name = unquote(withoutSuffix(name, ['instead', 'please']));
  if (name === '') return null;
  if (ctx.sheet === undefined || !ctx.sheets)
    return { kind: 'invalid', message: 'This file is a text file, not an Excel workbook: it has no sheets.' };
  const found = ctx.sheets.find((s) => s.trim().toLowerCase() === name.toLowerCase());
  if (found === undefined)
    return {
      kind: 'invalid',
      message: `This workbook has no sheet "${name}". Its sheets are ${quoteList(ctx.sheets)}.`,
    };
  if (found === ctx.sheet) return { kind: 'invalid', message: `I am reading the sheet "${found}" already.` };
  // The mapping named the other sheet's columns.
  const { mapping, ...kept } = ctx.options;
  return {
    kind: 'change',
    options: { ...kept, sheet: found },
    said: `I read the sheet "${found}" now${mapping ? '; the column choices start over' : ''}.`,
  };
}

/** Card inputs → options; `null` values in the mapping mean "not imported". */
function optionsFromCard(
  values: Record<string, unknown>,
  ctx: ReviewContext,
): ImportOptions | { error: string } {
  const options: ImportOptions = { ...ctx.options, mapping: { ...ctx.options.mapping } };
  for (const field of IMPORT_FIELDS) {
    const chosen = values[`map.${field}`];
    if (typeof chosen !== 'string' || chosen === '') continue;
    const current = ctx.columns[field];
    if (chosen === NONE) {
      if (current === undefined) continue;
      if (field === 'email') return { error: `The ${FIELD_LABELS.email} column cannot be left out.` };
      options.mapping = { ...options.mapping, [field]: null };
    } else if (chosen !== current) {
      if (!ctx.headers.includes(chosen)) return { error: `This file has no column "${chosen}".` };
      options.mapping = { ...options.mapping, [field]: chosen };
    }
  }
  if (typeof values.defaultStatus === 'string' && values.defaultStatus !== '') {
    const action = parseAction(values.defaultStatus);
    if (!action) return { error: `"${values.defaultStatus}" is not a User Status.` };
    options.defaultAction = action;
  }
  if (values.createMissing === 'true') options.createMissingOnUpdate = true;
  if (values.createMissing === 'false') options.createMissingOnUpdate = false;
  if (values.flaggedEmails === 'import' || values.flaggedEmails === 'skip')
    options.flaggedEmails = values.flaggedEmails;
  if (values.reflow === 'true') options.reflow = true;
  if (typeof values.sheet === 'string' && values.sheet !== '' && values.sheet !== ctx.sheet) {
    if (!ctx.sheets?.includes(values.sheet))
      return { error: `This workbook has no sheet "${values.sheet}".` };
    // Another sheet has other columns: the column choices start over.
    options.sheet = values.sheet;
    delete options.mapping;
  }
  if (Object.keys(options.mapping ?? {}).length === 0) delete options.mapping;
  return options;
}

function sameOptions(a: ImportOptions, b: ImportOptions): boolean {
  const norm = (o: ImportOptions) =>
    JSON.stringify({
      d: o.defaultAction ?? null,
      c: o.createMissingOnUpdate ?? false,
      f: o.flaggedEmails ?? null,
      r: o.reflow ?? false,
      s: o.sheet ?? null,
      m: Object.entries(o.mapping ?? {}).sort(([x], [y]) => x.localeCompare(y)),
    });
  return norm(a) === norm(b);
}

/**
 * Reads the admin's answer to a plan. A card click whose inputs differ from the plan on screen is a change,
 * never a confirmation, so nothing is imported that the admin has not seen planned.
 */
export function parseReviewReply(text: string | undefined, value: unknown, ctx: ReviewContext): ReviewReply {
  const submit = value === undefined || value === null ? null : parseCardSubmit(value);
  if (submit) {
    if (submit.planId !== undefined && submit.planId !== ctx.planId) return { kind: 'stale' };
    if (submit.action === 'cancel') return { kind: 'cancel' };
    if (submit.action === 'help') return { kind: 'help' };
    const options = optionsFromCard(submit, ctx);
    if ('error' in options) return { kind: 'invalid', message: options.error };
    // "Re-flow and import" confirms the re-flow the plan on screen already shows: nothing else changes.
    const reflowed = submit.action === 'confirm' && options.reflow === true && !ctx.options.reflow;
    if (!sameOptions(reflowed ? { ...options, reflow: ctx.options.reflow } : options, ctx.options))
      return { kind: 'change', options, said: 'I applied your choices.' };
    if (reflowed) return { kind: 'confirm', options };
    return submit.action === 'confirm'
      ? { kind: 'confirm' }
      : { kind: 'change', options, said: 'Nothing changed.' };
  }
  const said = (text ?? '').trim();
  if (said === '' || said.length > MAX_REPLY_CHARS) return { kind: 'unknown' };
  if (isConfirm(said)) return { kind: 'confirm' };
  if (isCancel(said)) return { kind: 'cancel' };
  if (isHelp(said)) return { kind: 'help' };
  return (
    parseSheet(said, ctx) ??
    parseReflow(said, ctx) ??
    parseDefault(said, ctx) ??
    parseFlagged(said, ctx) ??
    parseCreateMissing(said, ctx) ??
    parseUnmap(said, ctx) ??
    parseMapping(said, ctx) ?? { kind: 'unknown' }
  );
}

/** The deletion confirmation asks for the word "delete" so a reflexive "yes" cannot remove users. */
export function parseDeletionReply(text: string | undefined, value: unknown): DeletionReply {
  const submit = value && typeof value === 'object' ? (value as { action?: unknown }).action : undefined;
  if (submit === 'confirmDeletions') return 'confirm';
  if (submit === 'cancel') return 'cancel';
  const t = normalizeUtterance(text ?? '');
  if (t === '' || t.length > MAX_REPLY_CHARS) return 'unknown';
  const target = afterPrefix(t, [
    'yes confirm delete',
    'yes delete',
    'confirm delete',
    'delete',
    'yes remove',
    'remove',
  ]);
  if (target !== undefined) {
    const what = withoutSuffix(target, ['users', 'user']);
    if (['', 'them', 'all', 'all of them', 'the', 'these', 'them all'].includes(what) || /^\d+$/.test(what))
      return 'confirm';
  }
  if (t === 'confirm deletions' || t === 'yes delete') return 'confirm';
  if (isCancel(t) || t.startsWith('dont delete') || t.startsWith('do not delete')) return 'cancel';
  if (isHelp(t)) return 'help';
  if (isConfirm(t)) return 'unsure';
  return 'unknown';
}

export const CARD_NO_COLUMN = NONE;
