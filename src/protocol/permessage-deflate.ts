/**
 * permessage-deflate (RFC 7692 §7): parameter negotiation for both roles, and the per-connection
 * {@link Extension} that compresses outgoing and inflates incoming messages.
 *
 * Memory: the server defaults negotiate no context takeover in both directions, so every message is
 * compressed by a process-wide pooled compressor and inflated by a pooled decompressor; an idle
 * connection holds no zlib state at all. With context takeover the contexts are per connection,
 * created on first use and (where the RFC allows) released by {@link PerMessageDeflate.releaseIdle}.
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
import { HandshakeError, ProtocolError } from './errors.js';
import type { Extension, ExtensionFactory, ExtensionParams, OutgoingMessageInfo } from './extension.js';

/** The registered extension name (RFC 7692 §7). */
export const PERMESSAGE_DEFLATE = 'permessage-deflate';

/** Options of {@link perMessageDeflate}. Server defaults are memory-lean; client defaults favour ratio. */
export interface PerMessageDeflateOptions {
  /**
   * Server: answer with `server_no_context_takeover`, so our compressor forgets every message
   * (RFC 7692 §7.1.1.1). Default true. Client: offer it. Default false. A server always accepts it.
   */
  serverNoContextTakeover?: boolean;
  /**
   * Server: answer with `client_no_context_takeover` even when not offered (§7.1.1.2), so the client's
   * messages are inflated by pooled contexts. Default true. Client: offer it (a promise). Default false.
   */
  clientNoContextTakeover?: boolean;
  /**
   * Server: largest window (8..15) our compressor uses, sent as `server_max_window_bits` (lowered to
   * the client's offer). Client: offered as `server_max_window_bits`. Default: none (15).
   */
  serverMaxWindowBits?: number;
  /**
   * Server: sent as `client_max_window_bits` (8..15) when the client offered that parameter.
   * Client: offered with this value; `true` offers the bare parameter, `false` omits it. Client default true.
   */
  clientMaxWindowBits?: number | boolean;
  /**
   * Messages shorter than this many bytes are sent uncompressed: below about a kilobyte the saving
   * rarely pays for the CPU (and short JSON barely shrinks). Default 1024.
   */
  threshold?: number;
  /** zlib compression level for outgoing messages, -1..9. Default 1 (fast; JSON still shrinks well). */
  level?: number;
  /** zlib memLevel for outgoing messages, 1..9. Default 8. */
  memLevel?: number;
  /**
   * Use the process-wide pooled contexts for every direction negotiated without context takeover.
   * `false` gives each connection its own contexts (reset per message). Default true.
   */
  sharedCompressor?: boolean;
  /**
   * Idle time after which the transport should call {@link PerMessageDeflate.releaseIdle}. The
   * protocol core has no timers: the transport's timer wheel reads this value. Default 10 000 ms.
   */
  idleTimeoutMs?: number;
}

/** What the handshake settled, seen from this endpoint. */
export interface DeflateAgreement {
  /** Window bits our compressor may use (8..15); 8 means messages go out uncompressed. */
  readonly outWindowBits: number;
  /** Window bits the peer compresses with (8..15). */
  readonly inWindowBits: number;
  /** We must not use context takeover (RFC 7692 §7.1.1). */
  readonly outNoContextTakeover: boolean;
  /** The peer does not use context takeover, so our inflater may forget each message. */
  readonly inNoContextTakeover: boolean;
}

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

/** Negotiation (RFC 7692 §7.1): the four parameters of one offer or response, checked. */
interface DeflateParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits?: number;
  /** `true` for the bare parameter (allowed in offers only, §7.1.2.2). */
  clientMaxWindowBits?: number | true;
}

const DEFAULT_WINDOW_BITS = 15;
/** RFC 7692 §7.1.2: a decimal integer 8..15 without leading zeroes. */
const WINDOW_BITS_VALUE = /^(?:[89]|1[0-5])$/;

function parseWindowBits(value: string | true | undefined): number | undefined {
  return typeof value === 'string' && WINDOW_BITS_VALUE.test(value) ? Number(value) : undefined;
}

type ParamRule = (parsed: DeflateParams, value: string | true, inResponse: boolean) => boolean;

/** One rule per known parameter: records it and says whether its value is valid. */
const PARAM_RULES: Readonly<Record<string, ParamRule>> = {
  server_no_context_takeover(parsed, value) {
    parsed.serverNoContextTakeover = true;
    return value === true;
  },
  client_no_context_takeover(parsed, value) {
    parsed.clientNoContextTakeover = true;
    return value === true;
  },
  server_max_window_bits(parsed, value) {
    parsed.serverMaxWindowBits = parseWindowBits(value);
    return parsed.serverMaxWindowBits !== undefined;
  },
  client_max_window_bits(parsed, value, inResponse) {
    // §7.1.2.2: the bare parameter is allowed in an offer; a response must carry a value.
    parsed.clientMaxWindowBits = value === true && !inResponse ? true : parseWindowBits(value);
    return parsed.clientMaxWindowBits !== undefined;
  },
};

/**
 * Checks one offer (`inResponse` false) or response against §7.1; returns why it is not acceptable as
 * a string. Duplicated names cannot reach us: the header parser rejects them and a record holds each
 * name once.
 */
function parseParams(params: ExtensionParams, inResponse: boolean): DeflateParams | string {
  const parsed: DeflateParams = { serverNoContextTakeover: false, clientNoContextTakeover: false };
  for (const [name, value] of Object.entries(params)) {
    const rule = Object.hasOwn(PARAM_RULES, name) ? PARAM_RULES[name] : undefined;
    if (rule === undefined) return `unknown parameter ${name}`;
    if (!rule(parsed, value, inResponse)) return `invalid value ${JSON.stringify(value)} of ${name}`;
  }
  return parsed;
}

function lowest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  return b === undefined ? a : Math.min(a, b);
}

function numberOr<T>(value: number | boolean | undefined, fallback: T): number | T {
  return typeof value === 'number' ? value : fallback;
}

const OPTION_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  serverMaxWindowBits: [8, 15],
  clientMaxWindowBits: [8, 15],
  level: [-1, 9],
  memLevel: [1, 9],
  threshold: [0, Number.MAX_SAFE_INTEGER],
  idleTimeoutMs: [0, Number.MAX_SAFE_INTEGER],
};

function checkOptions(options: PerMessageDeflateOptions): void {
  for (const [name, [min, max]] of Object.entries(OPTION_RANGES)) {
    const value = options[name as keyof PerMessageDeflateOptions];
    if (typeof value === 'number' && !(Number.isInteger(value) && value >= min && value <= max)) {
      throw new RangeError(`permessage-deflate: ${name} must be an integer from ${min} to ${max}`);
    }
  }
}

function extensionError(reason: string): HandshakeError {
  return new HandshakeError('ERR_HANDSHAKE_EXTENSION', `permessage-deflate: ${reason}`);
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
    const o = this.options;
    const params: Record<string, string | true> = {};
    if (o.serverNoContextTakeover) params.server_no_context_takeover = true;
    if (o.clientNoContextTakeover) params.client_no_context_takeover = true;
    if (o.serverMaxWindowBits !== undefined) params.server_max_window_bits = String(o.serverMaxWindowBits);
    const clientBits = o.clientMaxWindowBits ?? true;
    if (clientBits !== false) params.client_max_window_bits = clientBits === true ? true : String(clientBits);
    return [params];
  }

  /** Server: accepts the first offer whose parameters are all valid (RFC 7692 §7.1, §5). */
  accept(offers: readonly ExtensionParams[]): { params: ExtensionParams; extension: Extension } | null {
    for (const params of offers) {
      const offer = parseParams(params, false);
      if (typeof offer !== 'string') return this.answer(offer);
    }
    return null;
  }

  /** Client: validates the server's response (RFC 7692 §7.1). @throws HandshakeError `ERR_HANDSHAKE_EXTENSION` */
  confirm(params: ExtensionParams): Extension {
    const response = parseParams(params, true);
    if (typeof response === 'string') throw extensionError(response);
    const o = this.options;
    const offeredServerBits = o.serverMaxWindowBits;
    // §7.1.2.1: accepting our server_max_window_bits means echoing it with the same or a smaller value.
    if (offeredServerBits !== undefined && !(response.serverMaxWindowBits! <= offeredServerBits)) {
      throw extensionError(`server_max_window_bits must be answered with at most ${offeredServerBits}`);
    }
    // §7.1.1.1: accepting our server_no_context_takeover means echoing it.
    if (o.serverNoContextTakeover && !response.serverNoContextTakeover) {
      throw extensionError('server_no_context_takeover was offered but not accepted');
    }
    const offeredClientBits = o.clientMaxWindowBits ?? true;
    const clientLimit = numberOr(offeredClientBits, DEFAULT_WINDOW_BITS);
    const answeredClientBits = response.clientMaxWindowBits as number | undefined;
    // §7.1.2.2: only a client_max_window_bits we offered may come back, and no larger.
    if (
      answeredClientBits !== undefined &&
      (offeredClientBits === false || answeredClientBits > clientLimit)
    ) {
      throw extensionError(`client_max_window_bits=${answeredClientBits} does not answer our offer`);
    }
    const agreement: DeflateAgreement = {
      outWindowBits: answeredClientBits ?? clientLimit,
      inWindowBits: response.serverMaxWindowBits ?? DEFAULT_WINDOW_BITS,
      outNoContextTakeover: response.clientNoContextTakeover || (o.clientNoContextTakeover ?? false),
      inNoContextTakeover: response.serverNoContextTakeover,
    };
    return new PerMessageDeflate(agreement, this.tuning);
  }

  private answer(offer: DeflateParams): { params: ExtensionParams; extension: Extension } {
    const o = this.options;
    const params: Record<string, string | true> = {};
    // §7.1.1: a server may always add either no_context_takeover; an offered one must be echoed.
    const serverNoContext = offer.serverNoContextTakeover || (o.serverNoContextTakeover ?? true);
    const clientNoContext = offer.clientNoContextTakeover || (o.clientNoContextTakeover ?? true);
    if (serverNoContext) params.server_no_context_takeover = true;
    if (clientNoContext) params.client_no_context_takeover = true;
    // §7.1.2.1: echo an offered server_max_window_bits, lowered to ours; ours alone may be added too.
    const serverBits = lowest(offer.serverMaxWindowBits, o.serverMaxWindowBits);
    if (serverBits !== undefined) params.server_max_window_bits = String(serverBits);
    // §7.1.2.2: client_max_window_bits only when the client offered it (bare or with a value).
    const clientBits =
      offer.clientMaxWindowBits === undefined
        ? undefined
        : lowest(numberOr(offer.clientMaxWindowBits, undefined), numberOr(o.clientMaxWindowBits, undefined));
    if (clientBits !== undefined) params.client_max_window_bits = String(clientBits);
    const agreement: DeflateAgreement = {
      outWindowBits: serverBits ?? DEFAULT_WINDOW_BITS,
      inWindowBits: clientBits ?? DEFAULT_WINDOW_BITS,
      outNoContextTakeover: serverNoContext,
      inNoContextTakeover: clientNoContext,
    };
    return { params, extension: new PerMessageDeflate(agreement, this.tuning) };
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
