import { normalizeText, PLACEHOLDERS, withPlaceholders } from '../../services/understanding/normalize';
import { SpellingCorrector, withinOneEdit } from '../../services/understanding/spelling';

describe('normalizeText', () => {
  it.each<[string, string]>([
    ['How did the LAST import go?!', 'how did the last import go'],
    ['pls resend the invites thx', 'please resend the invites thanks'],
    ['nvm', 'never mind'],
    ['wat can u do', 'what can you do'],
    ['what’s in import ximportref', 'what is in import ximportref'],
    ["it's Bob’s", "it's bob's"],
    [
      "didn't the re-send work? re send it, re-invite them",
      'did not the resend work resend it reinvite them',
    ],
    ['e-mail', 'email'],
    ['constructor toString', 'constructor tostring'],
    ["'quoted' words", 'quoted words'],
    ['   ', ''],
  ])('%s → %s', (text, normalized) => {
    expect(normalizeText(text)).toBe(normalized);
  });
});

describe('withPlaceholders', () => {
  it('puts a placeholder word where each entity was', () => {
    const text = 'did jane@acme.com get import #12?';
    const at = (part: string) => ({ start: text.indexOf(part), end: text.indexOf(part) + part.length });
    expect(
      withPlaceholders(text, [
        { kind: 'importRef', ...at('import #12') },
        { kind: 'email', ...at('jane@acme.com') },
      ]),
    ).toBe(`did  ${PLACEHOLDERS.email}  get  ${PLACEHOLDERS.importRef} ?`);
  });
});

describe('withinOneEdit', () => {
  it.each<[string, string, boolean]>([
    ['import', 'import', true],
    ['imprt', 'import', true],
    ['importt', 'import', true],
    ['imp0rt', 'import', true],
    ['hlep', 'help', true],
    ['resluts', 'results', true],
    ['imoprt', 'import', true],
    ['improt', 'import', true],
    ['inprot', 'import', false],
    ['port', 'import', false],
    ['abc', 'xyz', false],
  ])('%s ~ %s: %s', (a, b, expected) => {
    expect(withinOneEdit(a, b)).toBe(expected);
    expect(withinOneEdit(b, a)).toBe(expected);
  });
});

describe('SpellingCorrector', () => {
  const speller = new SpellingCorrector([
    'show the last import results',
    'list imports',
    'help',
    'cancel',
    'the import report',
  ]);

  it('knows the words of its texts', () => {
    expect(speller.size).toBe(10);
  });

  it('corrects a word one edit away from a known one', () => {
    expect(speller.correct('shwo the lastt imprt resluts')).toBe('show the last import results');
    expect(speller.correct('hlep')).toBe('help');
    expect(speller.correct('cancle')).toBe('cancel');
  });

  it('prefers the more common word when two are as close', () => {
    // "imports" (1) and "import" (2) are both one edit from "importz".
    expect(speller.correctWord('importz')).toBe('import');
  });

  it('leaves short words, words with digits and words with no close match alone', () => {
    expect(speller.correct('teh x1st weather banana')).toBe('teh x1st weather banana');
  });
});
