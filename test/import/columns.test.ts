import { isAppError } from '../../services/errors';
import {
  FIELD_LABELS,
  IMPORT_FIELDS,
  mapColumns,
  normalizeHeader,
  resolveField,
  type ColumnMapping,
  type ImportField,
} from '../../services/import/columns';

/** field → header, for compact assertions. */
function headersOf(mapping: ColumnMapping): Partial<Record<ImportField, string>> {
  return Object.fromEntries(Object.entries(mapping.columns).map(([field, column]) => [field, column.header]));
}

function mappingError(run: () => unknown) {
  try {
    run();
  } catch (err) {
    if (isAppError(err, 'mapping-invalid')) return err;
    throw err;
  }
  throw new Error('expected a mapping-invalid error');
}

describe('normalizeHeader', () => {
  it('ignores case, spaces, punctuation and accents', () => {
    expect(normalizeHeader(' E-Mail  Address ')).toBe('emailaddress');
    expect(normalizeHeader('EMAIL_ID')).toBe('emailid');
    expect(normalizeHeader('first.name')).toBe('firstname');
    expect(normalizeHeader('Télé-phone')).toBe('telephone');
    expect(normalizeHeader('\ufeffEmail ID')).toBe('emailid');
    expect(normalizeHeader('--')).toBe('');
  });

  it('keeps letters of other scripts and digits', () => {
    expect(normalizeHeader('Фамилия 2')).toBe('фамилия2');
  });
});

describe('mapColumns', () => {
  it("maps the original console's template exactly", () => {
    const headers = IMPORT_FIELDS.map((field) => FIELD_LABELS[field]);
    const mapping = mapColumns(headers);
    IMPORT_FIELDS.forEach((field, index) => {
      expect(mapping.columns[field]).toEqual({ header: FIELD_LABELS[field], index });
    });
    expect(mapping.ignoredColumns).toEqual([]);
  });

  it('maps the aliases administrators use', () => {
    const headers = [
      'E-mail',
      'Given Name',
      'SURNAME',
      'Employee Number',
      'Business Phone',
      'Job Title',
      'Dept.',
      'Action',
    ];
    expect(headersOf(mapColumns(headers))).toEqual({
      email: 'E-mail',
      firstName: 'Given Name',
      lastName: 'SURNAME',
      alternateId: 'Employee Number',
      workPhone: 'Business Phone',
      title: 'Job Title',
      department: 'Dept.',
      status: 'Action',
    });
  });

  it.each([
    ['UserPrincipalName', 'email'],
    ['UPN', 'email'],
    ['Email Address', 'email'],
    ['mail', 'email'],
    ['Forename', 'firstName'],
    ['FirstName', 'firstName'],
    ['Family Name', 'lastName'],
    ['Alt ID', 'alternateId'],
    ['Employee ID', 'alternateId'],
    ['External ID', 'alternateId'],
    ['Office Phone', 'workPhone'],
    ['Telephone', 'workPhone'],
    ['Phone Number', 'workPhone'],
    ['Mobile', 'workPhone'],
    ['Position', 'title'],
    ['Role', 'title'],
    ['Division', 'department'],
    ['Team', 'department'],
    ['Status', 'status'],
    ['Operation', 'status'],
  ])('maps %j to %s', (header, field) => {
    const mapping = mapColumns(['Notes', header]);
    expect(mapping.columns).toEqual({ [field]: { header, index: 1 } });
    expect(mapping.ignoredColumns).toEqual(['Notes']);
  });

  it('does not map login or username columns, which are often not email addresses', () => {
    const mapping = mapColumns(['Login', 'Username', 'Email']);
    expect(headersOf(mapping)).toEqual({ email: 'Email' });
    expect(mapping.ignoredColumns).toEqual(['Login', 'Username']);
  });

  it('gives a field to the better-named column and reports the other as ignored', () => {
    const mapping = mapColumns(['Mobile', 'Email Address', 'Phone', 'Email ID', 'Work Phone', 'Mail']);
    expect(mapping.columns.email).toEqual({ header: 'Email ID', index: 3 });
    expect(mapping.columns.workPhone).toEqual({ header: 'Work Phone', index: 4 });
    expect(mapping.ignoredColumns).toEqual(['Mobile', 'Email Address', 'Phone', 'Mail']);
  });

  it('prefers a business phone to a mobile number whatever their order', () => {
    expect(mapColumns(['Mobile', 'Business Phone']).columns.workPhone?.header).toBe('Business Phone');
    expect(mapColumns(['Business Phone', 'Mobile']).columns.workPhone?.header).toBe('Business Phone');
    expect(mapColumns(['Mobile', 'Telephone']).columns.workPhone?.header).toBe('Telephone');
  });

  it('gives a field to the first of two equally good columns', () => {
    const mapping = mapColumns(['Email', 'email']);
    expect(mapping.columns.email?.index).toBe(0);
    expect(mapping.ignoredColumns).toEqual(['email']);
  });

  it('reports unknown columns by their original text and empty header cells by position', () => {
    const mapping = mapColumns(['Email', 'Cost Center', '', 'Manager', '  ']);
    expect(mapping.ignoredColumns).toEqual([
      'Cost Center',
      '(column 3, no header)',
      'Manager',
      '(column 5, no header)',
    ]);
  });

  describe('overrides', () => {
    const headers = ['Mail', 'Given Name', 'Surname', 'Mobile', 'Office', 'Badge'];

    it('maps a field to the header named, matched loosely', () => {
      const mapping = mapColumns(headers, { alternateId: 'badge', department: 'OFFICE' });
      expect(mapping.columns.alternateId).toEqual({ header: 'Badge', index: 5 });
      expect(mapping.columns.department).toEqual({ header: 'Office', index: 4 });
      expect(mapping.ignoredColumns).toEqual([]);
    });

    it('re-maps a field, leaving its former column ignored', () => {
      const mapping = mapColumns(headers, { workPhone: 'Office' });
      expect(mapping.columns.workPhone).toEqual({ header: 'Office', index: 4 });
      expect(mapping.ignoredColumns).toEqual(['Mobile', 'Badge']);
    });

    it('removes a field with null', () => {
      const mapping = mapColumns(headers, { workPhone: null, firstName: null });
      expect(mapping.columns.workPhone).toBeUndefined();
      expect(mapping.columns.firstName).toBeUndefined();
      expect(mapping.columns.email?.header).toBe('Mail');
      expect(mapping.ignoredColumns).toEqual(['Given Name', 'Mobile', 'Office', 'Badge']);
    });

    it('moves a column taken from another field, which becomes unmapped', () => {
      const mapping = mapColumns(headers, { alternateId: 'Mobile' });
      expect(mapping.columns.alternateId).toEqual({ header: 'Mobile', index: 3 });
      expect(mapping.columns.workPhone).toBeUndefined();
    });

    it('swaps two columns in either order of the overrides', () => {
      const swapped = { header: 'Surname', index: 2 };
      expect(mapColumns(headers, { firstName: 'Surname', lastName: 'Given Name' }).columns.firstName).toEqual(
        swapped,
      );
      const reversed = mapColumns(headers, { lastName: 'Given Name', firstName: 'Surname' });
      expect(reversed.columns.firstName).toEqual(swapped);
      expect(reversed.columns.lastName).toEqual({ header: 'Given Name', index: 1 });
    });

    it('ignores overrides left undefined', () => {
      expect(mapColumns(headers, { email: undefined }).columns.email?.header).toBe('Mail');
    });

    it("rejects a header the file does not have, listing the file's headers", () => {
      const err = mappingError(() => mapColumns([...headers, ''], { workPhone: 'Cell Number' }));
      expect(err.message).toContain('"Cell Number"');
      expect(err.message).toContain('Work Phone');
      expect(err.message).toContain(
        '"Mail", "Given Name", "Surname", "Mobile", "Office", "Badge", "(column 7, no header)"',
      );
      expect(err.details).toEqual({ headers: [...headers, ''] });
    });

    it('rejects an empty header name', () => {
      expect(() => mapColumns(['Email', ''], { title: ' ' })).toThrow(/no column " "/);
    });

    it('rejects one column for two fields', () => {
      const err = mappingError(() => mapColumns(headers, { title: 'Office', department: 'office' }));
      expect(err.message).toMatch(/"Office" cannot feed both Title and Department/);
    });

    it('rejects an unknown field name coming from untyped input', () => {
      const overrides = JSON.parse('{"manager":"Mail"}') as Record<string, string>;
      const err = mappingError(() => mapColumns(headers, overrides));
      expect(err.message).toContain('"manager" is not a field');
    });
  });
});

describe('resolveField', () => {
  it.each([
    ['email', 'email'],
    ['Email ID', 'email'],
    ['e-mail', 'email'],
    ['work phone', 'workPhone'],
    ['workPhone', 'workPhone'],
    ['Business Phone', 'workPhone'],
    ['first name', 'firstName'],
    ['SURNAME', 'lastName'],
    ['alternateId', 'alternateId'],
    ['user status', 'status'],
    ['status', 'status'],
    ['dept', 'department'],
    ['job title', 'title'],
  ])('resolves %j to %s', (name, field) => {
    expect(resolveField(name)).toBe(field);
  });

  it.each(['manager', '', 'phone book', 'Login'])('does not resolve %j', (name) => {
    expect(resolveField(name)).toBeUndefined();
  });
});
