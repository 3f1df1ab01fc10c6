/**
 * `compression: passthrough` (RFC 7692 end to end): the backend is offered the client's own
 * permessage-deflate offers, the client is answered with exactly what the backend accepted, and the pair
 * then forwards compressed payloads untouched, RSV1 and all, with no zlib context in the gateway.
 *
 * When the backend answers parameters that fit none of the client's offers, the two sides cannot share
 * them: the connection falls back to `negotiate` (the gateway compresses on its own with each side).
 * When the backend declines the extension, neither side gets it.
 * @module
 */
import type { SendOptions } from '../../protocol/connection.js';
import { RSV1 } from '../../protocol/constants.js';
import type { Extension, ExtensionFactory, ExtensionParams } from '../../protocol/extension.js';
import { PERMESSAGE_DEFLATE } from '../../protocol/permessage-deflate.js';
import { PassthroughDeflate, validDeflateOffers } from '../../protocol/permessage-deflate-passthrough.js';
import type { UpgradeRequest } from '../../server/upgrade-request.js';
import type { RouteConfig } from '../config/types.js';
import type { UpstreamHandshake } from './upstream-handshake.js';

/** Both ends of a connection whose compressed messages pass through untouched. */
export class PassthroughLink {
  /** The backend side's extension (client role). */
  readonly upstream: PassthroughDeflate;
  /** The client side's extension (server role), with the backend's parameters. */
  readonly client: PassthroughDeflate;
  /** True once the client's handshake took {@link client} (see `proxyServerOptions`). */
  accepted = false;

  constructor(upstream: PassthroughDeflate) {
    this.upstream = upstream;
    this.client = new PassthroughDeflate(upstream.params);
  }

  /** The client's response and extension: the backend's parameters, as they are (RFC 7692 §7.1). */
  answer(): { params: ExtensionParams; extension: Extension } {
    this.accepted = true;
    return { params: { ...this.client.params }, extension: this.client };
  }
}

/** What a passthrough upgrade settled with, once the backend answered. */
export type PassthroughOutcome =
  | { readonly kind: 'passthrough'; readonly link: PassthroughLink }
  /** Neither side compresses: the client offered nothing valid, or the backend declined. */
  | { readonly kind: 'none'; readonly reason: string | null }
  /** Each side negotiates with the gateway: the backend's parameters fit none of the client's offers. */
  | { readonly kind: 'negotiate'; readonly reason: string };

/**
 * The client's valid permessage-deflate offers when `route` passes compression through, else undefined
 * (the dialer then offers the route's own parameters, or nothing).
 */
export function passthroughOffers(
  route: RouteConfig,
  request: UpgradeRequest,
): ExtensionParams[] | undefined {
  if (route.mode !== 'frames' || route.policies.compression !== 'passthrough') return undefined;
  return validDeflateOffers(request.headers['sec-websocket-extensions']);
}

/** Classifies what the backend answered to the client's `offers` (see {@link PassthroughOutcome}). */
export function settlePassthrough(
  offers: readonly ExtensionParams[],
  upstream: UpstreamHandshake,
): PassthroughOutcome {
  const extension = upstream.extensions.find((candidate) => candidate.name === PERMESSAGE_DEFLATE);
  if (extension instanceof PassthroughDeflate) {
    return { kind: 'passthrough', link: new PassthroughLink(extension) };
  }
  if (extension !== undefined) {
    return {
      kind: 'negotiate',
      reason: 'the backend answered permessage-deflate parameters the client did not offer',
    };
  }
  if (offers.length === 0) return { kind: 'none', reason: null };
  return { kind: 'none', reason: 'the backend declined permessage-deflate' };
}

/**
 * The client side's permessage-deflate answer on a passthrough route: the backend's parameters
 * (valid for the client's offers: the dial checked them against the same offers), the gateway's own
 * negotiation (`negotiate`) after a fallback, or nothing when the backend has no permessage-deflate.
 */
export function answerClient(
  link: PassthroughLink | undefined,
  upstream: UpstreamHandshake,
  offers: readonly ExtensionParams[],
  negotiate: ExtensionFactory,
): { params: ExtensionParams; extension: Extension } | null {
  if (link !== undefined) return link.answer();
  const fallback = upstream.extensions.some((extension) => extension.name === PERMESSAGE_DEFLATE);
  return fallback ? negotiate.accept(offers) : null;
}

// Text was validated when it was received (RFC 6455 §8.1), so sending it on need not check it again.
const FORWARD: readonly SendOptions[] = [
  Object.freeze({ binary: false, utf8Valid: true }),
  Object.freeze({ binary: true }),
  Object.freeze({ binary: false, encodedRsv: RSV1 }),
  Object.freeze({ binary: true, encodedRsv: RSV1 }),
];

/** Send options of a forwarded message: a compressed one keeps its payload and RSV1 (RFC 7692 §6). */
export function forwardOptions(isBinary: boolean, compressed: boolean): SendOptions {
  return FORWARD[(compressed ? 2 : 0) + (isBinary ? 1 : 0)]!;
}
