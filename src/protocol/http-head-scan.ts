/**
 * Byte scanning of an HTTP/1.1 head (RFC 9112 §2–§5): the start line and field lines are checked byte by
 * byte and only positions are recorded; no string is cut until the head is known to be complete. Also the
 * token grammar (RFC 9110 §5.6.2) and the CR LF CR LF matcher the incremental parser uses on later chunks.
 *
 * Kept apart from `http-head.ts` so that the hot, allocation-free grammar checks sit in one place and the
 * parser there only deals with buffering, limits and building the result. See `http-head.ts` for the
 * strictness rules this scanner enforces.
 *
 * No `node:` imports: the client side runs in browsers too.
 * @module
 */
import { HandshakeError } from './errors.js';

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

/** A 400 `ERR_HANDSHAKE_MALFORMED` HandshakeError for a head that breaks the grammar. */
export function malformed(message: string): HandshakeError {
  return new HandshakeError('ERR_HANDSHAKE_MALFORMED', `Malformed HTTP head: ${message}`, 400);
}

/** Returned by the scanners when the bytes end before the head does. */
export const INCOMPLETE = -1;

/** Positions found by one scan of a head; strings are cut from them once the head is complete. */
export interface HeadScan {
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

/** A fresh, empty {@link HeadScan}. */
export function newScan(): HeadScan {
  return { a: 0, b: 0, startLineEnd: 0, fields: [] };
}

/** Scans a request head at the start of `bytes`: the head's length, or INCOMPLETE. */
export function scanRequest(bytes: Uint8Array, scan: HeadScan): number {
  const pos = scanRequestLine(bytes, scan);
  return pos === INCOMPLETE ? INCOMPLETE : scanFields(bytes, pos, scan);
}

/** Scans a response head at the start of `bytes`: the head's length, or INCOMPLETE. */
export function scanResponse(bytes: Uint8Array, scan: HeadScan): number {
  const pos = scanStatusLine(bytes, scan);
  return pos === INCOMPLETE ? INCOMPLETE : scanFields(bytes, pos, scan);
}

/** Next state of the CR LF CR LF matcher (0–3 bytes matched; 4 = found) after byte `b`. */
export function nextMatch(matched: number, b: number): number {
  if (b === CR) return matched === 2 ? 3 : 1;
  if (b !== LF) return 0;
  // RFC 9112 §2.2: a LF must follow a CR. Refusing it here stops a bare-LF head from waiting for the limit.
  if (matched !== 1 && matched !== 3) throw malformed('bare LF line terminator');
  return matched + 1;
}
