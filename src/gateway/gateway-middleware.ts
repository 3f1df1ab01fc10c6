/**
 * The upgrade middleware of a route, built once per configuration load from its `middleware:` section:
 * cheap checks first (IP lists, upgrade rate, origin), the JWT last, the first refusal wins. The
 * concurrent-connections-per-IP limit is separate: it holds a slot for a connection's whole life, so
 * it is counted by the gateway and survives reloads (a reload must not hand every client fresh slots).
 * @module
 */
import { normalizeIp } from '../server/middleware/client-ip.js';
import { composeUpgradeHooks } from '../server/middleware/compose.js';
import { ipFilter } from '../server/middleware/ip-filter.js';
import { createJwtVerifier } from '../server/middleware/jwt.js';
import { jwtAuth } from '../server/middleware/jwt-auth.js';
import { originAllowList } from '../server/middleware/origin.js';
import { upgradeRateLimit } from '../server/middleware/rate-limit.js';
import type { UpgradeHook, UpgradeRejection } from '../server/options.js';
import type { UpgradeRequest } from '../server/upgrade-request.js';
import type { RouteMiddleware } from './config/types.js';

/** The JWT hook of a route's `jwt:` section. */
function jwtHook(jwt: NonNullable<RouteMiddleware['jwt']>): UpgradeHook {
  const verifier = createJwtVerifier({
    ...(jwt.secret === undefined ? {} : { secret: jwt.secret }),
    ...(jwt.jwksUrl === undefined ? {} : { jwksUrl: jwt.jwksUrl }),
    ...(jwt.issuer === undefined ? {} : { issuer: jwt.issuer }),
    ...(jwt.audience === undefined ? {} : { audience: jwt.audience }),
  });
  return jwtAuth(verifier, { queryParam: jwt.queryParam });
}

/**
 * The hook chain of a route's middleware, or null when it has none. Throws (TypeError, RangeError)
 * when a part cannot be built; the schema has already refused what it can see.
 */
export function routeHook(middleware: RouteMiddleware): UpgradeHook | null {
  const hooks: UpgradeHook[] = [];
  if (middleware.ipAllow !== null || middleware.ipDeny !== null) {
    hooks.push(ipFilter({ allow: middleware.ipAllow ?? undefined, deny: middleware.ipDeny ?? undefined }));
  }
  if (middleware.upgradeRateLimit !== null) hooks.push(upgradeRateLimit(middleware.upgradeRateLimit));
  if (middleware.origins !== null) hooks.push(originAllowList(middleware.origins));
  if (middleware.jwt !== null) hooks.push(jwtHook(middleware.jwt));
  if (hooks.length === 0) return null;
  return hooks.length === 1 ? hooks[0]! : composeUpgradeHooks(...hooks);
}

/** A hook's answer as a refusal, or null when it lets the handshake go on. */
export function refusalOf(result: Awaited<ReturnType<UpgradeHook>>): UpgradeRejection | null {
  if (result === undefined || result === true) return null;
  if (result === false) return { status: 403, message: 'Forbidden' };
  return result;
}

/** Runs a route's hook chain (sync or async) and settles with its refusal, or null. */
export async function runRouteHook(
  hook: UpgradeHook | null,
  request: UpgradeRequest,
): Promise<UpgradeRejection | null> {
  if (hook === null) return null;
  return refusalOf(await hook(request));
}

/** Concurrent connections per route and client address. */
export class IpConnectionCounts {
  private readonly routes = new Map<string, Map<string, number>>();

  /**
   * Takes a slot of `route` for `address` when fewer than `limit` are held (0: unlimited). Returns the
   * release function (idempotent), or null when the address is at its limit.
   */
  acquire(route: string, address: string, limit: number): (() => void) | null {
    if (limit <= 0) return () => {};
    const ip = normalizeIp(address);
    let counts = this.routes.get(route);
    if (counts === undefined) {
      counts = new Map();
      this.routes.set(route, counts);
    }
    const held = counts.get(ip) ?? 0;
    if (held >= limit) return null;
    counts.set(ip, held + 1);
    let released = false;
    const table = counts;
    return () => {
      if (released) return;
      released = true;
      const now = (table.get(ip) ?? 1) - 1;
      if (now > 0) table.set(ip, now);
      else table.delete(ip);
    };
  }

  /** Slots held by `address` on `route`. */
  held(route: string, address: string): number {
    return this.routes.get(route)?.get(normalizeIp(address)) ?? 0;
  }
}
