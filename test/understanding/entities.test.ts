import { extractEntities, MAX_MESSAGE_LENGTH } from '../../services/understanding/entities';
import type { Entities } from '../../services/understanding/recognizer';
import labelled from './utterances.json';

/** Wednesday 25 November 2026, 10:00 UTC. */
const NOW = new Date('2026-11-25T10:00:00.000Z');

const entitiesOf = (text: string, utcOffsetMinutes = 0): Entities =>
  extractEntities(text, { now: NOW, utcOffsetMinutes }).entities;

const day = (date: string) => ({ from: `${date}T00:00:00.000Z`, to: `${date}T23:59:59.999Z` });

describe('email addresses', () => {
  it.each<[string, string]>([
    ['what happened to jane@acme.com', 'jane@acme.com'],
    ['was Mary.Jones@Acme.COM imported?', 'mary.jones@acme.com'],
    ['look up "o\'brien+it@mail.example.co.uk".', "o'brien+it@mail.example.co.uk"],
    ['resend the invite to tom@acme.com, please', 'tom@acme.com'],
    ['jane@acme.com and bob@acme.com', 'jane@acme.com'],
  ])('%s', (text, email) => {
    expect(entitiesOf(text)).toEqual({ email });
  });

  it.each(['has june@acme.com been activated', 'user info for march.brown@acme.com', 'find may@acme.com'])(
    'reads no date in the address of "%s"',
    (text) => {
      expect(entitiesOf(text)).toEqual({ email: expect.any(String) });
    },
  );

  it('is not an email without a dot in the domain', () => {
    expect(entitiesOf('ping jane@localhost')).toEqual({});
  });
});

describe('import references', () => {
  it.each<[string, string]>([
    ['show import #12', '12'],
    ['#7', '7'],
    ['details of import 12', '12'],
    ['open import number 7', '7'],
    ['how about import no. 14', '14'],
    ['what did Import #08 change', '8'],
    ['detials of imprt 9', '9'],
    ['upload 3 please', '3'],
    ['tell me about imp_mi4x2k9a3f9c2b71d0', 'imp_mi4x2k9a3f9c2b71d0'],
    ['info on IMP_ABC123', 'imp_abc123'],
  ])('%s → %s', (text, importRef) => {
    expect(entitiesOf(text)).toEqual({ importRef });
  });

  it.each([
    'i want to import 50 users',
    'import 12 new employees',
    'show 5 imports',
    'import 3.5',
    'what is 2 plus 2',
  ])('finds no import number in "%s"', (text) => {
    expect(entitiesOf(text).importRef).toBeUndefined();
  });
});

describe('file names', () => {
  it.each<[string, string]>([
    ['problems with users.csv', 'users.csv'],
    ['details for staff_list.txt', 'staff_list.txt'],
    ['show me the New_Hires-2025.xlsx upload', 'New_Hires-2025.xlsx'],
    ['open the details for "q3 staff.txt"', 'q3 staff.txt'],
    ['the report of “Contractors (EU).csv”', 'Contractors (EU).csv'],
    ["it's users.csv's report", 'users.csv'],
    ['errors in staff.txt.', 'staff.txt'],
  ])('%s → %s', (text, fileName) => {
    expect(entitiesOf(text)).toEqual({ fileName });
  });

  it('reads no date and no import number in a file name', () => {
    expect(entitiesOf('problems in report-2025-05-01.csv')).toEqual({ fileName: 'report-2025-05-01.csv' });
    expect(entitiesOf('show import-3.csv')).toEqual({ fileName: 'import-3.csv' });
  });

  it.each(['download results as csv', 'i have a csv of new hires', 'export to excel'])(
    'finds no file name in "%s"',
    (text) => {
      expect(entitiesOf(text).fileName).toBeUndefined();
    },
  );
});

describe('periods, relative to a fixed now (Wednesday 2026-11-25 10:00 UTC)', () => {
  it.each<[string, Entities]>([
    ['imports from yesterday', day('2026-11-24')],
    ["yesterday's import", day('2026-11-24')],
    ['what was imported today', day('2026-11-25')],
    ["this morning's import", day('2026-11-25')],
    ['the import from monday', day('2026-11-23')],
    ['last friday', day('2026-11-20')],
    ['what was in the import on october 14', day('2026-10-14')],
    ['3 days ago', day('2026-11-22')],
    [
      'which imports happened last week',
      { from: '2026-11-16T00:00:00.000Z', to: '2026-11-22T23:59:59.999Z' },
    ],
    ['this week', { from: '2026-11-23T00:00:00.000Z', to: '2026-11-29T23:59:59.999Z' }],
    ['in October', { from: '2026-10-01T00:00:00.000Z', to: '2026-10-31T23:59:59.999Z' }],
    ['last month', { from: '2026-10-01T00:00:00.000Z', to: '2026-10-31T23:59:59.999Z' }],
    ['this month', { from: '2026-11-01T00:00:00.000Z', to: '2026-11-30T23:59:59.999Z' }],
    ['in december', { from: '2025-12-01T00:00:00.000Z', to: '2025-12-31T23:59:59.999Z' }],
    ['in may', { from: '2026-05-01T00:00:00.000Z', to: '2026-05-31T23:59:59.999Z' }],
    ['this year', { from: '2026-01-01T00:00:00.000Z', to: '2026-12-31T23:59:59.999Z' }],
    ['imports in 2025', { from: '2025-01-01T00:00:00.000Z', to: '2025-12-31T23:59:59.999Z' }],
    ['last year', { from: '2025-01-01T00:00:00.000Z', to: '2025-12-31T23:59:59.999Z' }],
    ['over the past 7 days', { from: '2026-11-19T00:00:00.000Z', to: '2026-11-25T23:59:59.999Z' }],
    ['the last two weeks', { from: '2026-11-12T00:00:00.000Z', to: '2026-11-25T23:59:59.999Z' }],
    ['between 1 and 5 May', { from: '2026-05-01T00:00:00.000Z', to: '2026-05-05T23:59:59.999Z' }],
    ['between May 1 and 5', { from: '2026-05-01T00:00:00.000Z', to: '2026-05-05T23:59:59.999Z' }],
    ['from 1 to 5 may', { from: '2026-05-01T00:00:00.000Z', to: '2026-05-05T23:59:59.999Z' }],
    ['from march 1 to march 10', { from: '2026-03-01T00:00:00.000Z', to: '2026-03-10T23:59:59.999Z' }],
    ['2 hours ago', { from: '2026-11-25T08:00:00.000Z', to: '2026-11-25T08:59:59.999Z' }],
    ['show imports since March 3', { from: '2026-03-03T00:00:00.000Z' }],
    ['since last week', { from: '2026-11-16T00:00:00.000Z' }],
    ['from March 3 onwards', { from: '2026-03-03T00:00:00.000Z' }],
    ['after March 3', { from: '2026-03-04T00:00:00.000Z' }],
    ['until nov 10', { to: '2026-11-10T23:59:59.999Z' }],
    ['before October', { to: '2026-09-30T23:59:59.999Z' }],
  ])('%s', (text, expected) => {
    expect(entitiesOf(text)).toEqual(expected);
  });

  it("takes the administrator's time zone for day boundaries", () => {
    expect(entitiesOf('yesterday', -300)).toEqual({
      from: '2026-11-24T05:00:00.000Z',
      to: '2026-11-25T04:59:59.999Z',
    });
    expect(entitiesOf('yesterday', 600)).toEqual({
      from: '2026-11-23T14:00:00.000Z',
      to: '2026-11-24T13:59:59.999Z',
    });
  });

  it.each([
    'did my import just now work?',
    'may I have the report',
    'sat down to check the imports',
    'set an alarm for 7',
    'show the second import',
    'what is 2 plus 2',
  ])('reads no date in "%s"', (text) => {
    expect(entitiesOf(text)).toEqual({});
  });

  it('defaults now to the current time', () => {
    const { entities } = extractEntities('today');
    expect(new Date(entities.from ?? 0).getTime()).toBeLessThanOrEqual(Date.now());
    expect(new Date(entities.to ?? 0).getTime()).toBeGreaterThanOrEqual(Date.now());
  });
});

describe('several entities in one message', () => {
  it('finds each with its place in the message', () => {
    const text = 'did jane@acme.com get the invite from import #12 (users.csv) last week?';
    const { entities, spans } = extractEntities(text, { now: NOW });
    expect(entities).toEqual({
      email: 'jane@acme.com',
      importRef: '12',
      fileName: 'users.csv',
      from: '2026-11-16T00:00:00.000Z',
      to: '2026-11-22T23:59:59.999Z',
    });
    expect(spans.map((s) => [s.kind, text.slice(s.start, s.end)])).toEqual([
      ['email', 'jane@acme.com'],
      ['importRef', 'import #12'],
      ['fileName', 'users.csv'],
      ['period', 'last week'],
    ]);
  });
});

describe('the labelled utterances', () => {
  const now = new Date(labelled.now);
  it.each(labelled.utterances.map((u) => [u.text, (u as { entities?: Entities }).entities ?? {}] as const))(
    '%s',
    (text, expected) => {
      expect(extractEntities(text, { now }).entities).toEqual(expected);
    },
  );
});

describe('hostile input', () => {
  it.each([
    'between ' + '1 '.repeat(2000),
    'import '.repeat(500) + 'x',
    'a'.repeat(5000) + '@' + 'b.'.repeat(2000),
    '"' + 'x '.repeat(3000) + '.csv',
    '#'.repeat(3000),
  ])('returns quickly (message %#)', (text) => {
    const started = Date.now();
    extractEntities(text, { now: NOW });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it(`reads only the first ${MAX_MESSAGE_LENGTH} characters`, () => {
    expect(entitiesOf(' '.repeat(MAX_MESSAGE_LENGTH) + 'jane@acme.com')).toEqual({});
  });
});
