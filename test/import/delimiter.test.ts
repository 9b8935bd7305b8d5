import { DELIMITER_NAMES, detectDelimiter, type Delimiter } from '../../services/import/delimiter';

function file(delimiter: string, rows: string[][], lineEnd = '\n'): string {
  return rows.map((cells) => cells.join(delimiter)).join(lineEnd) + lineEnd;
}

const ROWS = [
  ['Email ID', 'First Name', 'Last Name', 'Department'],
  ['ana@example.com', 'Ana', 'Silva', 'Sales'],
  ['bo@example.com', 'Bo', 'Berg', 'IT'],
  ['cy@example.com', 'Cy', 'Chen', 'HR'],
];

describe('detectDelimiter', () => {
  it.each([',', ';', '|', '\t'] as const)('detects %j in a plain file', (delimiter) => {
    expect(detectDelimiter(file(delimiter, ROWS))).toBe(delimiter);
  });

  it.each([
    ['CRLF', '\r\n'],
    ['CR', '\r'],
  ])('works with %s line ends', (_label, lineEnd) => {
    expect(detectDelimiter(file(';', ROWS, lineEnd))).toBe(';');
    expect(detectDelimiter(file('|', ROWS, lineEnd))).toBe('|');
  });

  it('names the delimiters for the administrator', () => {
    expect(DELIMITER_NAMES).toEqual({ ',': 'comma', '|': 'pipe', ';': 'semicolon', '\t': 'tab' });
  });

  it('returns a comma for a single-column file of email addresses', () => {
    expect(detectDelimiter('Email\nana@example.com\nbo@example.com\n')).toBe(',');
    expect(detectDelimiter('Email')).toBe(',');
    expect(detectDelimiter('')).toBe(',');
  });

  it('is not fooled by commas inside the names of a semicolon file', () => {
    const text = file(';', [
      ['Email', 'Full Name', 'Title'],
      ['jr@example.com', 'Smith, Jr.', 'Director, Sales'],
      ['ann@example.com', 'Lee, Ann', 'VP, Finance, EMEA'],
      ['bo@example.com', 'Bo', 'Intern'],
    ]);
    expect(detectDelimiter(text)).toBe(';');
  });

  it('is not fooled by commas inside the cells of a tab file', () => {
    const text = file('\t', [
      ['Email', 'Name', 'Title'],
      ['jr@example.com', 'Smith, Jr.', 'Director, Sales, North, East'],
      ['bo@example.com', 'Berg, Bo', 'Manager, IT'],
    ]);
    expect(detectDelimiter(text)).toBe('\t');
  });

  it('ignores delimiters inside quoted fields, including quoted line breaks', () => {
    const text =
      'Email,Name,Notes\n' +
      'a@x.io,"Doe; Jane","line one; still one\nline two; | ; |"\n' +
      'b@x.io,"Roe; Rick","x;y;z"\n' +
      'c@x.io,Cy,"say ""hi""; bye"\n';
    expect(detectDelimiter(text)).toBe(',');
  });

  it('ignores commas inside quoted fields of a semicolon file', () => {
    const text =
      'Email;Name;Title\n' + 'a@x.io;"Doe, Jane";"CEO, CFO, CTO"\n' + 'b@x.io;"Roe, Rick";"VP, IT"\n';
    expect(detectDelimiter(text)).toBe(';');
  });

  it('does not split a quoted first cell at the commas inside it', () => {
    // Counted naively, "," would give two columns on every line, tying with ";" and winning as the default.
    const text = '"Name, full";Email\n"Smith, Jr.";j@x.io\n"Lee, Ann";a@x.io\n';
    expect(detectDelimiter(text)).toBe(';');
  });

  it('treats a record continued inside quotes over several lines as one record', () => {
    // Split at every line break, each half would have one comma and one pipe: "," would look perfectly
    // consistent with its 2-column reading of the header, and "|" would not.
    const text = 'Email|Name, Title|Dept\n' + 'a@x.io|"Smith, J\nLondon, UK"|IT\n'.repeat(3);
    expect(detectDelimiter(text)).toBe('|');
  });

  it('lets the header decide against a delimiter found only in some data cells', () => {
    // Every data row has exactly one pipe inside a cell, which on its own would look like a consistent pipe file.
    const text = file(',', [
      ['Email', 'Name', 'Teams'],
      ['a@x.io', 'Ana', 'Red|Blue'],
      ['b@x.io', 'Bo', 'Green|Gold'],
    ]);
    expect(detectDelimiter(text)).toBe(',');
  });

  it('prefers the delimiter whose rows agree with the header count', () => {
    // The header contains a comma and semicolons: ";" gives 3 columns matching every row, "," gives 2 and 1.
    const text = 'Email;Name (Last, First);Dept\n' + 'a@x.io;Doe John;IT\n' + 'b@x.io;Roe Rick;HR\n';
    expect(detectDelimiter(text)).toBe(';');
  });

  it('still finds the delimiter of a ragged file whose rows have missing or extra trailing cells', () => {
    const text =
      'Email|First|Last|Dept\n' + 'a@x.io|Ana\n' + 'b@x.io|Bo|Berg|IT|extra\n' + 'c@x.io|Cy|Chen|HR\n';
    expect(detectDelimiter(text)).toBe('|');
  });

  it('skips blank lines and lines made only of delimiters', () => {
    const text = '\n\n' + file('\t', ROWS).replace('\n', '\n\n\t\t\t\n   \n');
    expect(detectDelimiter(text)).toBe('\t');
  });

  it('ignores a last record left open by a quote cut off at the end of the sample', () => {
    const text =
      'Email;Name\n' + 'a@x.io;Ana\n' + 'b@x.io;"Bo, a very long, comma, rich, note that the sample cut';
    expect(detectDelimiter(text)).toBe(';');
  });

  it('uses the rows when the header has only one name but the rows are delimited', () => {
    expect(detectDelimiter('Email\na@x.io;Ana\nb@x.io;Bo\nc@x.io;Cy\n')).toBe(';');
  });

  it('prefers a comma on a perfect tie', () => {
    // Both "," and ";" give two columns on every line.
    expect(detectDelimiter('a,b;c\n1,2;3\n')).toBe(',');
  });

  it('keeps working on a sample of many lines', () => {
    const rows = [ROWS[0] as string[]];
    for (let i = 0; i < 5000; i++) rows.push([`u${i}@x.io`, `Name, ${i}`, 'Last', 'Dept']);
    const detected: Delimiter = detectDelimiter(file('|', rows));
    expect(detected).toBe('|');
  });
});
