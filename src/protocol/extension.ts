/**
 * The pluggable extension interface (RFC 6455 §9). permessage-deflate is one implementation; several
 * negotiated extensions compose in their negotiated order.
 * @module
 */

/** Parameters of one extension offer or response: `name=value` pairs, or `true` for a bare name. */
export type ExtensionParams = Record<string, string | true>;

/** One element of a `Sec-WebSocket-Extensions` header (RFC 6455 §9.1). */
export interface ExtensionOffer {
  readonly name: string;
  readonly params: ExtensionParams;
  /**
   * Set when a parameter name appeared more than once in this element (the grammar allows it; `params`
   * keeps the first value). Such an offer is declined, as RFC 7692 §7.1 requires for permessage-deflate.
   */
  readonly repeatedParam?: string;
}

/** What a message being sent asks of the extensions. */
export interface OutgoingMessageInfo {
  readonly isText: boolean;
  /** `false` when the sender asked not to compress (or otherwise transform) this message. */
  readonly compress: boolean;
}

/** A negotiated extension, one instance per connection. */
export interface Extension {
  /** Registered extension name, e.g. `permessage-deflate`. */
  readonly name: string;
  /** The RSV bits this extension claims, as bits of the first header byte (RSV1 = 0x40). */
  readonly rsv: number;
  /**
   * True when {@link decode} hands messages over still encoded (a proxy forwarding compressed payloads
   * untouched). The receiver then cannot check the UTF-8 of text messages carrying this extension's RSV
   * bits and leaves it to the endpoint that decodes them. Absent: false.
   */
  readonly opaque?: boolean;
  /**
   * Transforms a whole outgoing message payload. Returns `null` to leave the message as it is (its RSV
   * bits then stay clear); otherwise the returned payload is sent with `rsv` set on the first frame.
   */
  encode(payload: Uint8Array, info: OutgoingMessageInfo): Uint8Array | null;
  /**
   * Same as {@link encode} but independent of this connection's state, so the result can be shared by
   * many connections (prepared/broadcast messages). `cache` belongs to the prepared message: the
   * extension memoizes its result there under its own key. Returns `null` when it cannot or will not
   * transform the message this way. After a shared encoding is sent, the extension must not rely on its
   * own history for later messages.
   */
  encodeShared?(
    payload: Uint8Array,
    info: OutgoingMessageInfo,
    cache: Map<string, unknown>,
  ): Uint8Array | null;
  /**
   * Streaming inverse transform of an incoming message whose first frame carried `rsv`. Called once per
   * received piece of payload in order; `fin` is true on the last piece of the message. `maxOutput` is
   * how many more bytes the message may grow by: producing more throws a ProtocolError with close code
   * 1009. Returns the bytes this piece produced (possibly empty).
   */
  decode(piece: Uint8Array, fin: boolean, maxOutput: number): Uint8Array;
  /** Releases resources (zlib contexts); called once when the connection closes. */
  close(): void;
}

/**
 * Negotiates one extension. A client offers it; a server accepts or declines an offer; the client
 * confirms the server's response.
 */
export interface ExtensionFactory {
  readonly name: string;
  /** Client role: the offers to send, most preferred first (several offers of one extension are allowed). */
  offer(): ExtensionParams[];
  /**
   * Server role: given the offers of this extension in the client's order, picks the first acceptable
   * one. Returns the response parameters and the extension instance, or `null` to decline them all.
   */
  accept(offers: readonly ExtensionParams[]): { params: ExtensionParams; extension: Extension } | null;
  /**
   * Client role: validates the server's response parameters against what was offered and returns the
   * extension instance. Throws a HandshakeError (code `ERR_HANDSHAKE_EXTENSION`) when the response is
   * not acceptable.
   */
  confirm(params: ExtensionParams): Extension;
}
