export { createTokeniser, DEMO_TOKEN_KEY, MIN_TOKEN_KEY_LENGTH } from './tokeniser.js';
export type { Tokeniser } from './tokeniser.js';
export { protectData, redactForQuarantine, redactText } from './pii.js';
export type { PiiPolicy } from './pii.js';
