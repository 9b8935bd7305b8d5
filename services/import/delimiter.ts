/** The field separators a user file may use. */
export type Delimiter = ',' | '|' | ';' | '\t';

/** How each delimiter is named to the administrator. */
export const DELIMITER_NAMES: Record<Delimiter, string> = {
  ',': 'comma',
  '|': 'pipe',
  ';': 'semicolon',
  '\t': 'tab',
};

/** In order of preference when two delimiters explain the sample equally well: comma is the CSV default. */
const CANDIDATES: readonly Delimiter[] = [',', ';', '\t', '|'];
/** The header and this many following records are enough to see a pattern; more only costs time. */
const MAX_RECORDS = 200;

function isBlankChar(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\u00a0' || ch === '\ufeff' || ch === '\f' || ch === '\v';
}

/**
 * Field counts of the records of `text` split by `delimiter`, with RFC 4180 quoting: a field that starts
 * with a double quote runs to the matching closing quote, across delimiters and line breaks. Records made
 * only of blanks and delimiters are skipped, and so is a last record left open by an unclosed quote, since
 * a sample can end in the middle of one.
 */
function fieldCounts(text: string, delimiter: Delimiter): number[] {
  const counts: number[] = [];
  let fields = 1;
  let fieldStart = true;
  let inQuotes = false;
  let blank = true;
  for (let i = 0; i < text.length && counts.length < MAX_RECORDS; i++) {
    const ch = text[i] as string;
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') i++;
        else inQuotes = false;
      }
    } else if (ch === delimiter) {
      fields++;
      fieldStart = true;
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      if (!blank) counts.push(fields);
      fields = 1;
      fieldStart = true;
      blank = true;
    } else {
      // A quote opens a quoted field only at the very start of the field, as in RFC 4180 and papaparse.
      if (ch === '"' && fieldStart) inQuotes = true;
      if (!isBlankChar(ch)) blank = false;
      fieldStart = false;
    }
  }
  if (!inQuotes && !blank && counts.length < MAX_RECORDS) counts.push(fields);
  return counts;
}

/** How well the data records agree with the header's field count: 1 when every record matches it. */
function consistency(header: number, rows: number[]): number {
  if (rows.length === 0) return 1;
  // A record that uses the delimiter but has a different count is still evidence for it (ragged files).
  const score = rows.reduce((sum, count) => sum + (count === header ? 1 : count > 1 ? 0.5 : 0), 0);
  return score / rows.length;
}

/**
 * Picks the delimiter of a user file from the start of its decoded text (about the first 64 KB, ending at
 * a line break). The header record decides which delimiters are candidates, since it always spans every
 * column; among them, the one whose following records most often have the header's field count wins, then
 * the one giving more columns. Delimiters inside quoted fields do not count. A file with a single column
 * (only email addresses) has no delimiter at all and gets a comma.
 */
export function detectDelimiter(sampleText: string): Delimiter {
  let best: { delimiter: Delimiter; score: number; fields: number } | undefined;
  let fallback: { delimiter: Delimiter; rows: number } | undefined;
  for (const delimiter of CANDIDATES) {
    const [header, ...rows] = fieldCounts(sampleText, delimiter);
    if (header === undefined) continue;
    if (header < 2) {
      // A lone header name with delimited rows below it is a header that lost its other names.
      const delimitedRows = rows.filter((count) => count > 1).length;
      if (delimitedRows * 2 > rows.length && (!fallback || delimitedRows > fallback.rows)) {
        fallback = { delimiter, rows: delimitedRows };
      }
      continue;
    }
    const score = consistency(header, rows);
    if (!best || score > best.score || (score === best.score && header > best.fields)) {
      best = { delimiter, score, fields: header };
    }
  }
  return best?.delimiter ?? fallback?.delimiter ?? ',';
}
