/**
 * Reading configured claims out of a verified JWT payload: the user, tenant and permissions claims may
 * be nested (`realm_access.roles`) or namespaced with dots (`https://example.com/roles`).
 * @module
 */

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The claim called `name`: a top-level claim of exactly that name first (namespaced claim names contain
 * dots), else the dotted path through nested objects. Undefined when absent.
 */
export function claimAt(claims: Readonly<Record<string, unknown>>, name: string): unknown {
  if (Object.hasOwn(claims, name)) return claims[name];
  let value: unknown = claims;
  for (const part of name.split('.')) {
    if (!isRecord(value) || !Object.hasOwn(value, part)) return undefined;
    value = value[part];
  }
  return value;
}

/** A claim usable as an identifier: a non-empty string, or a finite number as text; else undefined. */
export function stringClaim(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/**
 * Permissions from a claim: an array of strings, or one space-separated string (the OAuth `scope`
 * form, RFC 8693 §4.2). An absent claim grants none (`[]`); any other shape is invalid (`null`).
 */
export function permissionsOf(value: unknown): string[] | null {
  if (value === undefined) return [];
  if (typeof value === 'string') return value.split(' ').filter((scope) => scope !== '');
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return [...value];
  return null;
}
