import type { Tokeniser } from './tokeniser.js';

/** Per event type: the data fields to drop and the ones to replace by `customer_token`. */
export interface PiiPolicy {
  readonly drop: readonly string[];
  readonly tokenise: readonly string[];
}

const FALLBACK_POLICY: PiiPolicy = { drop: ['email', 'name', 'phone'], tokenise: ['customer_id'] };
const REDACTED = '[redacted]';
const PHONE_PATTERN = /\+\d[\d\s().-]{6,}\d/g; // international numbers only: dates and ids stay readable

/**
 * Returns a copy of `data` that is safe to store: PII fields gone, customer_id replaced by its token.
 * Only top-level fields carry PII in the contracts, so the copy is shallow.
 */
export function protectData(
  data: Record<string, unknown>,
  policy: PiiPolicy,
  tokeniser: Tokeniser,
): Record<string, unknown> {
  const safe: Record<string, unknown> = {};
  for (const key of Object.keys(data)) {
    if (policy.drop.includes(key)) continue;
    if (policy.tokenise.includes(key)) {
      const value = data[key];
      if (typeof value === 'string') safe.customer_token = tokeniser.token(value);
      continue;
    }
    safe[key] = data[key];
  }
  return safe;
}

/**
 * Makes an event that failed its contract safe for the quarantine: we cannot trust its shape, so
 * PII keys are redacted wherever they appear and customer ids are tokenised, at any depth.
 */
export function redactForQuarantine(
  value: unknown,
  tokeniser: Tokeniser,
  policy: PiiPolicy = FALLBACK_POLICY,
): unknown {
  return redactValue(value, tokeniser, policy, 0);
}

function redactValue(value: unknown, tokeniser: Tokeniser, policy: PiiPolicy, depth: number): unknown {
  if (depth > 64) return REDACTED;
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, tokeniser, policy, depth + 1));
  if (value === null || typeof value !== 'object') return value;
  const safe: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (policy.drop.includes(key)) safe[key] = REDACTED;
    else if (policy.tokenise.includes(key))
      safe.customer_token = typeof item === 'string' ? tokeniser.token(item) : REDACTED;
    else
      Object.defineProperty(safe, key, {
        value: redactValue(item, tokeniser, policy, depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return safe;
}

/** Longest string kept in a quarantined payload: enough to diagnose, bounded against hostile input. */
const MAX_STRING_CHARS = 4_096;

/**
 * For text we could not parse: e-mail addresses and phone numbers are masked. The e-mail scan is
 * linear (it expands around each '@'): a backtracking pattern took minutes on a 200 kB string.
 */
export function redactText(text: string): string {
  const bounded = text.length > MAX_STRING_CHARS ? `${text.slice(0, MAX_STRING_CHARS)}…[truncated]` : text;
  return maskEmails(bounded).replace(PHONE_PATTERN, REDACTED);
}

const NOT_IN_ADDRESS = new Set([...' \t\r\n"\'<>@,;:()[]{}']);

function maskEmails(text: string): string {
  let out = '';
  let cursor = 0;
  let at = text.indexOf('@');
  while (at !== -1) {
    let start = at;
    while (start > cursor && !NOT_IN_ADDRESS.has(text[start - 1] as string)) start -= 1;
    let end = at + 1;
    while (end < text.length && !NOT_IN_ADDRESS.has(text[end] as string)) end += 1;
    const domain = text.slice(at + 1, end);
    if (start < at && /\.[a-z]{2,}$/i.test(domain)) {
      out += `${text.slice(cursor, start)}${REDACTED}`;
      cursor = end;
    }
    at = text.indexOf('@', Math.max(end, at + 1));
  }
  return out + text.slice(cursor);
}
