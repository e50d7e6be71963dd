import {
  matchKey,
  principalOf,
  standingOf,
  type KeyCheck,
  type Principal,
  type StoredKey,
} from './api-keys.js';

/** Keys that matched, remembered so a key seen before skips its SHA-256: at most this many. */
const MATCHED_CAPACITY = 1024;

/** The keys Pulse accepts right now, by id: from the config file, the warehouse and demo mode. */
export class KeyRing {
  #keys = new Map<string, StoredKey>();
  /**
   * Presented key → the record it matched. Hashing the secret is most of what authenticating a
   * request costs; a remembered key is looked up by its full text instead. Only matches are kept,
   * so wrong keys cannot grow it, and any change to the ring forgets them all: a revoked or
   * replaced key is checked afresh. Expiry is checked on every use. Keyed by the key's text, as
   * API gateways cache credentials: keying it by a SHA-256 of the text instead cost 5–10 % of the
   * reads per second under load (3 pairs), to keep out of memory keys that every request brings in.
   */
  readonly #matched = new Map<string, { stored: StoredKey; principal: Principal }>();

  constructor(keys: Iterable<StoredKey> = []) {
    this.replace(keys);
  }

  replace(keys: Iterable<StoredKey>): void {
    this.#keys = new Map([...keys].map((key) => [key.id, key]));
    this.#matched.clear();
  }

  set(key: StoredKey): void {
    this.#keys.set(key.id, key);
    this.#matched.clear();
  }

  lookup = (id: string): StoredKey | undefined => this.#keys.get(id);

  /** `checkKey` against this ring, remembering the keys that matched. */
  check(presented: string, now: Date = new Date()): KeyCheck {
    const known = this.#matched.get(presented);
    if (known) return standingOf(known.stored, now, known.principal);
    const stored = matchKey(presented, this.lookup);
    if (typeof stored === 'string') return { ok: false, reason: stored };
    if (this.#matched.size >= MATCHED_CAPACITY)
      this.#matched.delete(this.#matched.keys().next().value as string);
    const principal = principalOf(stored);
    this.#matched.set(presented, { stored, principal });
    return standingOf(stored, now, principal);
  }

  get size(): number {
    return this.#keys.size;
  }

  list(): StoredKey[] {
    return [...this.#keys.values()];
  }
}
