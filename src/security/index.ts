export {
  allows,
  checkKey,
  DEMO_API_KEY,
  demoStoredKey,
  generateKey,
  parseRole,
  principalOf,
  sha256Hex,
} from './api-keys.js';
export type { KeyCheck, Principal, Role, StoredKey } from './api-keys.js';
export { KeyRing } from './key-ring.js';
export { createJwtVerifier, DEFAULT_JWT_ALGORITHMS, looksLikeJwt, principalOfClaims } from './jwt.js';
export type { JwtConfig, JwtVerifier } from './jwt.js';
