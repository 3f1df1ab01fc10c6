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
 * No `node:` imports: the client side runs in browsers too.
 * @module
 */
import { HandshakeError } from './errors.js';

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

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

/** 1 for each tchar (RFC 9110 §5.6.2), indexed by byte: one lookup per byte of a name. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TCHAR[c.charCodeAt(0)] = 1;
}

/** True when `code` is a tchar (RFC 9110 §5.6.2). */
export function isTokenChar(code: number): boolean {
  return code < 256 && TCHAR[code] === 1;
}

/** True when `value` is a non-empty token (RFC 9110 §5.6.2). */
export function isToken(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    if (!isTokenChar(value.charCodeAt(i))) return false;
  }
  return true;
}

function malformed(message: string): HandshakeError {
  return new HandshakeError('ERR_HANDSHAKE_MALFORMED', `Malformed HTTP head: ${message}`, 400);
}

function tooLarge(limit: number): HandshakeError {
  return new HandshakeError(
    'ERR_HANDSHAKE_HEADER_TOO_LARGE',
    `HTTP head exceeds the limit of ${limit} bytes (maxHeaderSize)`,
    431,
  );
}

/** Returned by the scanners when the bytes end before the head does. */
const INCOMPLETE = -1;

/** Positions found by one scan of a head; strings are cut from them once the head is complete. */
interface HeadScan {
  /** Request line: method end and target end (both at a SP). Status line: the status code. */
  a: number;
  b: number;
  /** Index of the CR ending the start line. */
  startLineEnd: number;
  /** name start, name end (the colon), value start, value end: four numbers per field line. */
  fields: number[];
}

/**
 * Checks the line terminator at `i`, where a scan stopped: returns the index after CRLF, INCOMPLETE, or
 * throws naming `what` (RFC 9112 §2.2: lines end in CRLF; a bare CR or LF is rejected).
 */
function lineEnd(bytes: Uint8Array, i: number, what: string): number {
  if (i >= bytes.length) return INCOMPLETE;
  const b = bytes[i];
  if (b === LF) throw malformed('bare LF line terminator');
  if (b !== CR) throw malformed(`invalid character in ${what}`);
  if (i + 1 >= bytes.length) return INCOMPLETE;
  if (bytes[i + 1] !== LF) throw malformed('bare CR');
  return i + 2;
}

/** `HTTP/x.y` at `at` (RFC 9112 §2.3), or INCOMPLETE when not all eight bytes are here yet. */
function scanVersion(bytes: Uint8Array, at: number): number {
  if (bytes.length < at + 8) return INCOMPLETE;
  const ok =
    bytes[at] === 0x48 &&
    bytes[at + 1] === 0x54 &&
    bytes[at + 2] === 0x54 &&
    bytes[at + 3] === 0x50 &&
    bytes[at + 4] === 0x2f &&
    isDigit(bytes[at + 5]!) &&
    bytes[at + 6] === 0x2e &&
    isDigit(bytes[at + 7]!);
  if (!ok) throw malformed('invalid HTTP version');
  return at + 8;
}

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

/** request-line = method SP request-target SP HTTP-version CRLF (RFC 9112 §3). */
function scanRequestLine(bytes: Uint8Array, scan: HeadScan): number {
  const len = bytes.length;
  let i = 0;
  while (i < len && TCHAR[bytes[i]!] === 1) i++;
  if (i >= len) return INCOMPLETE;
  if (i === 0 || bytes[i] !== SP) throw malformed('invalid request method');
  scan.a = i++;
  // request-target is URI syntax (RFC 9112 §3.2): printable ASCII, no spaces.
  while (i < len && bytes[i]! > SP && bytes[i]! < 0x7f) i++;
  if (i >= len) return INCOMPLETE;
  if (i === scan.a + 1 || bytes[i] !== SP) throw malformed('invalid request target');
  scan.b = i;
  const end = scanVersion(bytes, i + 1);
  if (end === INCOMPLETE) return INCOMPLETE;
  scan.startLineEnd = end;
  return lineEnd(bytes, end, 'request line');
}

/**
 * status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF (RFC 9112 §4). A missing SP after
 * the status code is tolerated: some servers omit it along with the reason.
 */
function scanStatusLine(bytes: Uint8Array, scan: HeadScan): number {
  if (scanVersion(bytes, 0) === INCOMPLETE || bytes.length < 13) return INCOMPLETE;
  if (bytes[8] !== SP || !isDigit(bytes[9]!) || !isDigit(bytes[10]!) || !isDigit(bytes[11]!)) {
    throw malformed('invalid status code');
  }
  scan.a = (bytes[9]! - 0x30) * 100 + (bytes[10]! - 0x30) * 10 + (bytes[11]! - 0x30);
  let i = 12;
  if (bytes[i] === SP) i = skipFieldText(bytes, i + 1);
  scan.startLineEnd = i;
  return lineEnd(bytes, i, 'status line');
}

/** Index of the first byte at or after `i` that is not HTAB, SP, VCHAR or obs-text (RFC 9110 §5.5). */
function skipFieldText(bytes: Uint8Array, i: number): number {
  const len = bytes.length;
  for (; i < len; i++) {
    const b = bytes[i]!;
    if (b < SP ? b !== HTAB : b === 0x7f) break;
  }
  return i;
}

/** End of the field name starting at `start` (the colon), or INCOMPLETE (RFC 9112 §5.1, §5.2). */
function scanFieldName(bytes: Uint8Array, start: number): number {
  const first = bytes[start];
  if (first === SP || first === HTAB) throw malformed('obsolete line folding');
  let i = start;
  while (i < bytes.length && TCHAR[bytes[i]!] === 1) i++;
  if (i >= bytes.length) return INCOMPLETE;
  // Also refuses whitespace between the name and the colon (RFC 9112 §5.1).
  if (bytes[i] !== COLON || i === start) {
    throw malformed(
      bytes[i] === CR || bytes[i] === LF ? 'header line without a colon' : 'invalid header name',
    );
  }
  return i;
}

/**
 * field-line = field-name ":" OWS field-value OWS CRLF (RFC 9112 §5). Returns the index of the next line
 * or INCOMPLETE. Rejects obs-fold (§5.2), whitespace before the colon (§5.1) and control characters.
 */
function scanFieldLine(bytes: Uint8Array, start: number, scan: HeadScan): number {
  const nameEnd = scanFieldName(bytes, start);
  if (nameEnd === INCOMPLETE) return INCOMPLETE;
  const len = bytes.length;
  let i = nameEnd + 1;
  while (i < len && (bytes[i] === SP || bytes[i] === HTAB)) i++;
  const valueStart = i;
  i = skipFieldText(bytes, i);
  const next = lineEnd(bytes, i, 'header value');
  if (next === INCOMPLETE) return INCOMPLETE;
  while (i > valueStart && (bytes[i - 1] === SP || bytes[i - 1] === HTAB)) i--;
  scan.fields.push(start, nameEnd, valueStart, i);
  return next;
}

/** Scans field lines from `pos` to the empty line; returns the index past it (the head's end) or INCOMPLETE. */
function scanFields(bytes: Uint8Array, pos: number, scan: HeadScan): number {
  for (;;) {
    if (pos >= bytes.length) return INCOMPLETE;
    if (bytes[pos] === CR) return lineEnd(bytes, pos, 'header line');
    pos = scanFieldLine(bytes, pos, scan);
    if (pos === INCOMPLETE) return INCOMPLETE;
  }
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

function newScan(): HeadScan {
  return { a: 0, b: 0, startLineEnd: 0, fields: [] };
}

/** Scans a request head at the start of `bytes`: the head's length, or INCOMPLETE. */
function scanRequest(bytes: Uint8Array, scan: HeadScan): number {
  const pos = scanRequestLine(bytes, scan);
  return pos === INCOMPLETE ? INCOMPLETE : scanFields(bytes, pos, scan);
}

/** Scans a response head at the start of `bytes`: the head's length, or INCOMPLETE. */
function scanResponse(bytes: Uint8Array, scan: HeadScan): number {
  const pos = scanStatusLine(bytes, scan);
  return pos === INCOMPLETE ? INCOMPLETE : scanFields(bytes, pos, scan);
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

/** Next state of the CR LF CR LF matcher (0–3 bytes matched; 4 = found) after byte `b`. */
function nextMatch(matched: number, b: number): number {
  if (b === CR) return matched === 2 ? 3 : 1;
  if (b !== LF) return 0;
  // RFC 9112 §2.2: a LF must follow a CR. Refusing it here stops a bare-LF head from waiting for the limit.
  if (matched !== 1 && matched !== 3) throw malformed('bare LF line terminator');
  return matched + 1;
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
