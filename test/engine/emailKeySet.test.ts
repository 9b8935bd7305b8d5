import { EmailKeyMap, hashEmail } from '../../services/import/emailKeySet';

describe('EmailKeyMap', () => {
  it('stores, finds and reports membership of keys', () => {
    const map = new EmailKeyMap();
    expect(map.size).toBe(0);
    expect(map.get('jane@acme.com')).toBeUndefined();
    expect(map.has('jane@acme.com')).toBe(false);

    map.set('jane@acme.com', 2);
    map.set('bob@acme.com', 7);
    expect(map.get('jane@acme.com')).toBe(2);
    expect(map.get('bob@acme.com')).toBe(7);
    expect(map.has('jane@acme.com')).toBe(true);
    expect(map.has('sam@acme.com')).toBe(false);
    expect(map.get('sam@acme.com')).toBeUndefined();
    expect(map.size).toBe(2);
  });

  it('tells a stored value of 0 apart from a missing key', () => {
    const map = new EmailKeyMap();
    map.set('zero@acme.com', 0);
    expect(map.has('zero@acme.com')).toBe(true);
    expect(map.get('zero@acme.com')).toBe(0);
  });

  it('overwrites the value of a key already present without counting it twice', () => {
    const map = new EmailKeyMap();
    map.set('dup@acme.com', 2);
    map.set('dup@acme.com', 6);
    map.set('dup@acme.com', 8);
    expect(map.get('dup@acme.com')).toBe(8);
    expect(map.size).toBe(1);
  });

  it('is exact about keys: case and whitespace make different keys (callers normalise first)', () => {
    const map = new EmailKeyMap();
    map.set('jane@acme.com', 1);
    expect(map.has('Jane@acme.com')).toBe(false);
    expect(map.has(' jane@acme.com')).toBe(false);
    expect(map.has('jane@acme.co')).toBe(false);
  });

  it('keeps the empty string as a key of its own', () => {
    const map = new EmailKeyMap();
    map.set('', 5);
    expect(map.get('')).toBe(5);
    expect(map.has('a')).toBe(false);
  });

  it('grows past a tiny initial capacity, keeping every key and value', () => {
    const map = new EmailKeyMap(1);
    for (let i = 0; i < 200; i++) map.set(`u${i}@acme.com`, i + 2);
    expect(map.size).toBe(200);
    for (let i = 0; i < 200; i++) expect(map.get(`u${i}@acme.com`)).toBe(i + 2);
  });

  it('holds 100,000 distinct keys, every one retrievable, and none that was not set', () => {
    const n = 100_000;
    const map = new EmailKeyMap();
    for (let i = 0; i < n; i++) map.set(`user${i}@example${i % 97}.com`, i + 1);
    expect(map.size).toBe(n);

    let wrong = 0;
    for (let i = 0; i < n; i++) if (map.get(`user${i}@example${i % 97}.com`) !== i + 1) wrong++;
    expect(wrong).toBe(0);

    let falseHits = 0;
    for (let i = 0; i < n; i++) if (map.has(`user${i}@example${(i + 1) % 97}.com`)) falseHits++;
    expect(falseHits).toBe(0);

    // Overwriting after growth still replaces rather than adds.
    for (let i = 0; i < n; i += 1000) map.set(`user${i}@example${i % 97}.com`, 1);
    expect(map.size).toBe(n);
    expect(map.get('user5000@example53.com')).toBe(1);
    expect(map.get('user5001@example54.com')).toBe(5002);
  });

  it('keeps row numbers up to the 32-bit limit exactly', () => {
    const map = new EmailKeyMap();
    map.set('last@acme.com', 4_294_967_295);
    map.set('million@acme.com', 1_000_002);
    expect(map.get('last@acme.com')).toBe(4_294_967_295);
    expect(map.get('million@acme.com')).toBe(1_000_002);
  });
});

describe('hashEmail', () => {
  it('is deterministic', () => {
    expect(hashEmail('jane@acme.com')).toBe(hashEmail('jane@acme.com'));
  });

  it('gives a non-negative integer that a float64 holds exactly (at most 53 bits)', () => {
    for (const text of ['', 'a', 'jane@acme.com', 'ü@ä.de', 'x'.repeat(300)]) {
      const h = hashEmail(text);
      expect(Number.isSafeInteger(h)).toBe(true);
      expect(h).toBeGreaterThanOrEqual(0);
    }
  });

  it.each([
    ['jane@acme.com', 'jane@acme.co'],
    ['jane@acme.com', 'jane@acme.con'],
    ['jane@acme.com', 'Jane@acme.com'],
    ['jane@acme.com', 'jnae@acme.com'],
    ['ab@x.io', 'ba@x.io'],
    ['a', ''],
    ['a', 'a\u0000'],
    ['user1@acme.com', 'user2@acme.com'],
    ['user10@acme.com', 'user01@acme.com'],
  ])('differs for %j and %j', (a, b) => {
    expect(hashEmail(a)).not.toBe(hashEmail(b));
  });

  it('gives 100,000 near-identical emails 100,000 distinct hashes, using the high bits too', () => {
    const hashes = new Set<number>();
    let highBitsUsed = false;
    for (let i = 0; i < 100_000; i++) {
      const h = hashEmail(`user${i}@acme.com`);
      hashes.add(h);
      if (h >= 2 ** 32) highBitsUsed = true;
    }
    expect(hashes.size).toBe(100_000);
    expect(highBitsUsed).toBe(true);
  });
});
