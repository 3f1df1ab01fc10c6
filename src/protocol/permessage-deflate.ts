/**
 * permessage-deflate (RFC 7692 §7): parameter negotiation for both roles, and the per-connection
 * {@link Extension} that compresses outgoing and inflates incoming messages.
 *
 * Memory: the server defaults negotiate no context takeover in both directions, so every message is
 * compressed by a process-wide pooled compressor and inflated by a pooled decompressor; an idle
 * connection holds no zlib state at all. With context takeover the contexts are per connection,
 * created on first use and (where the RFC allows) released by {@link PerMessageDeflate.releaseIdle}.
 *
 * Negotiation (options, parameter checks, the agreement) lives in `permessage-deflate-params.ts`; its
 * public names are re-exported here, so this module stays the one entry point of the extension.
 * @module
 */
import { CloseCode, RSV1 } from './constants.js';
import {
  acquireCompressor,
  acquireDecompressor,
  Compressor,
  compressorKey,
  Decompressor,
  MIN_DEFLATE_WINDOW_BITS,
  releaseCompressor,
  releaseDecompressor,
} from './deflate-codec.js';
import { ProtocolError } from './errors.js';
import type { Extension, ExtensionFactory, ExtensionParams, OutgoingMessageInfo } from './extension.js';
import {
  answerOffers,
  checkOptions,
  confirmResponse,
  type DeflateAgreement,
  offerParams,
  type PerMessageDeflateOptions,
} from './permessage-deflate-params.js';

export type { DeflateAgreement, PerMessageDeflateOptions } from './permessage-deflate-params.js';

/** The registered extension name (RFC 7692 §7). */
export const PERMESSAGE_DEFLATE = 'permessage-deflate';

/** Settings shared by every connection of one factory. */
interface DeflateTuning {
  readonly threshold: number;
  readonly level: number;
  readonly memLevel: number;
  readonly sharedCompressor: boolean;
  readonly idleTimeoutMs: number;
}

/** An extension whose idle resources the transport can release on a timer. */
export interface IdleReleasable {
  readonly idleTimeoutMs: number;
  releaseIdle(): boolean;
}

/** Whether `extension` can release idle resources (see {@link PerMessageDeflate.releaseIdle}). */
export function isIdleReleasable(extension: Extension): extension is Extension & IdleReleasable {
  return typeof (extension as Partial<IdleReleasable>).releaseIdle === 'function';
}

/** permessage-deflate on one connection. Create it through {@link perMessageDeflate}. */
export class PerMessageDeflate implements Extension, IdleReleasable {
  readonly name = PERMESSAGE_DEFLATE;
  /** RFC 7692 §6: RSV1 marks a compressed message. */
  readonly rsv = RSV1;
  readonly agreement: DeflateAgreement;
  private readonly tuning: DeflateTuning;
  /** This connection's own compressor (context takeover, or `sharedCompressor: false`). */
  private compressor: Compressor | null = null;
  /** Must be reset before its next message: the peer's window no longer matches it. */
  private compressorStale = false;
  /** Own inflater, or a pooled one lent for the message being received. */
  private inflater: Decompressor | null = null;
  private inflaterPooled = false;
  /** A message is half received (its inflater holds state). */
  private receiving = false;
  private closed = false;

  constructor(agreement: DeflateAgreement, tuning: DeflateTuning) {
    this.agreement = agreement;
    this.tuning = tuning;
  }

  /** How long the transport should wait before calling {@link releaseIdle}. */
  get idleTimeoutMs(): number {
    return this.tuning.idleTimeoutMs;
  }

  /** Number of zlib contexts this connection holds right now (metrics and tests). */
  get heldContexts(): number {
    return (this.compressor === null ? 0 : 1) + (this.inflater === null ? 0 : 1);
  }

  /** Compresses a message (RFC 7692 §7.2.1), or returns null to send it as it is. */
  encode(payload: Uint8Array, info: OutgoingMessageInfo): Uint8Array | null {
    if (!this.wantsToCompress(payload, info)) return null;
    if (this.agreement.outNoContextTakeover && this.tuning.sharedCompressor) {
      return smallerOrNull(this.compressPooled(payload), payload);
    }
    const compressed = this.compressOwn(payload);
    if (compressed.length < payload.length) return compressed;
    // Sent uncompressed after all, so the peer's window lacks what our compressor just saw.
    this.compressorStale = true;
    return null;
  }

  /**
   * Compresses independently of this connection (fresh pooled context, our agreed window) and
   * memoizes the result in `cache` for every connection with the same window bits, level and memLevel.
   */
  encodeShared(
    payload: Uint8Array,
    info: OutgoingMessageInfo,
    cache: Map<string, unknown>,
  ): Uint8Array | null {
    if (!this.wantsToCompress(payload, info)) return null;
    const { level, memLevel } = this.tuning;
    const key = `${PERMESSAGE_DEFLATE}:${compressorKey(this.agreement.outWindowBits, level, memLevel)}`;
    const cached = cache.get(key);
    let encoded: Uint8Array | null;
    if (cached instanceof Uint8Array || cached === null) {
      encoded = cached;
    } else {
      encoded = smallerOrNull(this.compressPooled(payload), payload);
      cache.set(key, encoded);
    }
    // The peer's window now holds bytes our own compressor never saw: it must start afresh.
    if (encoded !== null) this.compressorStale = true;
    return encoded;
  }

  /**
   * Inflates one piece of an incoming message (RFC 7692 §7.2.2).
   * @throws ProtocolError 1009 `ERR_MESSAGE_TOO_BIG` past `maxOutput`, 1007 `ERR_EXTENSION` for bad data.
   */
  decode(piece: Uint8Array, fin: boolean, maxOutput: number): Uint8Array {
    if (this.closed) {
      throw new ProtocolError('ERR_INVALID_STATE', 'permessage-deflate: closed', CloseCode.INTERNAL_ERROR);
    }
    const inflater = this.inflater ?? this.takeInflater();
    let output: Uint8Array;
    try {
      output = inflater.inflate(piece, fin, maxOutput);
    } catch (error) {
      // Never keep or pool a context that failed or stopped mid-stream.
      inflater.close();
      this.inflater = null;
      this.receiving = false;
      throw error;
    }
    this.receiving = !fin;
    if (fin && this.agreement.inNoContextTakeover) this.forgetIncoming(inflater);
    return output;
  }

  /**
   * Frees the zlib contexts this connection does not need between messages and returns whether
   * anything was freed. The outgoing compressor can always go: context takeover is a permission, and
   * a fresh compressor simply stops referring to earlier messages (the next one compresses a little
   * worse). The inflater stays while the peer uses context takeover, since its next message may refer
   * to the window, and while a message is half received. The protocol core has no timers: the
   * transport calls this after {@link idleTimeoutMs} without traffic.
   */
  releaseIdle(): boolean {
    let released = false;
    if (this.compressor !== null) {
      this.compressor.close();
      this.compressor = null;
      released = true;
    }
    if (this.inflater !== null && !this.receiving && this.agreement.inNoContextTakeover) {
      this.inflater.close();
      this.inflater = null;
      released = true;
    }
    return released;
  }

  /** Releases every context (pooled ones go back to the pool). Later calls to `decode` throw. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.compressor?.close();
    this.compressor = null;
    if (this.inflater !== null && this.inflaterPooled) releaseDecompressor(this.inflater);
    else this.inflater?.close();
    this.inflater = null;
  }

  private wantsToCompress(payload: Uint8Array, info: OutgoingMessageInfo): boolean {
    // Raw DEFLATE cannot stay within a 256-byte window (see MIN_DEFLATE_WINDOW_BITS); sending
    // uncompressed is always allowed (RFC 7692 §6.1).
    return (
      info.compress &&
      !this.closed &&
      payload.length >= this.tuning.threshold &&
      this.agreement.outWindowBits >= MIN_DEFLATE_WINDOW_BITS
    );
  }

  private compressPooled(payload: Uint8Array): Uint8Array {
    const { level, memLevel } = this.tuning;
    const compressor = acquireCompressor(this.agreement.outWindowBits, level, memLevel);
    try {
      return compressor.compress(payload);
    } finally {
      releaseCompressor(compressor);
    }
  }

  private compressOwn(payload: Uint8Array): Uint8Array {
    let compressor = this.compressor;
    if (compressor === null) {
      const { level, memLevel } = this.tuning;
      compressor = new Compressor(this.agreement.outWindowBits, level, memLevel);
      this.compressor = compressor;
    } else if (this.compressorStale) {
      compressor.reset();
    }
    // RFC 7692 §7.1.1.1: without context takeover, each message starts from an empty window.
    this.compressorStale = this.agreement.outNoContextTakeover;
    return compressor.compress(payload);
  }

  private takeInflater(): Decompressor {
    const pooled = this.agreement.inNoContextTakeover && this.tuning.sharedCompressor;
    // An own inflater needs no more window than the peer agreed to use; pooled ones use 15 to fit all.
    const inflater = pooled ? acquireDecompressor() : new Decompressor(this.agreement.inWindowBits);
    this.inflater = inflater;
    this.inflaterPooled = pooled;
    return inflater;
  }

  private forgetIncoming(inflater: Decompressor): void {
    if (this.inflaterPooled) {
      releaseDecompressor(inflater);
      this.inflater = null;
    } else {
      inflater.reset();
    }
  }
}

function smallerOrNull(compressed: Uint8Array, payload: Uint8Array): Uint8Array | null {
  return compressed.length < payload.length ? compressed : null;
}

/** Negotiates permessage-deflate for one server or client (both roles share one factory). */
class PerMessageDeflateFactory implements ExtensionFactory {
  readonly name = PERMESSAGE_DEFLATE;
  private readonly options: PerMessageDeflateOptions;
  private readonly tuning: DeflateTuning;

  constructor(options: PerMessageDeflateOptions) {
    checkOptions(options);
    this.options = { ...options };
    this.tuning = {
      threshold: options.threshold ?? 1024,
      level: options.level ?? 1,
      memLevel: options.memLevel ?? 8,
      sharedCompressor: options.sharedCompressor ?? true,
      idleTimeoutMs: options.idleTimeoutMs ?? 10_000,
    };
  }

  /** Client: one offer built from the options (RFC 7692 §7.1). */
  offer(): ExtensionParams[] {
    return [offerParams(this.options)];
  }

  /** Server: accepts the first offer whose parameters are all valid (RFC 7692 §7.1, §5). */
  accept(offers: readonly ExtensionParams[]): { params: ExtensionParams; extension: Extension } | null {
    const answer = answerOffers(offers, this.options);
    if (answer === null) return null;
    return { params: answer.params, extension: new PerMessageDeflate(answer.agreement, this.tuning) };
  }

  /** Client: validates the server's response (RFC 7692 §7.1). @throws HandshakeError `ERR_HANDSHAKE_EXTENSION` */
  confirm(params: ExtensionParams): Extension {
    return new PerMessageDeflate(confirmResponse(params, this.options), this.tuning);
  }
}

/**
 * The permessage-deflate extension factory (RFC 7692). Pass it to a server or client in its
 * `extensions` list; one factory serves every connection, and the instances it creates are
 * {@link PerMessageDeflate}.
 * @throws RangeError for an option out of range.
 */
export function perMessageDeflate(options: PerMessageDeflateOptions = {}): ExtensionFactory {
  return new PerMessageDeflateFactory(options);
}
