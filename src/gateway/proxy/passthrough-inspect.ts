/**
 * Inflating passed-through messages for the validation hook only (`PairOptions.inflateForValidation`):
 * the forwarded bytes stay the compressed ones, the hook sees the real message. Each direction follows
 * the parameters both peers agreed on (RFC 7692 §7.1): with context takeover its inflater lives as long
 * as the connection, since every message may refer to the earlier ones; without, a pooled one is
 * borrowed per message. Inflaters use the largest window (15), which reads any smaller one (zlib peers
 * that agreed to 8 really compress with 9). This costs what passthrough otherwise saves, so it is off
 * by default.
 * @module
 */
import { Buffer } from 'node:buffer';
import { acquireDecompressor, Decompressor, releaseDecompressor } from '../../protocol/deflate-codec.js';
import type { ExtensionParams } from '../../protocol/extension.js';
import type { Direction } from './stats.js';

/** Largest DEFLATE window (RFC 7692 §7.1.2): reads a stream compressed with any window. */
const MAX_WINDOW_BITS = 15;

/** One direction: whether the sender keeps its context and, if so, the inflater that follows it. */
class InflateSide {
  private own: Decompressor | null = null;

  constructor(private readonly takeover: boolean) {}

  inflate(payload: Uint8Array, maxBytes: number): Uint8Array {
    if (this.takeover) {
      this.own ??= new Decompressor(MAX_WINDOW_BITS);
      try {
        return this.own.inflate(payload, true, maxBytes);
      } catch (error) {
        // A context that failed mid-stream cannot inflate the next message (it will not come: the
        // sender is closed), so it goes at once.
        this.close();
        throw error;
      }
    }
    const pooled = acquireDecompressor();
    try {
      const output = pooled.inflate(payload, true, maxBytes);
      releaseDecompressor(pooled);
      return output;
    } catch (error) {
      pooled.close();
      throw error;
    }
  }

  close(): void {
    this.own?.close();
    this.own = null;
  }
}

/** Inflates the compressed messages of one passthrough connection for its validation hook. */
export class PassthroughInspector {
  /** Messages the client compressed. */
  private readonly fromClient: InflateSide;
  /** Messages the backend compressed. */
  private readonly fromBackend: InflateSide;

  /** `params`: the permessage-deflate parameters both sides agreed on. */
  constructor(params: ExtensionParams) {
    // RFC 7692 §7.1.1: a *_no_context_takeover parameter in the response binds that peer's compressor.
    this.fromClient = new InflateSide(params.client_no_context_takeover === undefined);
    this.fromBackend = new InflateSide(params.server_no_context_takeover === undefined);
  }

  /**
   * The real message behind a compressed payload travelling in `direction`.
   * @throws ProtocolError 1009 past `maxBytes` inflated, 1007 for data zlib rejects.
   */
  inflate(payload: Uint8Array, direction: Direction, maxBytes: number): Buffer {
    const side = direction === 'upstream' ? this.fromClient : this.fromBackend;
    const message = side.inflate(payload, maxBytes);
    return Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  }

  /** Releases the inflaters. */
  close(): void {
    this.fromClient.close();
    this.fromBackend.close();
  }
}
