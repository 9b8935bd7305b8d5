/**
 * Makes values that came from an import file (names, addresses) or from configuration safe to place in
 * mail headers, HTML bodies, stored error messages and logs.
 */

const HTML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for use in HTML element content and in quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => HTML_ENTITIES[ch] ?? ch);
}

/**
 * Code points that must not survive into a single line of text: C0/C1 controls (CR and LF would let a value
 * start a new mail header), the Unicode line and paragraph separators, and the bidirectional formatting
 * marks that can make a name display as something other than what it is.
 */
function isUnsafeCodePoint(cp: number): boolean {
  return (
    cp < 0x20 ||
    (cp >= 0x7f && cp <= 0x9f) ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    cp === 0x200e ||
    cp === 0x200f ||
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2066 && cp <= 0x2069)
  );
}

/**
 * One line of plain text: unsafe characters become spaces, runs of whitespace collapse, and the result is
 * trimmed and cut to `maxLength` code points (so a surrogate pair is never split).
 */
export function singleLine(value: string | undefined, maxLength = 200): string {
  let out = '';
  for (const ch of value ?? '') {
    out += isUnsafeCodePoint(ch.codePointAt(0) ?? 0) ? ' ' : ch;
  }
  return Array.from(out.replace(/\s+/g, ' ').trim()).slice(0, maxLength).join('').trim();
}

/**
 * Replaces anything shaped like an e-mail address with `[address]`. Mail servers often quote the recipient
 * in their rejection text, and those messages end up in the database and in logs, which must not hold
 * personal data.
 */
export function redactAddresses(text: string): string {
  return text.replace(/[^\s<>()[\]"',;:]+@[^\s<>()[\]"',;:]+/g, '[address]');
}
