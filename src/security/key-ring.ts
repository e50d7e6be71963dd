import type { StoredKey } from './api-keys.js';

/** The keys Pulse accepts right now, by id: from the config file, the warehouse and demo mode. */
export class KeyRing {
  #keys = new Map<string, StoredKey>();

  constructor(keys: Iterable<StoredKey> = []) {
    this.replace(keys);
  }

  replace(keys: Iterable<StoredKey>): void {
    this.#keys = new Map([...keys].map((key) => [key.id, key]));
  }

  set(key: StoredKey): void {
    this.#keys.set(key.id, key);
  }

  lookup = (id: string): StoredKey | undefined => this.#keys.get(id);

  get size(): number {
    return this.#keys.size;
  }

  list(): StoredKey[] {
    return [...this.#keys.values()];
  }
}
