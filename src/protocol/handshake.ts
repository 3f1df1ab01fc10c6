/**
 * Pieces of the opening handshake (RFC 6455 §4) shared by both roles: the key and its accept value,
 * comma-separated token lists, and safe header formatting. The client role is in `handshake-client.ts`,
 * the server role in `handshake-server.ts`. Node-only (SHA-1 and random bytes come from `node:crypto`).
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { WEBSOCKET_GUID } from './constants.js';
import { HandshakeError } from './errors.js';
import { isToken } from './http-head.js';

/** A fresh `Sec-WebSocket-Key`: base64 of 16 random bytes (RFC 6455 §4.1). */
export function generateKey(): string {
  return randomBytes(16).toString('base64');
}

/** The `Sec-WebSocket-Accept` value for `key`: base64(SHA-1(key + GUID)) (RFC 6455 §4.2.2, §1.3). */
export function computeAccept(key: string): string {
  return createHash('sha1')
    .update(key + WEBSOCKET_GUID)
    .digest('base64');
}

// 16 bytes encode to 22 base64 digits and two pad characters (RFC 6455 §4.1, §11.3.1).
const KEY_PATTERN = /^[A-Za-z0-9+/]{22}==$/;

/** True when `key` is a base64 string that decodes to exactly 16 bytes, as `Sec-WebSocket-Key` must be. */
export function isValidKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

/**
 * Splits a comma-separated field value (RFC 9110 §5.6.1) into its elements, trimming optional whitespace
 * and dropping empty elements. `undefined` (an absent header) gives an empty list.
 */
export function splitList(value: string | undefined): string[] {
  if (value === undefined) return [];
  const elements: string[] = [];
  for (const part of value.split(',')) {
    const element = part.replace(/^[ \t]+|[ \t]+$/g, '');
    if (element !== '') elements.push(element);
  }
  return elements;
}

/** True when the list `value` has an element equal to `token`, ignoring ASCII case (RFC 9110 §7.6.1). */
export function hasToken(value: string | undefined, token: string): boolean {
  const wanted = token.toLowerCase();
  return splitList(value).some((element) => element.toLowerCase() === wanted);
}

/** How many times the field `name` (compared case-insensitively) appears in `rawHeaders`. */
export function countHeader(rawHeaders: readonly string[], name: string): number {
  const wanted = name.toLowerCase();
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === wanted) count++;
  }
  return count;
}

/** Why a subprotocol list is invalid (RFC 6455 §4.1: unique tokens), or `undefined` when it is valid. */
export function subprotocolListError(protocols: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const protocol of protocols) {
    if (!isToken(protocol)) return `subprotocol ${JSON.stringify(protocol)} is not a token`;
    if (seen.has(protocol)) return `subprotocol "${protocol}" is listed twice`;
    seen.add(protocol);
  }
  return undefined;
}

/**
 * Parses a `Sec-WebSocket-Protocol` value (repeated headers joined) into its subprotocols, in order.
 * Throws `ERR_HANDSHAKE_SUBPROTOCOL` (400) when an element is not a token or is repeated (RFC 6455 §4.1).
 */
export function parseSubprotocols(value: string | undefined): string[] {
  const protocols = splitList(value);
  const error = subprotocolListError(protocols);
  if (error !== undefined) {
    throw new HandshakeError('ERR_HANDSHAKE_SUBPROTOCOL', `Invalid Sec-WebSocket-Protocol header: ${error}`);
  }
  return protocols;
}

/**
 * True when `value` may be sent as a field value by this library: HTAB, SP and visible ASCII only. Control
 * characters are excluded by RFC 9110 §5.5 (and CR/LF would inject headers); obs-text is excluded so that
 * every head we build is ASCII and can be written as UTF-8.
 */
export function isValidHeaderValue(value: string): boolean {
  return /^[\t\x20-\x7e]*$/.test(value);
}

/**
 * Formats `headers` as `Name: value\r\n` lines. Throws a TypeError for a name that is not a token, a value
 * with CR, LF, another control character or non-ASCII (no header injection), or a name in `reserved` (lowercase):
 * those are written by the handshake itself.
 */
export function formatHeaderLines(
  headers: Readonly<Record<string, string>> | undefined,
  reserved: ReadonlySet<string>,
): string {
  let lines = '';
  if (headers === undefined) return lines;
  for (const [name, value] of Object.entries(headers)) {
    if (!isToken(name)) throw new TypeError(`Header name ${JSON.stringify(name)} is not a token`);
    if (reserved.has(name.toLowerCase())) throw new TypeError(`Header "${name}" is set by the handshake`);
    const text = String(value);
    if (!isValidHeaderValue(text)) {
      throw new TypeError(`Header "${name}" has a control or non-ASCII character in its value`);
    }
    lines += `${name}: ${text}\r\n`;
  }
  return lines;
}
