import type { EntitySpan, EntityKind } from './entities';

/**
 * The light clean-up a message gets before intent classification, the same for the training corpus and for
 * live messages: entities become placeholder words (any address or number reads the same), then lower case,
 * plain apostrophes, chat shorthand spelled out ("pls", "u", "nvm") and "re-send"/"e-mail" joined up.
 */

/** The word each entity becomes; the corpus may use real values or these words. */
export const PLACEHOLDERS: Readonly<Record<EntityKind, string>> = {
  email: 'xemail',
  importRef: 'ximportref',
  fileName: 'xfilename',
  period: 'xperiod',
};

/** Chat shorthand and run-together words, as the words they stand for. */
const SHORTHAND: ReadonlyMap<string, string> = new Map(
  Object.entries({
    pls: 'please',
    plz: 'please',
    plse: 'please',
    u: 'you',
    ur: 'your',
    r: 'are',
    wat: 'what',
    wut: 'what',
    whats: 'what is',
    hows: 'how is',
    wheres: 'where is',
    im: 'i am',
    ive: 'i have',
    dont: 'do not',
    didnt: 'did not',
    doesnt: 'does not',
    isnt: 'is not',
    wasnt: 'was not',
    werent: 'were not',
    arent: 'are not',
    cant: 'can not',
    couldnt: 'could not',
    wont: 'will not',
    havent: 'have not',
    hasnt: 'has not',
    hadnt: 'had not',
    wanna: 'want to',
    gonna: 'going to',
    gimme: 'give me',
    lemme: 'let me',
    nvm: 'never mind',
    nevermind: 'never mind',
    thx: 'thanks',
    info: 'information',
    msg: 'message',
    msgs: 'messages',
    dl: 'download',
    b4: 'before',
    ppl: 'people',
    usr: 'user',
    usrs: 'users',
    acct: 'account',
    invs: 'invitations',
    inv: 'invitation',
  }),
);

/** Prefixes written apart or with a hyphen that belong to the word after them. */
const JOINED_PREFIX =
  /\b(re|e)[\s-](send|sent|sending|sends|invite|invited|inviting|invites|try|tried|mail|mails)\b/g;

/** `text` with each entity span replaced by its placeholder word. */
export function withPlaceholders(text: string, spans: readonly EntitySpan[]): string {
  let result = '';
  let at = 0;
  for (const span of [...spans].sort((a, b) => a.start - b.start)) {
    if (span.start < at) continue;
    result += `${text.slice(at, span.start)} ${PLACEHOLDERS[span.kind]} `;
    at = span.end;
  }
  return result + text.slice(at);
}

/** Lower case, plain apostrophes, shorthand spelled out, words only, single spaces. */
export function normalizeText(text: string): string {
  const words = text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[‘’`´]/g, "'")
    .replace(JOINED_PREFIX, '$1$2')
    .replace(/'(?![a-z])|(?<![a-z])'/g, ' ')
    .split(/[^a-z0-9']+/)
    .filter(Boolean);
  return words
    .map((word) => SHORTHAND.get(word.replace(/'/g, '')) ?? word)
    .join(' ')
    .trim();
}
