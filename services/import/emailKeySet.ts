/**
 * A compact map from email to a number (a row number, or 1 for plain membership), holding a 53-bit hash of
 * each email instead of the string. One million emails cost about 24 MB instead of the ~150 MB a `Map` of
 * strings needs, which keeps an import's memory close to flat as files grow. A false match needs two
 * different emails to share a 53-bit hash: about one chance in 18,000 for a whole million-row file. Where a
 * match leads to a database write, the caller re-checks it against the stored email first.
 */
export class EmailKeyMap {
  private keys: Float64Array;
  private values: Uint32Array;
  private used: Uint8Array;
  private count = 0;

  constructor(initialCapacity = 1024) {
    let capacity = 16;
    while (capacity < initialCapacity * 2) capacity *= 2;
    this.keys = new Float64Array(capacity);
    this.values = new Uint32Array(capacity);
    this.used = new Uint8Array(capacity);
  }

  /** Number of distinct keys stored. */
  get size(): number {
    return this.count;
  }

  /** Stores `value` for `email`, replacing any earlier value. */
  set(email: string, value: number): void {
    if ((this.count + 1) * 2 > this.keys.length) this.grow();
    this.insert(hashEmail(email), value);
  }

  /** The value stored for `email`, or undefined. */
  get(email: string): number | undefined {
    const slot = this.find(hashEmail(email));
    return slot === -1 ? undefined : this.values[slot];
  }

  has(email: string): boolean {
    return this.find(hashEmail(email)) !== -1;
  }

  private insert(key: number, value: number): void {
    const mask = this.keys.length - 1;
    let slot = (key % this.keys.length) & mask;
    while (this.used[slot] === 1 && this.keys[slot] !== key) slot = (slot + 1) & mask;
    if (this.used[slot] !== 1) this.count++;
    this.used[slot] = 1;
    this.keys[slot] = key;
    this.values[slot] = value;
  }

  private find(key: number): number {
    const mask = this.keys.length - 1;
    let slot = (key % this.keys.length) & mask;
    while (this.used[slot] === 1) {
      if (this.keys[slot] === key) return slot;
      slot = (slot + 1) & mask;
    }
    return -1;
  }

  private grow(): void {
    const { keys, values, used } = this;
    this.keys = new Float64Array(keys.length * 2);
    this.values = new Uint32Array(keys.length * 2);
    this.used = new Uint8Array(keys.length * 2);
    this.count = 0;
    for (let i = 0; i < keys.length; i++) {
      if (used[i] === 1) this.insert(keys[i] as number, values[i] as number);
    }
  }
}

/** A 53-bit string hash (two interleaved 32-bit multiplicative hashes), exact in a float64. */
export function hashEmail(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
