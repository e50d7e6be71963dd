import { readFileSync } from 'node:fs';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { PulseError } from '../errors.js';
import type { Principal, Role } from './api-keys.js';

/** Where the signing keys come from and which claims a token must carry. */
export interface JwtConfig {
  readonly jwksUrl?: string;
  readonly jwksFile?: string;
  readonly issuer: string;
  readonly audience: string;
  /** The claim holding Pulse roles: an array of strings or one space-separated string. */
  readonly rolesClaim: string;
  /** A claim naming the seller a token is confined to (adds `seller:{value}` to its roles). */
  readonly sellerClaim?: string;
  /** Only asymmetric algorithms: an HMAC secret would have to be shared with every client. */
  readonly algorithms: readonly string[];
  readonly clockToleranceS: number;
}

export const DEFAULT_JWT_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'EdDSA',
];

const ROLE = /^(ingest|read|admin|seller:[A-Za-z0-9_-]{1,64})$/;
const SELLER = /^[A-Za-z0-9_-]{1,64}$/;

/** Three base64url parts: what a compact JWS looks like (a Pulse key never has a dot). */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(token);
}

export interface JwtVerifier {
  /** The principal of a valid token; throws a PulseError with a precise code otherwise. */
  verify(token: string): Promise<Principal>;
  /** Whether the key set could be fetched last time it was needed (for /readyz). */
  status(): { status: 'ok' | 'failing' | 'unknown'; error?: string; source: string };
}

/** Verifies Bearer JWTs against a JWKS (remote, cached and refreshed by jose, or a local file). */
export function createJwtVerifier(config: JwtConfig): JwtVerifier {
  let keys: JWTVerifyGetKey;
  const source = config.jwksUrl ?? config.jwksFile ?? '';
  if (config.jwksUrl) {
    keys = createRemoteJWKSet(new URL(config.jwksUrl), { timeoutDuration: 5_000, cooldownDuration: 30_000 });
  } else if (config.jwksFile) {
    keys = createLocalJWKSet(JSON.parse(readFileSync(config.jwksFile, 'utf8')) as JSONWebKeySet);
  } else {
    throw new PulseError('PULSE_ERR_CONFIG', 'auth.jwt needs jwks_url or jwks_file');
  }
  let fetchState: { status: 'ok' | 'failing' | 'unknown'; error?: string } = {
    status: config.jwksUrl ? 'unknown' : 'ok',
  };
  return {
    async verify(token) {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          issuer: config.issuer,
          audience: config.audience,
          algorithms: [...config.algorithms],
          clockTolerance: config.clockToleranceS,
          requiredClaims: ['exp'],
        }));
        fetchState = { status: 'ok' };
      } catch (error) {
        throw tokenError(error, (message) => (fetchState = { status: 'failing', error: message }));
      }
      return principalOfClaims(payload, config);
    },
    status: () => ({ ...fetchState, source }),
  };
}

/** Maps jose's failure onto one catalogue code, with a message saying which check failed. */
function tokenError(error: unknown, jwksDown: (message: string) => void): PulseError {
  const field = { field: 'authorization' };
  if (error instanceof errors.JWTExpired)
    return new PulseError('PULSE_ERR_TOKEN_EXPIRED', 'The token has expired (exp)', field);
  if (error instanceof errors.JWTClaimValidationFailed)
    return new PulseError(
      'PULSE_ERR_TOKEN_CLAIM_INVALID',
      `The token's "${error.claim}" claim is not accepted: ${error.reason === 'missing' ? 'missing' : error.message}`,
      field,
    );
  if (error instanceof errors.JOSEAlgNotAllowed)
    return new PulseError(
      'PULSE_ERR_TOKEN_INVALID',
      'The token is signed with an algorithm not allowed',
      field,
    );
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys)
    return new PulseError(
      'PULSE_ERR_TOKEN_UNKNOWN_KEY',
      'No key of the key set matches the token (kid, alg)',
      field,
    );
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return new PulseError('PULSE_ERR_TOKEN_INVALID', 'The token signature does not verify', field);
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || isFetchFailure(error)) {
    const message = error instanceof Error ? error.message : String(error);
    jwksDown(message);
    return new PulseError('PULSE_ERR_JWKS_UNAVAILABLE', 'The signing keys could not be fetched', {
      cause: error,
    });
  }
  if (error instanceof errors.JOSEError)
    return new PulseError('PULSE_ERR_TOKEN_INVALID', `The token is malformed (${error.code})`, field);
  return new PulseError('PULSE_ERR_TOKEN_INVALID', 'The token could not be verified', {
    ...field,
    cause: error,
  });
}

function isFetchFailure(error: unknown): boolean {
  return (
    error instanceof TypeError ||
    (error instanceof errors.JOSEError &&
      error.code === 'ERR_JOSE_GENERIC' &&
      /fetch|response/i.test(error.message))
  );
}

/** The token's roles: those of the roles claim Pulse knows (others are the IdP's business), plus its seller. */
export function principalOfClaims(payload: JWTPayload, config: JwtConfig): Principal {
  const claim = payload[config.rolesClaim];
  const listed = Array.isArray(claim) ? claim : typeof claim === 'string' ? claim.split(/\s+/) : [];
  const roles = new Set<Role>(listed.filter((r): r is Role => typeof r === 'string' && ROLE.test(r)));
  if (config.sellerClaim !== undefined) {
    const seller = payload[config.sellerClaim];
    if (seller !== undefined) {
      if (typeof seller !== 'string' || !SELLER.test(seller))
        throw new PulseError(
          'PULSE_ERR_TOKEN_CLAIM_INVALID',
          `The token's "${config.sellerClaim}" claim is not a seller id`,
          {
            field: 'authorization',
          },
        );
      roles.add(`seller:${seller}`);
    }
  }
  const list = [...roles];
  const privileged = list.some((role) => role === 'read' || role === 'admin');
  const seller = list.find((role) => role.startsWith('seller:'));
  return {
    keyId: `jwt:${payload.sub ?? '?'}`,
    roles: list,
    sellerId: !privileged && seller ? seller.slice('seller:'.length) : null,
  };
}
