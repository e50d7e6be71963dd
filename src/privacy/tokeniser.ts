import { createHmac } from 'node:crypto';

/**
 * The key every demo install shares. Pulse refuses it outside `--demo`, so production tokens can
 * never be recomputed by someone who only read this file.
 */
export const DEMO_TOKEN_KEY = 'pulse-demo-token-key-not-for-production';

export const MIN_TOKEN_KEY_LENGTH = 16;

/** Keyed, deterministic pseudonyms: the same customer always gets the same token under one key. */
export interface Tokeniser {
  token(value: string): string;
}

export function createTokeniser(key: string): Tokeniser {
  if (key.length < MIN_TOKEN_KEY_LENGTH) {
    throw new Error(`token key must be at least ${MIN_TOKEN_KEY_LENGTH} characters`);
  }
  return {
    // HMAC-SHA256 truncated to 128 bits: collision-safe at any realistic customer count, half the bytes.
    token: (value) => createHmac('sha256', key).update(value).digest('hex').slice(0, 32),
  };
}
