/**
 * JWT verification with jose: an HMAC secret, a public key or a remote JWKS (cached, refetched on an
 * unknown `kid` after a cooldown), with typed errors that say why a token was refused.
 * @module
 */
import { createPublicKey, type KeyObject, type JsonWebKey as NodeJwk } from 'node:crypto';
import { createRemoteJWKSet, errors, type JWK, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { claimAt, permissionsOf, stringClaim } from './jwt-claims.js';

/**
 * Why a token was refused: `missing` (none sent), `malformed` (not a compact JWS/JWT), `invalid` (other
 * refusals, e.g. an `alg` not allowed), `signature` (bad signature or no key for its `kid`), `expired`,
 * `not_before`, `audience`, `issuer`, `claims` (a configured user/tenant/permissions claim is absent or
 * unusable), and `unavailable`: the JWKS cannot be fetched — the server's fault, not the token's.
 */
export type AuthErrorCode =
  | 'missing'
  | 'malformed'
  | 'invalid'
  | 'signature'
  | 'expired'
  | 'not_before'
  | 'audience'
  | 'issuer'
  | 'claims'
  | 'unavailable';

/** Raised by {@link JwtVerifier.verify}; `message` is safe to show to the client. */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  constructor(
    readonly code: AuthErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Who a verified token speaks for. */
export interface AuthInfo {
  /** The `userClaim` (default `sub`). */
  user: string;
  /** The `tenantClaim`, or `defaultTenant` when none is configured. */
  tenant: string;
  /** Every claim of the token. */
  claims: JWTPayload;
  /** The `permissionsClaim` (an array of strings, or a space-separated string as OAuth `scope`). */
  permissions?: string[];
}

/** Options of {@link createJwtVerifier}. Exactly one of `secret`, `publicKey` and `jwksUrl` is required. */
export interface JwtVerifierOptions {
  /** HMAC key (HS256/384/512); at least 32 bytes (RFC 7518 §3.2). */
  secret?: string | Uint8Array;
  /** A public key: KeyObject, CryptoKey, JWK or PEM (SPKI or certificate) text. */
  publicKey?: KeyObject | CryptoKey | JWK | string;
  /** URL of a JWK Set; fetched on first use, cached, refetched when a token names an unknown `kid`. */
  jwksUrl?: string;
  /** Least time between two JWKS fetches caused by unknown `kid`s, in ms. Default 30_000. */
  jwksCooldownMs?: number;
  /** Age after which the cached JWKS is refetched, in ms. Default 600_000. */
  jwksCacheMaxAgeMs?: number;
  /** JWKS fetch timeout in ms. Default 5000. */
  jwksTimeoutMs?: number;
  /** Accepted `iss` value(s). Default: not checked. */
  issuer?: string | string[];
  /** Accepted `aud` value(s). Default: not checked. */
  audience?: string | string[];
  /** Accepted `alg`s. Default: HS256/384/512 with `secret`, the usual asymmetric ones otherwise. */
  algorithms?: string[];
  /** Leeway for `exp` and `nbf`, in seconds. Default 5. */
  clockToleranceSec?: number;
  /** Claim naming the user (dotted paths reach nested claims). Default `sub`. */
  userClaim?: string;
  /** Claim naming the tenant; when set, tokens without it are refused. Default: none. */
  tenantClaim?: string;
  /** Tenant of every token when `tenantClaim` is not set. Default `default`. */
  defaultTenant?: string;
  /** Claim holding the permissions. Default: none (`permissions` stays undefined). */
  permissionsClaim?: string;
}

/** Verifies tokens; see {@link createJwtVerifier}. */
export interface JwtVerifier {
  /** Resolves with who the token speaks for, or rejects with an {@link AuthError}. */
  verify(token: string): Promise<AuthInfo>;
}

const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'];
// Never mix HMAC with public-key algorithms: a public key must not be usable as an HMAC secret.
const ASYMMETRIC_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
  'Ed25519',
];

/** jose error codes and what they mean for the client. */
const JOSE_CODES: Readonly<Record<string, AuthErrorCode>> = {
  ERR_JWT_EXPIRED: 'expired',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'signature',
  ERR_JWKS_NO_MATCHING_KEY: 'signature',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'signature',
  ERR_JWS_INVALID: 'malformed',
  ERR_JWT_INVALID: 'malformed',
};

const CLAIM_CODES: Readonly<Record<string, AuthErrorCode>> = {
  aud: 'audience',
  iss: 'issuer',
  nbf: 'not_before',
};

const MESSAGES: Readonly<Record<AuthErrorCode, string>> = {
  missing: 'No token',
  malformed: 'The token is malformed',
  invalid: 'The token is invalid',
  signature: 'The token signature is invalid',
  expired: 'The token has expired',
  not_before: 'The token is not valid yet',
  audience: 'The token audience is not accepted',
  issuer: 'The token issuer is not accepted',
  claims: 'The token claims are invalid',
  unavailable: 'Tokens cannot be verified now',
};

/** Creates an {@link AuthError} with the standard message of `code`. */
export function authError(code: AuthErrorCode, cause?: unknown): AuthError {
  return new AuthError(code, MESSAGES[code], cause === undefined ? undefined : { cause });
}

function toAuthError(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  if (error instanceof errors.JWTClaimValidationFailed) {
    return authError(CLAIM_CODES[error.claim] ?? 'claims', error);
  }
  const code = error instanceof errors.JOSEError ? JOSE_CODES[error.code] : undefined;
  return authError(code ?? 'invalid', error);
}

/** Remote JWKS whose fetch failures become `unavailable`, while key mismatches stay token errors. */
function remoteKeys(options: JwtVerifierOptions, url: string): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(new URL(url), {
    cooldownDuration: options.jwksCooldownMs ?? 30_000,
    cacheMaxAge: options.jwksCacheMaxAgeMs ?? 600_000,
    timeoutDuration: options.jwksTimeoutMs ?? 5000,
  });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      const tokenFault =
        error instanceof errors.JWKSNoMatchingKey ||
        error instanceof errors.JWKSMultipleMatchingKeys ||
        error instanceof errors.JOSEAlgNotAllowed ||
        error instanceof errors.JOSENotSupported;
      throw tokenFault ? error : authError('unavailable', error);
    }
  };
}

type VerificationKey = Uint8Array | KeyObject | CryptoKey | JWTVerifyGetKey;

function secretBytes(secret: string | Uint8Array): Uint8Array {
  const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  if (bytes.length < 32) throw new RangeError('secret must be at least 32 bytes (RFC 7518 §3.2)');
  return bytes;
}

function publicKeyOf(key: KeyObject | CryptoKey | JWK | string): KeyObject | CryptoKey {
  if (typeof key === 'string') return createPublicKey(key);
  if ('kty' in key && typeof key.kty === 'string')
    return createPublicKey({ key: key as NodeJwk, format: 'jwk' });
  return key as KeyObject | CryptoKey;
}

function verificationKey(options: JwtVerifierOptions): { key: VerificationKey; algorithms: string[] } {
  const given = Number(options.secret !== undefined) + Number(options.publicKey !== undefined);
  if (given + Number(options.jwksUrl !== undefined) !== 1) {
    throw new TypeError('Exactly one of "secret", "publicKey" and "jwksUrl" must be given');
  }
  if (options.secret !== undefined) {
    return { key: secretBytes(options.secret), algorithms: options.algorithms ?? HMAC_ALGORITHMS };
  }
  const key =
    options.publicKey === undefined ? remoteKeys(options, options.jwksUrl!) : publicKeyOf(options.publicKey);
  return { key, algorithms: options.algorithms ?? ASYMMETRIC_ALGORITHMS };
}

/** Builds the AuthInfo of a verified payload; throws `claims` when a configured claim is unusable. */
function authInfoOf(claims: JWTPayload, options: JwtVerifierOptions): AuthInfo {
  const user = stringClaim(claimAt(claims, options.userClaim ?? 'sub'));
  if (user === undefined) throw authError('claims');
  let tenant = options.defaultTenant ?? 'default';
  if (options.tenantClaim !== undefined) {
    const value = stringClaim(claimAt(claims, options.tenantClaim));
    if (value === undefined) throw authError('claims');
    tenant = value;
  }
  const info: AuthInfo = { user, tenant, claims };
  if (options.permissionsClaim !== undefined) {
    const permissions = permissionsOf(claimAt(claims, options.permissionsClaim));
    if (permissions === null) throw authError('claims');
    info.permissions = permissions;
  }
  return info;
}

/**
 * Creates a token verifier. Checks the signature against the configured key and `algorithms`, `exp`
 * and `nbf` (with `clockToleranceSec`), `iss` and `aud` when configured, and the presence of the user
 * (and tenant and permissions) claims. Configuration errors throw here; token errors reject `verify`
 * with an {@link AuthError}.
 */
export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  const { key, algorithms } = verificationKey(options);
  const verifyOptions = {
    algorithms,
    clockTolerance: options.clockToleranceSec ?? 5,
    ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
    ...(options.audience === undefined ? {} : { audience: options.audience }),
  };
  return {
    async verify(token: string): Promise<AuthInfo> {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, key as JWTVerifyGetKey, verifyOptions));
      } catch (error) {
        throw toAuthError(error);
      }
      return authInfoOf(payload, options);
    },
  };
}
