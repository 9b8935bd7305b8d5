/** The Adaptive Card schema version every channel we serve renders (Teams mobile included). */
export const CARD_VERSION = '1.4';

/** A card element or action: plain JSON as the Adaptive Card schema defines it. */
export type CardElement = Record<string, unknown>;

/** An Adaptive Card document. */
export interface AdaptiveCard {
  type: 'AdaptiveCard';
  $schema: string;
  version: string;
  body: CardElement[];
  actions?: CardElement[];
}

export function adaptiveCard(body: CardElement[], actions: CardElement[] = []): AdaptiveCard {
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: CARD_VERSION,
    body,
    ...(actions.length > 0 ? { actions } : {}),
  };
}

/** Wrapped text; card text is Markdown, so text from files is escaped by the caller where it matters. */
export function text(value: string, extra: CardElement = {}): CardElement {
  return { type: 'TextBlock', text: value, wrap: true, ...extra };
}

export function facts(entries: Array<[string, string | number]>): CardElement {
  return {
    type: 'FactSet',
    facts: entries.map(([title, value]) => ({
      title,
      value: typeof value === 'number' ? formatCount(value) : value,
    })),
  };
}

export function submit(title: string, data: Record<string, unknown>, extra: CardElement = {}): CardElement {
  return { type: 'Action.Submit', title, data, ...extra };
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export const plural = (n: number, word: string, many = `${word}s`) =>
  `${formatCount(n)} ${n === 1 ? word : many}`;

/**
 * Neutralises Markdown in text that comes from a user file (names, headers, emails), so a header such as
 * "**Name**" or "[x](http://…)" shows as written instead of formatting the card or adding links.
 */
export function escapeMarkdown(value: string): string {
  return value.replace(/[\\`*_[\]()#<>|~]/g, (c) => `\\${c}`);
}
