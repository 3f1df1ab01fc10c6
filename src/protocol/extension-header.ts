/**
 * The `Sec-WebSocket-Extensions` header grammar (RFC 6455 §9.1):
 *
 * ```
 * Sec-WebSocket-Extensions = 1#extension
 * extension = extension-token *( ";" extension-param )
 * extension-param = token [ "=" ( token | quoted-string ) ]
 * ```
 *
 * with optional whitespace around every separator. A quoted-string value must, once unescaped, be a token
 * (RFC 6455 §9.1). Empty list elements (`a, , b`) are ignored (RFC 9110 §5.6.1.2). Names are kept as
 * received: matching them is the negotiating code's business.
 *
 * One choice goes beyond the grammar: a parameter name repeated within one element (`a; x=1; x=2`) is
 * rejected here, because {@link ExtensionParams} can hold one value per name and silently keeping either
 * would hide the fault from the extension (RFC 7692 §7 makes such an offer invalid for permessage-deflate).
 *
 * No `node:` imports: the client side runs in browsers too.
 * @module
 */
import { HandshakeError } from './errors.js';
import type { ExtensionOffer, ExtensionParams } from './extension.js';
import { isToken, isTokenChar } from './http-head.js';

const SP = 0x20;
const HTAB = 0x09;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;

function invalid(header: string, pos: number, why: string): HandshakeError {
  return new HandshakeError(
    'ERR_HANDSHAKE_EXTENSION',
    `Invalid Sec-WebSocket-Extensions header ${JSON.stringify(header)}: ${why} at offset ${pos}`,
    400,
  );
}

/** A cursor over the header value; each reader advances `pos`. */
class Cursor {
  pos = 0;
  constructor(readonly text: string) {}

  get atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): number {
    return this.text.charCodeAt(this.pos);
  }

  skipOws(): void {
    while (this.peek() === SP || this.peek() === HTAB) this.pos++;
  }

  token(what: string): string {
    const start = this.pos;
    while (isTokenChar(this.peek())) this.pos++;
    if (this.pos === start) throw invalid(this.text, start, `expected ${what}`);
    return this.text.slice(start, this.pos);
  }

  /** quoted-string (RFC 9110 §5.6.4), returned unescaped. */
  quoted(): string {
    const start = this.pos++;
    let value = '';
    for (;;) {
      let c = this.text.charCodeAt(this.pos++);
      if (Number.isNaN(c)) throw invalid(this.text, start, 'unterminated quoted-string');
      if (c === DQUOTE) return value;
      if (c === BACKSLASH) c = this.text.charCodeAt(this.pos++);
      if (!isQuotedTextChar(c)) throw invalid(this.text, this.pos - 1, 'invalid character in quoted-string');
      value += String.fromCharCode(c);
    }
  }
}

/** HTAB, SP, VCHAR or obs-text: what a quoted-string may carry, escaped or not (RFC 9110 §5.6.4). */
function isQuotedTextChar(c: number): boolean {
  return c === HTAB || (c >= SP && c !== 0x7f && c <= 0xff);
}

/** extension-param value: token | quoted-string whose content is a token (RFC 6455 §9.1). */
function parseValue(cursor: Cursor): string {
  if (cursor.peek() !== DQUOTE) return cursor.token('a parameter value');
  const start = cursor.pos;
  const value = cursor.quoted();
  if (!isToken(value)) throw invalid(cursor.text, start, 'quoted parameter value is not a token');
  return value;
}

function parseElement(cursor: Cursor): ExtensionOffer {
  const name = cursor.token('an extension name');
  // A null prototype keeps names such as `__proto__` or `toString` ordinary keys.
  const params: ExtensionParams = Object.create(null);
  let repeatedParam: string | undefined;
  cursor.skipOws();
  while (cursor.peek() === SEMICOLON) {
    cursor.pos++;
    cursor.skipOws();
    const param = cursor.token('a parameter name');
    const repeated = param in params;
    if (repeated) repeatedParam ??= param;
    cursor.skipOws();
    let value: string | true = true;
    if (cursor.peek() === EQUALS) {
      cursor.pos++;
      cursor.skipOws();
      value = parseValue(cursor);
      cursor.skipOws();
    }
    if (!repeated) params[param] = value;
  }
  return repeatedParam === undefined ? { name, params } : { name, params, repeatedParam };
}

/**
 * Parses a `Sec-WebSocket-Extensions` value (several headers joined with `, ` are one value) into its
 * elements, in order; several elements may name the same extension. Throws a HandshakeError with code
 * `ERR_HANDSHAKE_EXTENSION` (400) on a syntax error or a quoted value that is not a token. A parameter
 * name repeated within one element is grammatical: the element keeps the first value and names the
 * repeated parameter in `repeatedParam`, so that negotiation can decline it. Parameter objects have a
 * null prototype.
 */
export function parseExtensions(header: string): ExtensionOffer[] {
  const offers: ExtensionOffer[] = [];
  const cursor = new Cursor(header);
  for (;;) {
    cursor.skipOws();
    if (cursor.atEnd) return offers;
    if (cursor.peek() !== COMMA) {
      offers.push(parseElement(cursor));
      if (cursor.atEnd) return offers;
      if (cursor.peek() !== COMMA) throw invalid(header, cursor.pos, 'expected "," or ";"');
    }
    cursor.pos++;
  }
}

function formatValue(value: string): string {
  if (isToken(value)) return value;
  let quoted = '"';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (!isQuotedTextChar(c))
      throw new TypeError(`Extension parameter value ${JSON.stringify(value)} cannot be quoted`);
    quoted += c === DQUOTE || c === BACKSLASH ? `\\${value[i]}` : value[i];
  }
  return `${quoted}"`;
}

function formatElement({ name, params }: ExtensionOffer): string {
  if (!isToken(name)) throw new TypeError(`Extension name ${JSON.stringify(name)} is not a token`);
  let element = name;
  for (const key of Object.keys(params)) {
    if (!isToken(key)) throw new TypeError(`Extension parameter name ${JSON.stringify(key)} is not a token`);
    const value = params[key]!;
    element += value === true ? `; ${key}` : `; ${key}=${formatValue(value)}`;
  }
  return element;
}

/**
 * Formats offers or responses as a `Sec-WebSocket-Extensions` value: `name; param; param=value, ...`.
 * Values are quoted only when they are not tokens (and such values do not satisfy RFC 6455 §9.1, so a
 * strict peer, this parser included, rejects them). Throws a TypeError for a name that is not a token or a
 * value that cannot be written as a quoted-string (control characters, characters above U+00FF).
 */
export function serializeExtensions(offers: readonly ExtensionOffer[]): string {
  return offers.map(formatElement).join(', ');
}
