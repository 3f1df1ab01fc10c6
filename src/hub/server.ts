/**
 * The `WebSocketServer` a hub is served on: `conduit.v1` negotiation and the upgrade policies (origin
 * allow list, upgrade rate limit, JWT) composed before the application's own upgrade hook.
 * @module
 */
import { composeUpgradeHooks } from '../server/middleware/compose.js';
import { jwtAuth } from '../server/middleware/jwt-auth.js';
import { originAllowList } from '../server/middleware/origin.js';
import { type UpgradeRateLimitOptions, upgradeRateLimit } from '../server/middleware/rate-limit.js';
import type { UpgradeHook, WebSocketServerOptions } from '../server/options.js';
import { WebSocketServer } from '../server/server.js';
import type { UpgradeRequest } from '../server/upgrade-request.js';
import type { Hub } from './hub.js';
import { HUB_SUBPROTOCOL } from './wire.js';

/** Options of `Hub.attach`: a `WebSocketServer`'s, plus the hub's upgrade policies. */
export interface HubServerOptions extends WebSocketServerOptions {
  /**
   * Origins browsers may connect from (exact, `https://*.example.com`, or `*`), against cross-site
   * WebSocket hijacking. Requests without `Origin` (non-browser clients) are accepted. Default: any origin.
   */
  origins?: string[];
  /** Upgrades per second per client IP; beyond, 429 with `Retry-After`. Default: unlimited. */
  upgradeRateLimit?: UpgradeRateLimitOptions;
}

/** Refuses clients that offer subprotocols but not ours: they would not understand the hub (400). */
function subprotocolCheck(request: UpgradeRequest): ReturnType<UpgradeHook> {
  const offered = request.headers['sec-websocket-protocol'];
  if (offered === undefined) return undefined;
  const protocols = offered.split(',').map((protocol) => protocol.trim());
  if (protocols.includes(HUB_SUBPROTOCOL)) return undefined;
  return { status: 400, message: `this endpoint speaks the ${HUB_SUBPROTOCOL} subprotocol` };
}

/** Creates the server of `Hub.attach`. */
export function createHubServer(hub: Hub, options: HubServerOptions): WebSocketServer {
  const { origins, upgradeRateLimit: rateLimit, upgrade, ...serverOptions } = options;
  const hooks: UpgradeHook[] = [subprotocolCheck];
  if (origins !== undefined) hooks.push(originAllowList(origins, { allowMissing: true }));
  if (rateLimit !== undefined) hooks.push(upgradeRateLimit(rateLimit));
  // A token at the upgrade is checked there (401 when bad); without one, first-message auth may follow.
  if (hub.jwtVerifier !== null) hooks.push(jwtAuth(hub.jwtVerifier, { required: false }));
  if (upgrade !== undefined) hooks.push(upgrade);
  return new WebSocketServer({
    ...serverOptions,
    upgrade: composeUpgradeHooks(...hooks),
    handleProtocols: (protocols) => (protocols.has(HUB_SUBPROTOCOL) ? HUB_SUBPROTOCOL : false),
  });
}
