/**
 * permessage-deflate for the wire suite (RFC 7692), independent of the code under test: a parser of the
 * Sec-WebSocket-Extensions grammar (RFC 6455 §9.1, RFC 7230 tokens and quoted strings), the check that a
 * response is a valid acceptance of one of our offers (RFC 7692 §7.1), the agreement it settles, and our
 * own zlib codec: a compressor that keeps to the negotiated window and context takeover, and an inflater
 * with the negotiated window so that a peer using a larger one is caught (zlib refuses the distance).
 * @module
 */
import {
  constants,
  createDeflateRaw,
  createInflateRaw,
  type DeflateRaw,
  deflateRawSync,
  type InflateRaw,
  inflateRawSync,
} from 'node:zlib';
import { joinBytes } from '../conformance/harness.js';
import type { MessageInflater } from './wire-endpoint.js';

/** One element of an extensions header: name and parameters (`true` for a parameter without value). */
export interface ExtensionElement {
  name: string;
  params: [string, string | true][];
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Splits on `sep` outside quoted strings. */
function splitOutsideQuotes(text: string, sep: string): string[] | null {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted && c === '\\') {
      current += c + (text[++i] ?? '');
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === sep && !quoted) {
      parts.push(current);
      current = '';
    } else current += c;
  }
  if (quoted) return null;
  parts.push(current);
  return parts;
}

function parseParam(text: string): [string, string | true] | null {
  const eq = text.indexOf('=');
  const name = (eq < 0 ? text : text.slice(0, eq)).trim();
  if (!TOKEN.test(name)) return null;
  if (eq < 0) return [name, true];
  const raw = text.slice(eq + 1).trim();
  if (TOKEN.test(raw)) return [name, raw];
  const quoted = /^"((?:[^"\\]|\\.)*)"$/.exec(raw);
  return quoted === null ? null : [name, quoted[1]!.replace(/\\(.)/g, '$1')];
}

/** Parses a Sec-WebSocket-Extensions value; null when it breaks the grammar (RFC 6455 §9.1). */
export function parseExtensionHeader(value: string): ExtensionElement[] | null {
  const elements = splitOutsideQuotes(value, ',');
  if (elements === null) return null;
  const out: ExtensionElement[] = [];
  for (const element of elements) {
    const pieces = splitOutsideQuotes(element, ';')!;
    const name = pieces[0]!.trim();
    if (!TOKEN.test(name)) return null;
    const params: [string, string | true][] = [];
    for (const piece of pieces.slice(1)) {
      const param = parseParam(piece);
      if (param === null) return null;
      params.push(param);
    }
    out.push({ name, params });
  }
  return out;
}

/** What a permessage-deflate negotiation settled, from the client's point of view. */
export interface DeflateAgreement {
  /** The server resets its compressor per message (we may inflate each message on its own). */
  serverNoContextTakeover: boolean;
  /** We must reset our compressor per message (answered, or promised in our offer). */
  clientNoContextTakeover: boolean;
  /** Largest window the server may compress with (our inflater's window). */
  serverMaxWindowBits: number;
  /** Largest window we may compress with. */
  clientMaxWindowBits: number;
  /** Index of the offer the response accepts (the first one it fits). */
  offerIndex: number;
}

const WINDOW = /^(?:[89]|1[0-5])$/;
const KNOWN = new Set([
  'server_no_context_takeover',
  'client_no_context_takeover',
  'server_max_window_bits',
  'client_max_window_bits',
]);

/** Why the response parameters are malformed on their own (RFC 7692 §7.1), or null. */
function responseSyntaxProblem(params: [string, string | true][]): string | null {
  const seen = new Set<string>();
  for (const [name, value] of params) {
    if (!KNOWN.has(name)) return `unknown parameter ${name}`;
    if (seen.has(name)) return `parameter ${name} repeated`;
    seen.add(name);
    const isBits = name.endsWith('_window_bits');
    // §7.1.2.2: in a response client_max_window_bits must carry a value; §7.1.1: the takeovers carry none.
    if (isBits && (value === true || !WINDOW.test(value))) return `invalid ${name}=${String(value)}`;
    if (!isBits && value !== true) return `${name} must have no value`;
  }
  return null;
}

/** Why an offer is one a server must decline (RFC 7692 §7.1), or null when it is valid. */
export function offerSyntaxProblem(params: [string, string | true][]): string | null {
  // §7.1.2.2: only in an offer may client_max_window_bits come without a value.
  const bare = params.filter(([name, value]) => name === 'client_max_window_bits' && value === true);
  const rest = params.map(([name, value]): [string, string | true] =>
    name === 'client_max_window_bits' && value === true ? [name, '15'] : [name, value],
  );
  return bare.length > 1 ? 'client_max_window_bits repeated' : responseSyntaxProblem(rest);
}

/** Why `response` does not accept `offer` (RFC 7692 §7.1.1, §7.1.2), or null when it does. */
function acceptanceProblem(
  offer: Map<string, string | true>,
  response: Map<string, string | true>,
): string | null {
  if (offer.has('server_no_context_takeover') && !response.has('server_no_context_takeover')) {
    return 'server_no_context_takeover was offered but not echoed (§7.1.1.1)';
  }
  const offeredServerBits = offer.get('server_max_window_bits');
  const serverBits = response.get('server_max_window_bits');
  if (typeof offeredServerBits === 'string') {
    if (serverBits === undefined || Number(serverBits) > Number(offeredServerBits)) {
      return `server_max_window_bits=${offeredServerBits} was offered: the response must carry it, at most that (§7.1.2.1)`;
    }
  }
  const offeredClientBits = offer.get('client_max_window_bits');
  const clientBits = response.get('client_max_window_bits');
  if (clientBits !== undefined && offeredClientBits === undefined) {
    return 'client_max_window_bits in the response without one in the offer (§7.1.2.2)';
  }
  if (
    typeof offeredClientBits === 'string' &&
    clientBits !== undefined &&
    Number(clientBits) > Number(offeredClientBits)
  ) {
    return `client_max_window_bits=${String(clientBits)} exceeds the offered ${offeredClientBits} (§7.1.2.2)`;
  }
  return null;
}

function bitsOf(value: string | true | undefined): number {
  return typeof value === 'string' ? Number(value) : 15;
}

/**
 * Checks the 101's Sec-WebSocket-Extensions against our permessage-deflate offers; returns the
 * agreement, null when the server declined them all, or a string saying why the response is invalid.
 */
export function checkDeflateResponse(
  offerHeader: string,
  responseHeader: string | undefined,
): DeflateAgreement | null | string {
  if (responseHeader === undefined || responseHeader.trim() === '') return null;
  const response = parseExtensionHeader(responseHeader);
  if (response === null) return `malformed Sec-WebSocket-Extensions: ${responseHeader}`;
  if (response.length !== 1) return `expected one extension in the response, got ${responseHeader}`;
  const [element] = response;
  if (element!.name !== 'permessage-deflate')
    return `accepted an extension we did not offer: ${element!.name}`;
  const syntax = responseSyntaxProblem(element!.params);
  if (syntax !== null) return syntax;
  const answer = new Map(element!.params);
  const offers = (parseExtensionHeader(offerHeader) ?? []).filter((o) => o.name === 'permessage-deflate');
  const problems: string[] = [];
  for (const [offerIndex, offerElement] of offers.entries()) {
    const offer = new Map(offerElement.params);
    // The server must decline an offer with unknown or invalid parameters (§7.1): skip such offers.
    if (offerSyntaxProblem(offerElement.params) !== null) continue;
    const problem = acceptanceProblem(offer, answer);
    if (problem !== null) {
      problems.push(`offer ${offerIndex + 1}: ${problem}`);
      continue;
    }
    const offeredClientBits = offer.get('client_max_window_bits');
    return {
      serverNoContextTakeover: answer.has('server_no_context_takeover'),
      clientNoContextTakeover:
        answer.has('client_no_context_takeover') || offer.has('client_no_context_takeover'),
      serverMaxWindowBits: bitsOf(answer.get('server_max_window_bits')),
      clientMaxWindowBits: Math.min(bitsOf(answer.get('client_max_window_bits')), bitsOf(offeredClientBits)),
      offerIndex,
    };
  }
  return `${responseHeader} accepts none of our offers: ${problems.join('; ')}`;
}

const TAIL = Uint8Array.of(0x00, 0x00, 0xff, 0xff);

/** Runs one message through a persistent zlib stream with a sync flush; resolves with the output. */
function throughStream(stream: DeflateRaw | InflateRaw, input: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
    };
    const onError = (error: Error): void => {
      stream.off('data', onData);
      reject(error);
    };
    stream.on('data', onData);
    stream.once('error', onError);
    stream.write(input);
    stream.flush(constants.Z_SYNC_FLUSH, () => {
      stream.off('data', onData);
      stream.off('error', onError);
      resolve(joinBytes(chunks));
    });
  });
}

/**
 * Our compressor (RFC 7692 §7.2.1) for the window and context takeover the peer agreed to inflate with:
 * one zlib context for every message, or a fresh one per message.
 */
export function makeDeflater(
  windowBits: number,
  contextTakeover: boolean,
): (payload: Uint8Array) => Promise<Uint8Array> {
  // zlib raises a raw window of 8 to 9, whose longest distance (250) still fits a 256-byte window.
  if (!contextTakeover) {
    return async (payload) => {
      const out = deflateRawSync(payload, { windowBits, finishFlush: constants.Z_SYNC_FLUSH });
      return new Uint8Array(out.subarray(0, out.length - 4));
    };
  }
  const stream = createDeflateRaw({ windowBits });
  return async (payload) => {
    const out = await throughStream(stream, payload);
    return out.subarray(0, out.length - 4);
  };
}

/**
 * An inflater for the peer's messages with the negotiated window and context takeover. Output comes in
 * chunks of 64 bytes: zlib checks back-reference distances against the window only for bytes of earlier
 * output chunks, so small chunks make a too-large window fail ("invalid distance too far back").
 */
export function makeInflater(windowBits: number, contextTakeover: boolean): MessageInflater {
  const options = { windowBits, chunkSize: 64, finishFlush: constants.Z_SYNC_FLUSH };
  if (!contextTakeover) {
    return async (payload) => new Uint8Array(inflateRawSync(joinBytes([payload, TAIL]), options));
  }
  const stream = createInflateRaw(options);
  return (payload) => throughStream(stream, joinBytes([payload, TAIL]));
}

/** Compressible JSON-like text of exactly `n` ASCII bytes (in the spirit of Autobahn's data1.json). */
export function sampleJson(n: number, seed = 1): Uint8Array {
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];
  let state = seed >>> 0 || 1;
  const next = (): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state >>> 8;
  };
  let text = '[';
  while (text.length < n) {
    const word = words[next() % words.length]!;
    text += `{"id":${next() % 100000},"name":"${word}-${next() % 1000}","tags":["${words[next() % 10]}"],"ok":${next() % 2 === 0}},`;
  }
  return new TextEncoder().encode(text.slice(0, n));
}

/** Compressible binary of exactly `n` bytes: runs and repeats mixed with noise. */
export function sampleBinary(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = (state >>> 24) % 4 === 0 ? state & 0xff : i >= 37 ? out[i - 37]! : i & 0xff;
  }
  return out;
}
