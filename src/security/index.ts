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
