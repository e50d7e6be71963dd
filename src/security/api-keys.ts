import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A role an API key can hold. `seller:{id}` sees only the rows of that marketplace seller. */
export type Role = 'ingest' | 'read' | 'admin' | `seller:${string}`;

const ROLE = /^(ingest|read|admin|seller:[A-Za-z0-9_-]{1,64})$/;
const KEY = /^pulse_([a-z0-9]{4,32})_([A-Za-z0-9_-]{20,128})$/;

export function parseRole(text: string): Role {
  if (!ROLE.test(text)) throw new Error(`"${text}" is not a role: use ingest, read, admin or seller:{id}`);
  return text as Role;
}

/** A key as Pulse stores it: never the secret, only its SHA-256 (the secret has 256 bits of entropy). */
export interface StoredKey {
  readonly id: string;
  readonly name: string;
  readonly sha256: string;
  readonly roles: readonly Role[];
  readonly expiresAt: Date | null;
  readonly revoked: boolean;
}

/** Who is calling: the key's id and roles, and the seller it is confined to, if any. */
export interface Principal {
  readonly keyId: string;
  readonly roles: readonly Role[];
  /** Set when the key holds a seller role and neither read nor admin: every answer is scoped to it. */
  readonly sellerId: string | null;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Makes a new key; the full key is shown once, only its hash is kept. */
export function generateKey(
  name: string,
  roles: readonly Role[],
  expiresAt: Date | null = null,
): { key: string; stored: StoredKey } {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return {
    key: `pulse_${id}_${secret}`,
    stored: { id, name, sha256: sha256Hex(secret), roles, expiresAt, revoked: false },
  };
}

export function principalOf(stored: StoredKey): Principal {
  const privileged = stored.roles.some((role) => role === 'read' || role === 'admin');
  const seller = stored.roles.find((role) => role.startsWith('seller:'));
  return {
    keyId: stored.id,
    roles: stored.roles,
    sellerId: !privileged && seller ? seller.slice('seller:'.length) : null,
  };
}

export type KeyCheck =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly reason: 'malformed' | 'unknown' | 'expired' | 'revoked' };

/** Checks a presented key against the stored ones, in constant time for the secret. */
export function checkKey(
  presented: string,
  lookup: (id: string) => StoredKey | undefined,
  now: Date = new Date(),
): KeyCheck {
  const stored = matchKey(presented, lookup);
  return typeof stored === 'string' ? { ok: false, reason: stored } : standingOf(stored, now);
}

/** The stored key whose id and secret the presented key carries. */
export function matchKey(
  presented: string,
  lookup: (id: string) => StoredKey | undefined,
): StoredKey | 'malformed' | 'unknown' {
  const match = KEY.exec(presented);
  if (!match) return 'malformed';
  const stored = lookup(match[1] as string);
  if (!stored) return 'unknown';
  const expected = Buffer.from(stored.sha256, 'hex');
  const actual = Buffer.from(sha256Hex(match[2] as string), 'hex');
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return 'unknown';
  return stored;
}

/** Whether a matched key may be used now: not revoked, not expired. */
export function standingOf(stored: StoredKey, now: Date, principal?: Principal): KeyCheck {
  if (stored.revoked) return { ok: false, reason: 'revoked' };
  if (stored.expiresAt && stored.expiresAt.getTime() <= now.getTime())
    return { ok: false, reason: 'expired' };
  return { ok: true, principal: principal ?? principalOf(stored) };
}

/** Does the principal hold one of `allowed`? `seller` stands for any seller role. */
export function allows(
  principal: Principal,
  allowed: readonly ('ingest' | 'read' | 'admin' | 'seller')[],
): boolean {
  return principal.roles.some((role) => {
    if (role === 'admin') return true;
    if (role.startsWith('seller:')) return allowed.includes('seller');
    return allowed.includes(role as 'ingest' | 'read');
  });
}

/** The key `--demo` prints: fixed, so the README can show it; refused outside demo mode. */
export const DEMO_API_KEY = 'pulse_demo_0000000000000000000000000000000000000000demo';

export function demoStoredKey(): StoredKey {
  const match = KEY.exec(DEMO_API_KEY) as RegExpExecArray;
  return {
    id: match[1] as string,
    name: 'demo (all roles)',
    sha256: sha256Hex(match[2] as string),
    roles: ['admin'],
    expiresAt: null,
    revoked: false,
  };
}
