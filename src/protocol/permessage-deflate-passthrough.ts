/**
 * permessage-deflate for a proxy that forwards compressed messages untouched (RFC 7692 end to end): it
 * negotiates like the real extension, but holds no zlib state. {@link PassthroughDeflate} hands received
 * payloads over still compressed and remembers whether the last message carried RSV1; the proxy sends
 * them on with `SendOptions.encodedRsv`. Both sides of the proxy must have agreed on the very same
 * parameters, so that what one peer compressed is what the other peer expects to inflate.
 *
 * The client-role factory ({@link passthroughDeflateOffer}) offers a client's own offers to a backend and
 * tells a response that fits one of them (passthrough possible) from one that does not (the proxy then
 * compresses on its own with that backend: a real {@link PerMessageDeflate}).
 * @module
 */
import { RSV1 } from './constants.js';
import type { Extension, ExtensionFactory, ExtensionParams } from './extension.js';
import { parseExtensions } from './extension-header.js';
import { PERMESSAGE_DEFLATE, perMessageDeflate } from './permessage-deflate.js';
import { answerOffers, confirmResponse, type PerMessageDeflateOptions } from './permessage-deflate-params.js';

/** permessage-deflate on one side of a proxy, passing compressed payloads through. */
export class PassthroughDeflate implements Extension {
  readonly name = PERMESSAGE_DEFLATE;
  /** RFC 7692 §6: RSV1 marks a compressed message. */
  readonly rsv = RSV1;
  /** Payloads stay compressed: the receiver must not read them as text. */
  readonly opaque = true;
  /** The negotiated parameters (identical on both sides of the proxy). */
  readonly params: ExtensionParams;
  /** The message being delivered arrived compressed; see {@link takeCompressed}. */
  private compressed = false;

  constructor(params: ExtensionParams) {
    this.params = params;
  }

  /** Never compresses: messages the proxy forwards uncompressed stay so (RFC 7692 §6.1 allows it). */
  encode(): null {
    return null;
  }

  /**
   * Returns each piece as it is. The size limit still holds: the receiver counts what this returns,
   * so it applies to the compressed size.
   */
  decode(piece: Uint8Array, fin: boolean): Uint8Array {
    if (fin) this.compressed = true;
    return piece;
  }

  /**
   * True when the message delivered last carried RSV1, i.e. its payload is compressed; clears the mark.
   * Call it from the message callback (the receiver delivers a message synchronously after its last
   * piece went through {@link decode}), once per message.
   */
  takeCompressed(): boolean {
    const compressed = this.compressed;
    this.compressed = false;
    return compressed;
  }

  /** Nothing to release. */
  close(): void {}
}

/** The permessage-deflate offers of a `Sec-WebSocket-Extensions` request value that are valid (RFC 7692 §7.1). */
export function validDeflateOffers(header: string | undefined): ExtensionParams[] {
  if (header === undefined || header === '') return [];
  let offers: ReturnType<typeof parseExtensions>;
  try {
    offers = parseExtensions(header);
  } catch {
    return [];
  }
  // Only offers a server could accept as they are; a repeated parameter declines an offer (§7.1).
  return offers
    .filter((offer) => offer.name === PERMESSAGE_DEFLATE && offer.repeatedParam === undefined)
    .map((offer) => offer.params)
    .filter((params) => answerOffers([params], {}) !== null);
}

/** The client options that produce `offer` (a valid one), so that the response can be checked against it. */
function optionsOfOffer(offer: ExtensionParams): PerMessageDeflateOptions {
  const clientBits = offer.client_max_window_bits;
  const serverBits = offer.server_max_window_bits;
  return {
    serverNoContextTakeover: offer.server_no_context_takeover === true,
    clientNoContextTakeover: offer.client_no_context_takeover === true,
    serverMaxWindowBits: typeof serverBits === 'string' ? Number(serverBits) : undefined,
    clientMaxWindowBits: clientBits === undefined ? false : clientBits === true ? true : Number(clientBits),
  };
}

/** True when `response` is a valid answer to one of `offers`, as their client would check it (§7.1). */
export function fitsAnOffer(response: ExtensionParams, offers: readonly ExtensionParams[]): boolean {
  return offers.some((offer) => {
    try {
      confirmResponse(response, optionsOfOffer(offer));
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Client role, for a proxy dialing a backend on behalf of a client: offers the client's own valid
 * `offers` as they are. A response that fits one of them yields a {@link PassthroughDeflate}; any other
 * well-formed response yields a real permessage-deflate that honours it (our compressor within the
 * window the backend allows, our inflater as large as the backend's), tuned by `fallback`, so the proxy
 * falls back to compressing on its own with that backend. A malformed response fails the handshake.
 * @throws RangeError for an option of `fallback` out of range.
 */
export function passthroughDeflateOffer(
  offers: readonly ExtensionParams[],
  fallback: PerMessageDeflateOptions = {},
): ExtensionFactory {
  const { serverNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits, ...tuning } = fallback;
  // Offered nothing of our own: accept whatever the backend sets for our compressor.
  const lenient = perMessageDeflate({ ...tuning, clientMaxWindowBits: true });
  return {
    name: PERMESSAGE_DEFLATE,
    offer: () => offers.map((params) => ({ ...params })),
    accept: () => null,
    confirm(params: ExtensionParams): Extension {
      if (fitsAnOffer(params, offers)) return new PassthroughDeflate({ ...params });
      return lenient.confirm(params);
    },
  };
}
