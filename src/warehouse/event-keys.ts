import { hash } from 'node:crypto';
import type { DuckDBConnection, DuckDBUIntegerVector } from '@duckdb/node-api';

/** A slot, and a key in arrays of keys: the four 32-bit words of an MD5 digest (16 bytes). */
export const WORDS_PER_KEY = 4;
/** The table doubles when it would be fuller than this: linear probing stays short. */
const MAX_LOAD = 0.75;
const MIN_CAPACITY = 1 << 16;

/**
 * The keys of every event stored in bronze: the 128-bit MD5 digest of the event id, the value
 * `md5_number(event_id)` stores in `bronze_events.event_key`. The bronze writer deduplicates
 * against this set instead of a primary key.
 *
 * Why not DuckDB's primary key: DuckDB writes an ART index out whole at every checkpoint, so each
 * checkpoint costs time in proportion to every event ever stored, and holds up the commits behind
 * it (2.4 s of a 5.6 s checkpoint at 2 M events here; duckdb/duckdb#24848). Inserting into that
 * index also costs about four times the insert itself. This table costs 16 bytes a slot, at most
 * 43 bytes an event (21 to 43 by its fill), and a probe per event.
 *
 * Open addressing with linear probing over one Uint32Array. The digests are uniform, so their
 * first word is the hash; the all-zero digest, which marks an empty slot, is kept by a flag.
 */
export class EventKeySet {
  #slots: Uint32Array;
  #mask: number;
  #size = 0;
  #hasZero = false;

  /** `minCapacity` (a power of two) lets a short-lived set, one commit group's, start small. */
  constructor(expected = 0, minCapacity = MIN_CAPACITY) {
    let capacity = minCapacity;
    while (capacity * MAX_LOAD < expected) capacity *= 2;
    this.#slots = new Uint32Array(capacity * WORDS_PER_KEY);
    this.#mask = capacity - 1;
  }

  /** Keys held. */
  get size(): number {
    return this.#size;
  }

  /** Bytes the table holds (its slots). */
  get bytes(): number {
    return this.#slots.byteLength;
  }

  has(key: EventKey): boolean {
    return this.hasAt(key, 0);
  }

  /** Adds the key; answers whether it was new. */
  add(key: EventKey): boolean {
    return this.addAt(key, 0);
  }

  /** `has` of the `index`th key of an array made by `eventKeysOf`. */
  hasAt(keys: Uint32Array, index: number): boolean {
    const at = index * WORDS_PER_KEY;
    const w0 = keys[at] as number;
    const w1 = keys[at + 1] as number;
    const w2 = keys[at + 2] as number;
    const w3 = keys[at + 3] as number;
    if ((w0 | w1 | w2 | w3) === 0) return this.#hasZero;
    return this.#probe(w0, w1, w2, w3, false);
  }

  /** `add` of the `index`th key of an array made by `eventKeysOf`. */
  addAt(keys: Uint32Array, index: number): boolean {
    const at = index * WORDS_PER_KEY;
    return this.addWords(
      keys[at] as number,
      keys[at + 1] as number,
      keys[at + 2] as number,
      keys[at + 3] as number,
    );
  }

  /** Adds every key `other` holds (a commit group's, once it has committed). */
  addAll(other: EventKeySet): void {
    const slots = other.#slots;
    for (let at = 0; at < slots.length; at += WORDS_PER_KEY) {
      const w0 = slots[at] as number;
      const w1 = slots[at + 1] as number;
      const w2 = slots[at + 2] as number;
      const w3 = slots[at + 3] as number;
      if ((w0 | w1 | w2 | w3) !== 0) this.addWords(w0, w1, w2, w3);
    }
    if (other.#hasZero) this.addWords(0, 0, 0, 0);
  }

  /** `add` of the key whose words are these, least significant first (no array to fill). */
  addWords(w0: number, w1: number, w2: number, w3: number): boolean {
    if ((w0 | w1 | w2 | w3) === 0) {
      if (this.#hasZero) return false;
      this.#hasZero = true;
      this.#size += 1;
      return true;
    }
    // Grown first, even for a key already held: the probe then writes where it stops.
    if (this.#size + 1 > (this.#mask + 1) * MAX_LOAD) this.#grow();
    if (this.#probe(w0, w1, w2, w3, true)) return false;
    this.#size += 1;
    return true;
  }

  /**
   * Whether the key is held; when it is not and `write` is set, it is written into the first empty
   * slot from its home slot.
   */
  #probe(w0: number, w1: number, w2: number, w3: number, write: boolean): boolean {
    const slots = this.#slots;
    const mask = this.#mask;
    for (let slot = w0 & mask; ; slot = (slot + 1) & mask) {
      const at = slot * WORDS_PER_KEY;
      const s0 = slots[at] as number;
      const s1 = slots[at + 1] as number;
      const s2 = slots[at + 2] as number;
      const s3 = slots[at + 3] as number;
      if ((s0 | s1 | s2 | s3) === 0) {
        if (write) {
          slots[at] = w0;
          slots[at + 1] = w1;
          slots[at + 2] = w2;
          slots[at + 3] = w3;
        }
        return false;
      }
      if (s0 === w0 && s1 === w1 && s2 === w2 && s3 === w3) return true;
    }
  }

  #grow(): void {
    const old = this.#slots;
    const capacity = (this.#mask + 1) * 2;
    this.#slots = new Uint32Array(capacity * WORDS_PER_KEY);
    this.#mask = capacity - 1;
    for (let at = 0; at < old.length; at += WORDS_PER_KEY) {
      const w0 = old[at] as number;
      const w1 = old[at + 1] as number;
      const w2 = old[at + 2] as number;
      const w3 = old[at + 3] as number;
      if ((w0 | w1 | w2 | w3) !== 0) this.#probe(w0, w1, w2, w3, true);
    }
  }
}

/** A 128-bit digest as four 32-bit words, least significant first. */
export type EventKey = Uint32Array;

/**
 * The key of an event id: its MD5 digest read as DuckDB's `md5_number` reads it, a little-endian
 * 128-bit integer, so that the words loaded from `event_key` and the words computed here agree.
 */
export function eventKeyOf(id: string): EventKey {
  return eventKeysOf([id]);
}

/**
 * The keys of many event ids in one array, four words each in the ids' order: what a prepare
 * worker computes beside the rows, so the thread that commits only probes.
 */
export function eventKeysOf(ids: readonly string[]): Uint32Array {
  const keys = new Uint32Array(ids.length * WORDS_PER_KEY);
  ids.forEach((id, i) => {
    const digest = hash('md5', id, 'buffer');
    const at = i * WORDS_PER_KEY;
    keys[at] = digest.readUInt32LE(0);
    keys[at + 1] = digest.readUInt32LE(4);
    keys[at + 2] = digest.readUInt32LE(8);
    keys[at + 3] = digest.readUInt32LE(12);
  });
  return keys;
}

/** Every stored event's key, read from `bronze_events.event_key` a chunk at a time. */
export async function loadEventKeys(connection: DuckDBConnection): Promise<EventKeySet> {
  const counted = await connection.runAndReadAll('SELECT count(*)::BIGINT FROM bronze_events');
  const keys = new EventKeySet(Number(counted.getRows()[0]?.[0] ?? 0));
  const words = [0, 32, 64, 96]
    .map((shift) => `((event_key >> ${shift}) & 4294967295::UHUGEINT)::UINTEGER`)
    .join(', ');
  const result = await connection.stream(`SELECT ${words} FROM bronze_events`);
  for (
    let chunk = await result.fetchChunk();
    chunk && chunk.rowCount > 0;
    chunk = await result.fetchChunk()
  ) {
    const [c0, c1, c2, c3] = [0, 1, 2, 3].map((i) => chunk.getColumnVector(i) as DuckDBUIntegerVector);
    if (!c0 || !c1 || !c2 || !c3) throw new Error('event keys: a column is missing');
    for (let row = 0; row < chunk.rowCount; row++) {
      keys.addWords(c0.getItem(row) ?? 0, c1.getItem(row) ?? 0, c2.getItem(row) ?? 0, c3.getItem(row) ?? 0);
    }
  }
  return keys;
}
