/**
 * Example: a custom WebSocket extension written against Conduit's extension interface
 * (`src/protocol/extension.ts`, RFC 6455 §9).
 *
 * `x-conduit-xor` XORs every payload byte of a message with a one-byte key and marks such messages with
 * RSV2. It is a toy that shows the moving parts (negotiation in both roles, whole-message encoding, a
 * shareable encoding, streaming decoding with an output limit); it hides nothing from anyone and is no
 * kind of security. Header form: `Sec-WebSocket-Extensions: x-conduit-xor; key=42`.
 *
 * Intended registration, once the server and client APIs that take `extensions` exist:
 *
 * ```ts
 * const server = new WebSocketServer({ extensions: [perMessageDeflate(), xorExtension({ key: 7 })] });
 * const client = new WebSocket(url, { extensions: [xorExtension({ key: 42 })] });
 * ```
 *
 * The client offers every factory in its list; the server answers the ones it knows; negotiated
 * extensions then transform each message in the order of the response header, each with its own RSV bit.
 * @module
 */
import { CloseCode, RSV2 } from '../src/protocol/constants.js';
import { HandshakeError, ProtocolError } from '../src/protocol/errors.js';
import type {
  Extension,
  ExtensionFactory,
  ExtensionParams,
  OutgoingMessageInfo,
} from '../src/protocol/extension.js';

/** Name of the example extension (an `x-` name: it is not registered with IANA). */
export const XOR_EXTENSION = 'x-conduit-xor';

/** Options of {@link xorExtension}. */
export interface XorExtensionOptions {
  /** Client: the key to offer (0..255); without it the server picks. Server: the key used when the client offers none. Default 90. */
  key?: number;
}

/** A key is a decimal number 0..255 without leading zeroes. */
function parseKey(value: string | true | undefined): number | undefined {
  return typeof value === 'string' && /^(?:0|[1-9]\d{0,2})$/.test(value) && Number(value) <= 255
    ? Number(value)
    : undefined;
}

/** XORs `data` into a new array: the transform is its own inverse. */
function xor(data: Uint8Array, key: number): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! ^ key;
  return out;
}

/** `x-conduit-xor` on one connection. */
class XorExtension implements Extension {
  readonly name = XOR_EXTENSION;
  readonly rsv = RSV2;
  readonly key: number;

  constructor(key: number) {
    this.key = key;
  }

  encode(payload: Uint8Array, info: OutgoingMessageInfo): Uint8Array | null {
    // `compress: false` asks extensions to leave the message alone; RSV2 then stays clear.
    return info.compress ? xor(payload, this.key) : null;
  }

  encodeShared(
    payload: Uint8Array,
    info: OutgoingMessageInfo,
    cache: Map<string, unknown>,
  ): Uint8Array | null {
    if (!info.compress) return null;
    // Stateless, so one result serves every connection with the same key.
    const cacheKey = `${XOR_EXTENSION}:${this.key}`;
    let encoded = cache.get(cacheKey);
    if (!(encoded instanceof Uint8Array)) {
      encoded = xor(payload, this.key);
      cache.set(cacheKey, encoded);
    }
    return encoded as Uint8Array;
  }

  decode(piece: Uint8Array, _fin: boolean, maxOutput: number): Uint8Array {
    if (piece.length > maxOutput) {
      throw new ProtocolError(
        'ERR_MESSAGE_TOO_BIG',
        `${XOR_EXTENSION}: message too big`,
        CloseCode.MESSAGE_TOO_BIG,
      );
    }
    return xor(piece, this.key);
  }

  close(): void {
    // Nothing to release: the extension keeps no buffers between messages.
  }
}

/** Parses the parameters of an offer or a response; returns null when any is unknown or invalid. */
function parseParams(params: ExtensionParams): { key?: number } | null {
  const parsed: { key?: number } = {};
  for (const [name, value] of Object.entries(params)) {
    if (name !== 'key') return null;
    parsed.key = parseKey(value);
    if (parsed.key === undefined) return null;
  }
  return parsed;
}

/** The factory of the example extension: pass it in a server's or client's `extensions` list. */
export function xorExtension(options: XorExtensionOptions = {}): ExtensionFactory {
  const key = options.key ?? 90;
  if (!Number.isInteger(key) || key < 0 || key > 255)
    throw new RangeError(`${XOR_EXTENSION}: key must be 0..255`);
  const fail = (reason: string) =>
    new HandshakeError('ERR_HANDSHAKE_EXTENSION', `${XOR_EXTENSION}: ${reason}`);
  return {
    name: XOR_EXTENSION,
    offer: (): ExtensionParams[] => [options.key === undefined ? {} : { key: String(key) }],
    accept(offers) {
      // The first offer whose parameters we understand wins; the client's key, or ours.
      for (const params of offers) {
        const offer = parseParams(params);
        if (offer === null) continue;
        const chosen = offer.key ?? key;
        return { params: { key: String(chosen) }, extension: new XorExtension(chosen) };
      }
      return null;
    },
    confirm(params) {
      const response = parseParams(params);
      if (response?.key === undefined) throw fail('the response must carry a valid key');
      if (options.key !== undefined && response.key !== key) throw fail('the server changed the offered key');
      return new XorExtension(response.key);
    },
  };
}
