/**
 * Corrects typos against the words the recognizer was trained on: a word it has never seen becomes the
 * closest word it knows, one edit away (a letter missing, extra, wrong, or two letters swapped: "imprt",
 * "resluts", "hlep"). Short words and words with digits are left alone; so is any word with no single close
 * match, which stays unknown (and so counts towards "none").
 */
export class SpellingCorrector {
  /** Known words by length, with how often each occurs (the more common wins a tie). */
  private readonly byLength = new Map<number, Map<string, number>>();
  private readonly known = new Map<string, number>();

  /** @param texts normalized training texts (see normalize.ts), words separated by spaces */
  constructor(
    texts: Iterable<string>,
    private readonly minLength = 4,
  ) {
    for (const text of texts) {
      for (const word of text.split(' ')) {
        if (!word) continue;
        this.known.set(word, (this.known.get(word) ?? 0) + 1);
      }
    }
    for (const [word, count] of this.known) {
      let words = this.byLength.get(word.length);
      if (!words) this.byLength.set(word.length, (words = new Map()));
      words.set(word, count);
    }
  }

  /** How many different words it knows. */
  get size(): number {
    return this.known.size;
  }

  /** A normalized text with each unknown word replaced by its correction, when it has one. */
  correct(text: string): string {
    return text
      .split(' ')
      .map((word) => this.correctWord(word))
      .join(' ');
  }

  correctWord(word: string): string {
    if (word.length < this.minLength || this.known.has(word) || /[^a-z]/.test(word)) return word;
    let best: string | undefined;
    let bestCount = 0;
    for (let length = word.length - 1; length <= word.length + 1; length++) {
      for (const [candidate, count] of this.byLength.get(length) ?? []) {
        if (!withinOneEdit(word, candidate)) continue;
        if (count > bestCount || (count === bestCount && best !== undefined && candidate < best)) {
          best = candidate;
          bestCount = count;
        }
      }
    }
    return best ?? word;
  }
}

/** True when `a` becomes `b` by one insertion, deletion, substitution or swap of two neighbouring letters. */
export function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  const la = a.length;
  const lb = b.length;
  if (Math.abs(la - lb) > 1) return false;
  let i = 0;
  while (i < la && i < lb && a[i] === b[i]) i++;
  if (la === lb) {
    // One substitution, or one swap of neighbours.
    if (a.slice(i + 1) === b.slice(i + 1)) return true;
    return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
  }
  // One insertion or deletion.
  return la > lb ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}
