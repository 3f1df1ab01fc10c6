/**
 * permessage-deflate negotiation (RFC 7692 §7.1): the options of the extension, parsing and checking the
 * four parameters of an offer or response, and settling a {@link DeflateAgreement} for either role.
 *
 * Kept apart from `permessage-deflate.ts` (the per-connection extension and its zlib contexts)
 * because negotiation is pure bookkeeping over header parameters: it needs no zlib, so it imports
 * nothing from Node, and it can be read and tested without the codec.
 * @module
 */
import { HandshakeError } from './errors.js';
import type { ExtensionParams } from './extension.js';

/** Options of `perMessageDeflate()`. Server defaults are memory-lean; client defaults favour ratio. */
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
   * Idle time after which the transport should call `PerMessageDeflate.releaseIdle()`. The
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

/** A server's response parameters and the agreement they settle. */
export interface DeflateAnswer {
  params: ExtensionParams;
  agreement: DeflateAgreement;
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

/** @throws RangeError when a numeric option is not an integer in its range. */
export function checkOptions(options: PerMessageDeflateOptions): void {
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

/** Client: the one offer built from the options (RFC 7692 §7.1). */
export function offerParams(o: PerMessageDeflateOptions): ExtensionParams {
  const params: Record<string, string | true> = {};
  if (o.serverNoContextTakeover) params.server_no_context_takeover = true;
  if (o.clientNoContextTakeover) params.client_no_context_takeover = true;
  if (o.serverMaxWindowBits !== undefined) params.server_max_window_bits = String(o.serverMaxWindowBits);
  const clientBits = o.clientMaxWindowBits ?? true;
  if (clientBits !== false) params.client_max_window_bits = clientBits === true ? true : String(clientBits);
  return params;
}

/** Server: the response to one valid offer, and what it settles (RFC 7692 §7.1). */
function answer(offer: DeflateParams, o: PerMessageDeflateOptions): DeflateAnswer {
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
  return { params, agreement };
}

/**
 * Server: the response parameters and agreement for the first offer whose parameters are all valid
 * (RFC 7692 §7.1, §5), or null when none is.
 */
export function answerOffers(
  offers: readonly ExtensionParams[],
  o: PerMessageDeflateOptions,
): DeflateAnswer | null {
  for (const params of offers) {
    const offer = parseParams(params, false);
    if (typeof offer !== 'string') return answer(offer, o);
  }
  return null;
}

/**
 * Client: checks the server's response against our offer (RFC 7692 §7.1) and returns the agreement.
 * @throws HandshakeError `ERR_HANDSHAKE_EXTENSION`
 */
export function confirmResponse(params: ExtensionParams, o: PerMessageDeflateOptions): DeflateAgreement {
  const response = parseParams(params, true);
  if (typeof response === 'string') throw extensionError(response);
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
  if (answeredClientBits !== undefined && (offeredClientBits === false || answeredClientBits > clientLimit)) {
    throw extensionError(`client_max_window_bits=${answeredClientBits} does not answer our offer`);
  }
  return {
    outWindowBits: answeredClientBits ?? clientLimit,
    inWindowBits: response.serverMaxWindowBits ?? DEFAULT_WINDOW_BITS,
    outNoContextTakeover: response.clientNoContextTakeover || (o.clientNoContextTakeover ?? false),
    inNoContextTakeover: response.serverNoContextTakeover,
  };
}
