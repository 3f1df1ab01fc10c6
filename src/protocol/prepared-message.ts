/**
 * A message framed (and compressed, where the negotiated parameters allow) once and sent to many server
 * connections: the basis of broadcast.
 * @module
 */

import { isValidUtf8 } from './utf8.js';

const encoder = new TextEncoder();

/** Options of a {@link PreparedMessage}. */
export interface PreparedMessageOptions {
  /** Send as a binary message. Default: true for byte input, false for strings. */
  binary?: boolean;
  /** Let extensions (permessage-deflate) transform it. Default true. */
  compress?: boolean;
}

/**
 * The payload of a broadcast message with caches of its encoded forms. Frames are built lazily, once per
 * distinct encoding (plain, or compressed with given parameters), and then shared by every connection
 * that negotiated the same thing. Only the server role can share frames (client frames are masked).
 */
export class PreparedMessage {
  readonly payload: Uint8Array;
  readonly isBinary: boolean;
  readonly compress: boolean;
  /** Memo of extensions' shared encodings (see `Extension.encodeShared`). */
  readonly extensionCache = new Map<string, unknown>();
  /** Server-role frames, keyed by the encoded payload they carry. */
  readonly frames = new WeakMap<Uint8Array, Uint8Array>();

  constructor(data: string | Uint8Array, options: PreparedMessageOptions = {}) {
    this.payload = typeof data === 'string' ? encoder.encode(data) : data;
    this.isBinary = options.binary ?? typeof data !== 'string';
    // RFC 6455 §5.6: text is UTF-8; checked once here rather than on every send.
    if (!this.isBinary && typeof data !== 'string' && !isValidUtf8(data)) {
      throw new TypeError('text message bytes are not valid UTF-8');
    }
    this.compress = options.compress ?? true;
  }
}
