import { MAX_MESSAGE_LENGTH } from './entities';

/**
 * Which administrator's imports a message asks about: "imports by Ann", "what did Sam Lee import",
 * "my imports". Kept apart from the recognizer's entities, whose shape is a published contract; the history
 * list filters on it.
 */
export type AdminMention = { kind: 'self' } | { kind: 'named'; name: string };

/** Words that end a name after "by": periods, sorting and other filters. */
const STOP =
  /^(?:in|on|at|since|from|to|until|till|before|after|during|between|for|of|with|the|this|that|last|past|yesterday|today|this|date|name|file|number|newest|oldest|latest|please|pls|and|or|via|using|through)$/i;

const SELF =
  // eslint-disable-next-line security/detect-unsafe-regex -- bounded repetitions of words, no nested ambiguity; input is capped (MAX_MESSAGE_LENGTH)
  /\b(?:my|mine)\b(?:\s+\w+){0,2}?\s+(?:imports?|uploads?)\b|\b(?:imports?|uploads?)\s+(?:of\s+)?mine\b|\bi\s+(?:did|ran|made|imported|uploaded|started|sent)\b/i;

/** Finds the administrator a message names, or undefined. */
export function findAdminMention(message: string): AdminMention | undefined {
  const text = message.slice(0, MAX_MESSAGE_LENGTH);
  // eslint-disable-next-line security/detect-unsafe-regex -- bounded repetitions of words, no nested ambiguity; input is capped (MAX_MESSAGE_LENGTH)
  const named = /\b(?:by|from admin|admin)\s+([A-Za-z][\w.'-]*(?:\s+[A-Za-z][\w.'-]*){0,2})/.exec(text);
  if (named?.[1]) {
    const words: string[] = [];
    for (const word of named[1].split(/\s+/)) {
      if (STOP.test(word)) break;
      words.push(word.replace(/[.'-]+$/, ''));
    }
    const name = words.join(' ').trim();
    if (name && !/^(?:me|myself|i)$/i.test(name)) return { kind: 'named', name };
    if (/^(?:me|myself)$/i.test(name)) return { kind: 'self' };
  }
  // eslint-disable-next-line security/detect-unsafe-regex -- bounded repetitions of words, no nested ambiguity; input is capped (MAX_MESSAGE_LENGTH)
  const didImport = /\bwhat\s+did\s+([A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)?)\s+(?:import|upload)/.exec(text);
  if (didImport?.[1] && !/^i$/i.test(didImport[1])) return { kind: 'named', name: didImport[1] };
  if (SELF.test(text)) return { kind: 'self' };
  return undefined;
}
