/**
 * Incremental parser for the head of an HTTP/1.1 request or response (RFC 9112 §2–§5), as needed by the
 * WebSocket opening handshake (RFC 6455 §4). It finds the end of the head (CRLF CRLF), enforces a size
 * limit while bytes arrive, and hands back whatever followed the head: the first WebSocket frames may
 * share a chunk with the handshake.
 *
 * Strictness, chosen on purpose for an upgrade endpoint:
 * - every line must end in CRLF; a bare LF is rejected (RFC 9112 §2.2 only *allows* accepting it, and
 *   accepting what a proxy in front of us would parse differently invites smuggling);
 * - obs-fold (a line starting with SP or HTAB) is rejected (RFC 9112 §5.2);
 * - whitespace between a field name and the colon is rejected (RFC 9112 §5.1);
 * - control characters (other than HTAB in values) anywhere in the head are rejected (RFC 9110 §5.5);
 * - empty lines before the start line are not skipped.
 *
 * The byte-level grammar checks live in `http-head-scan.ts`; this module buffers chunks, enforces the
 * size limit and turns a complete scan into strings. Its public names (including the token helpers
 * re-exported below) are the module's API.
 *
 * No `node:` imports: the client side runs in browsers too.
 * @module
 */
import { HandshakeError } from './errors.js';
import {
  type HeadScan,
  INCOMPLETE,
  malformed,
  newScan,
  nextMatch,
  scanRequest,
  scanResponse,
} from './http-head-scan.js';

export { isToken, isTokenChar } from './http-head-scan.js';

/** A parsed request line and header section. */
export interface HttpRequestHead {
  method: string;
  /** The request-target exactly as received, e.g. `/chat?room=1`. */
  target: string;
  versionMajor: number;
  versionMinor: number;
  /** Field names lowercased; repeated fields joined with `, ` (RFC 9110 §5.3). */
  headers: Map<string, string>;
  /** Name, value, name, value, ... as received (names keep their case, values are OWS-trimmed). */
  rawHeaders: string[];
}

/** A parsed status line and header section. */
export interface HttpResponseHead {
  versionMajor: number;
  versionMinor: number;
  status: number;
  statusText: string;
  /** Field names lowercased; repeated fields joined with `, ` (RFC 9110 §5.3). */
  headers: Map<string, string>;
  /** Name, value, name, value, ... as received (names keep their case, values are OWS-trimmed). */
  rawHeaders: string[];
}

/** Options of an {@link HttpHeadParser}. */
export interface HttpHeadParserOptions {
  /**
   * Largest accepted head, in bytes, including the start line and the final CRLF CRLF. A bigger head
   * fails with `ERR_HANDSHAKE_HEADER_TOO_LARGE` (431) as soon as the limit is passed. Default 16 KiB.
   */
  maxHeaderSize?: number;
}

/** What {@link HttpHeadParser.feed} returns once the head is complete. */
export interface HttpHeadResult<T> {
  head: T;
  /** The bytes that followed the head in the last chunk (a view of it, possibly empty). */
  rest: Uint8Array;
}

/** Default {@link HttpHeadParserOptions.maxHeaderSize}: 16 KiB. */
export const DEFAULT_MAX_HEADER_SIZE = 16 * 1024;

function tooLarge(limit: number): HandshakeError {
  return new HandshakeError(
    'ERR_HANDSHAKE_HEADER_TOO_LARGE',
    `HTTP head exceeds the limit of ${limit} bytes (maxHeaderSize)`,
    431,
  );
}

// WHATWG "latin1" is windows-1252: bytes 0x80–0x9F decode above U+00FF, which makes the result a two-byte
// string; only then is the head decoded again by hand. One character per byte either way, so scan
// positions index the decoded text.
const latin1Decoder = new TextDecoder('latin1');
const ABOVE_LATIN1 = /[^\0-\xff]/;

function decodeLatin1(bytes: Uint8Array): string {
  const text = latin1Decoder.decode(bytes);
  if (!ABOVE_LATIN1.test(text)) return text;
  let exact = '';
  for (let i = 0; i < bytes.length; i += 4096) {
    exact += String.fromCharCode.apply(null, bytes.subarray(i, i + 4096) as unknown as number[]);
  }
  return exact;
}

/** Field names lowercased, repeated fields joined with ", " (RFC 9110 §5.3), and the raw list. */
function collectFields(text: string, fields: number[]): Pick<HttpRequestHead, 'headers' | 'rawHeaders'> {
  const headers = new Map<string, string>();
  const rawHeaders: string[] = [];
  for (let k = 0; k < fields.length; k += 4) {
    const rawName = text.slice(fields[k], fields[k + 1]);
    const name = rawName.toLowerCase();
    const value = text.slice(fields[k + 2], fields[k + 3]);
    rawHeaders.push(rawName, value);
    const previous = headers.get(name);
    headers.set(name, previous === undefined ? value : `${previous}, ${value}`);
  }
  return { headers, rawHeaders };
}

function buildRequest(bytes: Uint8Array, end: number, scan: HeadScan): HttpRequestHead {
  const text = decodeLatin1(bytes.subarray(0, end));
  const { headers, rawHeaders } = collectFields(text, scan.fields);
  return {
    method: text.slice(0, scan.a),
    target: text.slice(scan.a + 1, scan.b),
    versionMajor: bytes[scan.b + 6]! - 0x30,
    versionMinor: bytes[scan.b + 8]! - 0x30,
    headers,
    rawHeaders,
  };
}

function buildResponse(bytes: Uint8Array, end: number, scan: HeadScan): HttpResponseHead {
  const text = decodeLatin1(bytes.subarray(0, end));
  const { headers, rawHeaders } = collectFields(text, scan.fields);
  return {
    versionMajor: bytes[5]! - 0x30,
    versionMinor: bytes[7]! - 0x30,
    status: scan.a,
    statusText: text.slice(13, Math.max(13, scan.startLineEnd)),
    headers,
    rawHeaders,
  };
}

/**
 * Parses a complete request head (request line through CRLF CRLF; nothing may follow). Throws
 * `ERR_HANDSHAKE_MALFORMED` (400), also when the head is incomplete.
 */
export function parseRequestHead(bytes: Uint8Array): HttpRequestHead {
  const scan = newScan();
  if (scanRequest(bytes, scan) !== bytes.length) throw malformed('incomplete head or bytes after it');
  return buildRequest(bytes, bytes.length, scan);
}

/**
 * Parses a complete response head (status line through CRLF CRLF; nothing may follow). Throws
 * `ERR_HANDSHAKE_MALFORMED` (400), also when the head is incomplete.
 */
export function parseResponseHead(bytes: Uint8Array): HttpResponseHead {
  const scan = newScan();
  if (scanResponse(bytes, scan) !== bytes.length) throw malformed('incomplete head or bytes after it');
  return buildResponse(bytes, bytes.length, scan);
}

/**
 * Incremental head parser; subclasses parse the start line. A parser reads exactly one head: after
 * `feed` returned a result or threw, it must not be fed again.
 *
 * The first chunk is parsed in place in one pass (the usual case: the whole head in one packet). When it
 * is incomplete, the bytes are copied into a buffer capped at `maxHeaderSize`, later chunks are only
 * searched for CRLF CRLF, and the full parse runs once on the complete head: O(size) work in all.
 */
export abstract class HttpHeadParser<T> {
  /** The configured size limit, in bytes. */
  readonly maxHeaderSize: number;
  private buffer: Uint8Array | null = null;
  private length = 0;
  /** How much of CR LF CR LF the buffered bytes end with: 0, 1 (CR), 2 (CRLF) or 3 (CRLF CR). */
  private matched = 0;
  private finished = false;

  constructor(options: HttpHeadParserOptions = {}) {
    const max = options.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE;
    if (!Number.isInteger(max) || max < 16) throw new RangeError('maxHeaderSize must be an integer >= 16');
    this.maxHeaderSize = max;
  }

  /**
   * Consumes the next chunk. Returns `null` while the head is incomplete, or the head and the bytes
   * after it. Throws a HandshakeError: `ERR_HANDSHAKE_HEADER_TOO_LARGE` (431) as soon as `maxHeaderSize`
   * bytes arrived without a complete head, `ERR_HANDSHAKE_MALFORMED` (400) on bad syntax. The memory
   * held never exceeds `maxHeaderSize` bytes.
   */
  feed(chunk: Uint8Array): HttpHeadResult<T> | null {
    if (this.finished) throw new Error('HttpHeadParser: feed() called after the head was complete or failed');
    try {
      return this.length === 0 ? this.feedFirst(chunk) : this.feedMore(chunk);
    } catch (error) {
      this.finished = true;
      this.buffer = null;
      throw error;
    }
  }

  /** Scans a head at the start of `bytes`: its length or INCOMPLETE; throws on bad syntax. */
  protected abstract scan(bytes: Uint8Array, scan: HeadScan): number;
  /** Builds the head from a complete scan. */
  protected abstract build(bytes: Uint8Array, end: number, scan: HeadScan): T;

  /** Fast path: nothing buffered, so the head is parsed straight out of `chunk` in one pass. */
  private feedFirst(chunk: Uint8Array): HttpHeadResult<T> | null {
    const max = this.maxHeaderSize;
    const scan = newScan();
    const end = this.scan(chunk.length > max ? chunk.subarray(0, max) : chunk, scan);
    if (end !== INCOMPLETE) return this.complete(this.build(chunk, end, scan), chunk.subarray(end));
    // Completing the head needs at least one more byte, which would pass the limit.
    if (chunk.length >= max) throw tooLarge(max);
    if (chunk.length > 0) {
      this.findTerminator(chunk, chunk.length);
      this.append(chunk);
    }
    return null;
  }

  /** Slow path: look for CRLF CRLF in the new bytes only, parse the whole head once it is found. */
  private feedMore(chunk: Uint8Array): HttpHeadResult<T> | null {
    const max = this.maxHeaderSize;
    const before = this.length;
    // Never look at (or copy) more than the limit allows: an oversized head is refused at the limit.
    const window = Math.min(chunk.length, max - before);
    const found = this.findTerminator(chunk, window);
    if (found === INCOMPLETE) {
      this.append(chunk.subarray(0, window));
      if (this.length >= max) throw tooLarge(max);
      return null;
    }
    this.append(chunk.subarray(0, found));
    const head = this.buffer!.subarray(0, this.length);
    const scan = newScan();
    // The terminator search and the scan agree on where the head ends, unless the head is malformed.
    if (this.scan(head, scan) !== head.length) throw malformed('unexpected end of head');
    return this.complete(this.build(head, head.length, scan), chunk.subarray(found));
  }

  /**
   * Index just past CR LF CR LF in bytes[0, end), counting the part of it the buffered bytes end with;
   * or INCOMPLETE, with {@link matched} updated for the next chunk.
   */
  private findTerminator(bytes: Uint8Array, end: number): number {
    let m = this.matched;
    for (let i = 0; i < end; i++) {
      m = nextMatch(m, bytes[i]!);
      if (m === 4) return i + 1;
    }
    this.matched = m;
    return INCOMPLETE;
  }

  private append(bytes: Uint8Array): void {
    const needed = this.length + bytes.length;
    if (this.buffer === null || this.buffer.length < needed) {
      const grown = new Uint8Array(Math.min(this.maxHeaderSize, Math.max(needed, 2 * this.length, 1024)));
      if (this.buffer !== null) grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.buffer.set(bytes, this.length);
    this.length = needed;
  }

  private complete(head: T, rest: Uint8Array): HttpHeadResult<T> {
    this.finished = true;
    this.buffer = null;
    return { head, rest };
  }
}
/** Incremental parser of a request head (server role). */
export class HttpRequestParser extends HttpHeadParser<HttpRequestHead> {
  protected override scan(bytes: Uint8Array, scan: HeadScan): number {
    return scanRequest(bytes, scan);
  }
  protected override build(bytes: Uint8Array, end: number, scan: HeadScan): HttpRequestHead {
    return buildRequest(bytes, end, scan);
  }
}

/** Incremental parser of a response head (client role). */
export class HttpResponseParser extends HttpHeadParser<HttpResponseHead> {
  protected override scan(bytes: Uint8Array, scan: HeadScan): number {
    return scanResponse(bytes, scan);
  }
  protected override build(bytes: Uint8Array, end: number, scan: HeadScan): HttpResponseHead {
    return buildResponse(bytes, end, scan);
  }
}
