import { mapColumns } from '../../services/import/columns';
import { actionLabel, checkRow, isValidEmail, parseAction } from '../../services/import/rowRules';

/** `local@domain` padded with labels of `label` characters until the whole address is `length` long. */
function addressOfLength(length: number): string {
  const local = 'a'.repeat(64);
  const labels: string[] = [];
  let domain = 'com';
  while (local.length + 1 + domain.length < length) {
    const room = length - (local.length + 1 + domain.length) - 1;
    labels.push('b'.repeat(Math.min(63, room)));
    domain = [...labels, 'com'].join('.');
  }
  const address = `${local}@${domain}`;
  if (address.length !== length) throw new Error(`built ${address.length} characters, wanted ${length}`);
  return address;
}

describe('isValidEmail', () => {
  it.each([
    'jane@acme.com',
    'jane.doe@acme.com',
    'jane+newsletter@acme.com',
    'jane+tag+more@acme.com',
    'jane@mail.eu.acme.co.uk',
    "o'brien@acme.ie",
    "d'angelo.o'neil@acme.com",
    'JANE@ACME.COM',
    'j@a-b.io',
    '1234@acme.com',
    'first_last@acme.com',
    'x-y@acme.museum',
    'a!#$%&*/=?^_`{|}~-@acme.com',
    addressOfLength(254),
    `${'a'.repeat(64)}@acme.com`,
    `jane@${'b'.repeat(63)}.com`,
  ])('accepts %s', (email) => {
    expect(isValidEmail(email)).toBe(true);
  });

  it.each([
    ['no @', 'janeacme.com'],
    ['two @', 'jane@doe@acme.com'],
    ['@@', 'bad@@acme.com'],
    ['a space in the local part', 'jane doe@acme.com'],
    ['a space in the domain', 'jane@acme .com'],
    ['a leading space (not trimmed)', ' jane@acme.com'],
    ['a tab', 'jane\t@acme.com'],
    ['a trailing dot', 'jane@acme.com.'],
    ['a leading dot in the domain', 'jane@.acme.com'],
    ['two dots in the domain', 'jane@acme..com'],
    ['a leading hyphen label', 'jane@-acme.com'],
    ['a trailing hyphen label', 'jane@acme-.com'],
    ['a leading hyphen in the last label', 'jane@acme.-com'],
    ['a single-letter TLD', 'jane@acme.c'],
    ['a numeric TLD', 'jane@acme.123'],
    ['an IP-like domain', 'jane@192.168.0.1'],
    ['no dot in the domain', 'jane@localhost'],
    ['an empty local part', '@acme.com'],
    ['an empty domain', 'jane@'],
    ['a leading dot in the local part', '.jane@acme.com'],
    ['a trailing dot in the local part', 'jane.@acme.com'],
    ['two dots in the local part', 'jane..doe@acme.com'],
    ['a 65-character local part', `${'a'.repeat(65)}@acme.com`],
    ['a 64-character label', `jane@${'b'.repeat(64)}.com`],
    ['255 characters', addressOfLength(255)],
    ['300 characters', addressOfLength(300)],
    ['a display name', 'Jane <jane@acme.com>'],
    ['a quoted local part', '"jane doe"@acme.com'],
    ['a comma', 'jane,doe@acme.com'],
    ['a non-ASCII local part', 'zoë@acme.com'],
    ['nothing', ''],
  ])('rejects an address with %s', (_what, email) => {
    expect(isValidEmail(email)).toBe(false);
  });

  it('decides quickly on a hostile 100,000-character cell', () => {
    const started = Date.now();
    expect(isValidEmail(`${'a.'.repeat(50_000)}@acme.com`)).toBe(false);
    expect(isValidEmail(`a@${'b-'.repeat(50_000)}.com`)).toBe(false);
    expect(Date.now() - started).toBeLessThan(500);
  });
});

describe('parseAction', () => {
  it.each([
    ['New', 'new'],
    ['new', 'new'],
    ['  NEW  ', 'new'],
    ['Update', 'update'],
    ['uPdAtE', 'update'],
    ['Delete\t', 'delete'],
    ['\u00a0Activate\r\n', 'activate'],
  ])('reads %j as %s', (text, action) => {
    expect(parseAction(text)).toBe(action);
  });

  it.each([
    '',
    '   ',
    'Promote',
    'news',
    'New!',
    'De lete',
    'remove',
    'activated',
    'constructor',
    'toString',
  ])('does not read %j as a status', (text) => {
    expect(parseAction(text)).toBeUndefined();
  });

  it('spells actions as the console does', () => {
    expect(['new', 'update', 'delete', 'activate'].map((a) => actionLabel(a as 'new'))).toEqual([
      'New',
      'Update',
      'Delete',
      'Activate',
    ]);
  });
});

describe('checkRow', () => {
  const headers = ['Email ID', 'First Name', 'Last Name', 'Title', 'User Status'];
  const mapping = mapColumns(headers);
  const withoutStatus = mapColumns(['Email ID', 'First Name', 'Last Name']);

  it('trims and lower-cases the email, trims values and leaves blank cells out of the profile', () => {
    const check = checkRow(7, ['  Jane@ACME.com ', ' Jane ', '', '   ', ' new '], mapping, undefined);
    expect(check).toEqual({
      ok: true,
      value: { row: 7, email: 'jane@acme.com', action: 'new', profile: { firstName: 'Jane' } },
    });
  });

  it('uses the default action for an empty or blank status cell', () => {
    for (const status of ['', '   ']) {
      const check = checkRow(2, ['jane@acme.com', 'Jane', 'Doe', '', status], mapping, 'activate');
      expect(check).toMatchObject({ ok: true, value: { action: 'activate' } });
    }
  });

  it('uses the default action when the file has no status column at all', () => {
    expect(checkRow(2, ['jane@acme.com', 'Jane', 'Doe'], withoutStatus, 'update')).toMatchObject({
      ok: true,
      value: { action: 'update', profile: { firstName: 'Jane', lastName: 'Doe' } },
    });
  });

  it('lets a status in the cell win over the default action', () => {
    const check = checkRow(2, ['jane@acme.com', 'Jane', 'Doe', '', 'Delete'], mapping, 'new');
    expect(check).toMatchObject({ ok: true, value: { action: 'delete' } });
  });

  it('reports a missing status (with its field) when there is no default action', () => {
    const check = checkRow(4, ['jane@acme.com', 'Jane', 'Doe', '', ''], mapping, undefined);
    expect(check).toEqual({
      ok: false,
      problem: {
        row: 4,
        email: 'jane@acme.com',
        code: 'missing-field',
        field: 'status',
        message: 'User Status is empty (expected New, Update, Delete or Activate).',
      },
    });
  });

  it('does not let the default action hide a misspelt status', () => {
    const check = checkRow(5, ['jane@acme.com', 'Jane', 'Doe', '', 'Promote'], mapping, 'new');
    expect(check).toMatchObject({
      ok: false,
      problem: {
        row: 5,
        code: 'unknown-status',
        message: 'User Status "Promote" is not one of New, Update, Delete or Activate.',
      },
    });
  });

  it('reports an empty email as a missing field even with a default action', () => {
    const check = checkRow(3, ['  ', 'Jane', 'Doe', '', 'New'], mapping, 'new');
    expect(check).toMatchObject({
      ok: false,
      problem: { row: 3, email: '', code: 'missing-field', field: 'email', message: 'Email ID is empty.' },
    });
  });

  it('reports an invalid email, quoting it (shortened when long) and keeping it lower-cased', () => {
    const short = checkRow(3, ['Not-An-Email', 'Jane'], mapping, 'new');
    expect(short).toMatchObject({
      ok: false,
      problem: {
        code: 'invalid-email',
        email: 'not-an-email',
        message: '"Not-An-Email" is not a valid email address.',
      },
    });
    const long = checkRow(3, ['x'.repeat(200)], mapping, 'new');
    expect(long.ok).toBe(false);
    if (!long.ok) {
      expect(long.problem.message).toBe(`"${'x'.repeat(59)}…" is not a valid email address.`);
      expect(long.problem).not.toHaveProperty('field');
    }
  });

  it('keeps the User Status an ignored row asked for (from the cell or the default), when it is known', () => {
    const fromCell = checkRow(3, ['bad@@acme.com', 'A', 'B', '', ' Delete '], mapping, 'new');
    expect(fromCell).toMatchObject({ ok: false, problem: { code: 'invalid-email', action: 'delete' } });
    const fromDefault = checkRow(3, ['', 'A', 'B', '', ''], mapping, 'activate');
    expect(fromDefault).toMatchObject({ ok: false, problem: { code: 'missing-field', action: 'activate' } });
    const unknown = checkRow(3, ['jane@acme.com', 'A', 'B', '', 'Promote'], mapping, 'new');
    expect(unknown.ok).toBe(false);
    if (!unknown.ok) expect(unknown.problem).not.toHaveProperty('action');
    const none = checkRow(3, ['jane@acme.com', 'A', 'B', '', ''], mapping, undefined);
    if (!none.ok) expect(none.problem).not.toHaveProperty('action');
    expect(none.ok).toBe(false);
  });

  it('reads a row shorter than the header as blanks', () => {
    expect(checkRow(9, ['jane@acme.com'], mapping, 'update')).toEqual({
      ok: true,
      value: { row: 9, email: 'jane@acme.com', action: 'update', profile: {} },
    });
  });
});
