/**
 * The ids of the events committed last, as 31-bit hashes in a ring: a hint of which staged events
 * may repeat one already in bronze. Only a hint: an id it names is checked against the primary key,
 * and an id it has forgotten (or never saw, after a restart) fails the plain insert, which is then
 * redone with the check. So a collision or an eviction costs time, never an event.
 *
 * Why: DuckDB's `INSERT … ON CONFLICT DO NOTHING` cost about 5× a plain insert into the same
 * primary key (20 vs 4 ms for 1,900 events over 2 M stored), and most events are new.
 */
export class RecentIds {
  readonly #ring: Int32Array;
  /** How many ids in the ring have each hash (ids may collide). */
  readonly #counts = new Map<number, number>();
  readonly #hash: (id: string) => number;
  #next = 0;
  #size = 0;

  constructor(capacity: number, hash: (id: string) => number = fnv1a31) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a positive integer');
    this.#ring = new Int32Array(capacity);
    this.#hash = hash;
  }

  /** Whether an id with the same hash was committed recently: the id may be a duplicate. */
  has(id: string): boolean {
    return this.#counts.has(this.#hash(id));
  }

  add(id: string): void {
    const hash = this.#hash(id);
    if (this.#size === this.#ring.length) {
      const evicted = this.#ring[this.#next] as number;
      const left = (this.#counts.get(evicted) ?? 1) - 1;
      if (left === 0) this.#counts.delete(evicted);
      else this.#counts.set(evicted, left);
    } else {
      this.#size += 1;
    }
    this.#ring[this.#next] = hash;
    this.#next = (this.#next + 1) % this.#ring.length;
    this.#counts.set(hash, (this.#counts.get(hash) ?? 0) + 1);
  }
}

/** FNV-1a over the UTF-16 code units, folded to 31 bits so that V8 keeps it a small integer. */
function fnv1a31(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash & 0x7fffffff;
}
