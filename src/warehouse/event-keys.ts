import { hash } from 'node:crypto';
import type { DuckDBConnection, DuckDBUIntegerVector } from '@duckdb/node-api';

/** Bytes of memory per slot: four 32-bit words of an MD5 digest. */
const WORDS_PER_SLOT = 4;
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

  constructor(expected = 0) {
    let capacity = MIN_CAPACITY;
    while (capacity * MAX_LOAD < expected) capacity *= 2;
    this.#slots = new Uint32Array(capacity * WORDS_PER_SLOT);
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
    if (isZero(key)) return this.#hasZero;
    return this.#find(this.#slots, this.#mask, key) < 0;
  }

  /** Adds the key; answers whether it was new. */
  add(key: EventKey): boolean {
    if (isZero(key)) {
      if (this.#hasZero) return false;
      this.#hasZero = true;
      this.#size += 1;
      return true;
    }
    const found = this.#find(this.#slots, this.#mask, key);
    if (found < 0) return false;
    if (this.#size + 1 > (this.#mask + 1) * MAX_LOAD) {
      this.#grow();
      this.#write(this.#find(this.#slots, this.#mask, key), key);
    } else {
      this.#write(found, key);
    }
    this.#size += 1;
    return true;
  }

  /** The slot holding `key` as −1 − slot, or the empty slot where it would go. */
  #find(slots: Uint32Array, mask: number, key: EventKey): number {
    for (let slot = (key[0] as number) & mask; ; slot = (slot + 1) & mask) {
      const at = slot * WORDS_PER_SLOT;
      const w0 = slots[at] as number;
      const w1 = slots[at + 1] as number;
      const w2 = slots[at + 2] as number;
      const w3 = slots[at + 3] as number;
      if ((w0 | w1 | w2 | w3) === 0) return slot;
      if (w0 === key[0] && w1 === key[1] && w2 === key[2] && w3 === key[3]) return -1 - slot;
    }
  }

  #write(slot: number, key: EventKey): void {
    this.#slots.set(key, slot * WORDS_PER_SLOT);
  }

  #grow(): void {
    const old = this.#slots;
    const capacity = (this.#mask + 1) * 2;
    this.#slots = new Uint32Array(capacity * WORDS_PER_SLOT);
    this.#mask = capacity - 1;
    const key = new Uint32Array(WORDS_PER_SLOT);
    for (let at = 0; at < old.length; at += WORDS_PER_SLOT) {
      key.set(old.subarray(at, at + WORDS_PER_SLOT));
      if (isZero(key)) continue;
      this.#write(this.#find(this.#slots, this.#mask, key), key);
    }
  }
}

/** A 128-bit digest as four 32-bit words, least significant first. */
export type EventKey = Uint32Array;

function isZero(key: EventKey): boolean {
  return ((key[0] as number) | (key[1] as number) | (key[2] as number) | (key[3] as number)) === 0;
}

/**
 * The key of an event id: its MD5 digest read as DuckDB's `md5_number` reads it, a little-endian
 * 128-bit integer, so that the words loaded from `event_key` and the words computed here agree.
 */
export function eventKeyOf(id: string): EventKey {
  const digest = hash('md5', id, 'buffer');
  return new Uint32Array([
    digest.readUInt32LE(0),
    digest.readUInt32LE(4),
    digest.readUInt32LE(8),
    digest.readUInt32LE(12),
  ]);
}

/** Every stored event's key, read from `bronze_events.event_key` a chunk at a time. */
export async function loadEventKeys(connection: DuckDBConnection): Promise<EventKeySet> {
  const counted = await connection.runAndReadAll('SELECT count(*)::BIGINT FROM bronze_events');
  const keys = new EventKeySet(Number(counted.getRows()[0]?.[0] ?? 0));
  const words = [0, 32, 64, 96]
    .map((shift) => `((event_key >> ${shift}) & 4294967295::UHUGEINT)::UINTEGER`)
    .join(', ');
  const result = await connection.stream(`SELECT ${words} FROM bronze_events`);
  const key = new Uint32Array(WORDS_PER_SLOT);
  for (
    let chunk = await result.fetchChunk();
    chunk && chunk.rowCount > 0;
    chunk = await result.fetchChunk()
  ) {
    const columns = [0, 1, 2, 3].map((i) => chunk.getColumnVector(i) as DuckDBUIntegerVector);
    for (let row = 0; row < chunk.rowCount; row++) {
      for (let word = 0; word < WORDS_PER_SLOT; word++) key[word] = columns[word]?.getItem(row) ?? 0;
      keys.add(key);
    }
  }
  return keys;
}
