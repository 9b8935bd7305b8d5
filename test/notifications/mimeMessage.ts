/**
 * Just enough RFC 822 / MIME parsing for the tests to read what nodemailer produced: unfolded headers, and
 * the text and HTML parts of a multipart/alternative body with their transfer encoding undone.
 */
export interface ParsedMail {
  /** Header lines exactly as they appear (unfolded), so tests can look for injected ones. */
  headerLines: string[];
  header(name: string): string | undefined;
  headers(name: string): string[];
  text: string;
  html: string;
}

export function parseMail(raw: string): ParsedMail {
  const { headerLines, body } = splitHeaders(raw);
  const parts = collectParts(headerLines, body);
  return {
    headerLines,
    header: (name) => headerValues(headerLines, name)[0],
    headers: (name) => headerValues(headerLines, name),
    text: parts.find((p) => p.type === 'text/plain')?.content ?? '',
    html: parts.find((p) => p.type === 'text/html')?.content ?? '',
  };
}

function splitHeaders(raw: string): { headerLines: string[]; body: string } {
  const normalized = raw.replace(/\r\n/g, '\n');
  const end = normalized.indexOf('\n\n');
  const head = end === -1 ? normalized : normalized.slice(0, end);
  const body = end === -1 ? '' : normalized.slice(end + 2);
  const headerLines: string[] = [];
  for (const line of head.split('\n')) {
    const last = headerLines.length - 1;
    if (/^[ \t]/.test(line) && last >= 0) headerLines[last] += ' ' + line.trim();
    else headerLines.push(line);
  }
  return { headerLines, body };
}

function headerValues(lines: string[], name: string): string[] {
  const prefix = name.toLowerCase() + ':';
  return lines.filter((l) => l.toLowerCase().startsWith(prefix)).map((l) => l.slice(prefix.length).trim());
}

interface Part {
  type: string;
  content: string;
}

function collectParts(headerLines: string[], body: string): Part[] {
  const contentType = headerValues(headerLines, 'content-type')[0] ?? 'text/plain';
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? 'text/plain';
  if (type.startsWith('multipart/')) {
    const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
    if (!boundary) return [];
    return body
      .split(`--${boundary}`)
      .slice(1)
      .filter((chunk) => !chunk.startsWith('--'))
      .flatMap((chunk) => {
        const inner = splitHeaders(chunk.replace(/^\n/, ''));
        return collectParts(inner.headerLines, inner.body);
      });
  }
  const encoding = (headerValues(headerLines, 'content-transfer-encoding')[0] ?? '7bit').toLowerCase();
  return [{ type, content: decodeBody(body, encoding) }];
}

function decodeBody(body: string, encoding: string): string {
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') {
    const joined = body.replace(/=\n/g, '');
    const bytes: number[] = [];
    for (let i = 0; i < joined.length; i++) {
      const hex = joined.slice(i + 1, i + 3);
      if (joined[i] === '=' && /^[0-9A-F]{2}$/i.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
      } else {
        bytes.push(...Buffer.from(joined[i] ?? '', 'utf8'));
      }
    }
    return Buffer.from(bytes).toString('utf8');
  }
  return body;
}
