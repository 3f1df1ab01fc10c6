/**
 * Close frame payloads: the status code rules of RFC 6455 §7.4 and the reason's UTF-8 (§5.5.1).
 * @module
 */
import { CloseCode, MAX_CONTROL_PAYLOAD } from './constants.js';
import { ProtocolError } from './errors.js';
import { isValidUtf8 } from './utf8.js';

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * True when `code` may appear in a close frame on the wire (RFC 6455 §7.4.1, §7.4.2): the defined codes
 * 1000–1003 and 1007–1014, and 3000–4999 (registered and private use). 1004 is reserved, 1005, 1006 and
 * 1015 must never be sent, and the rest of 1000–2999 is unassigned.
 */
export function isValidWireCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1014) return true;
  return code >= 3000 && code <= 4999;
}

/** A decoded close frame payload. */
export interface ClosePayload {
  /** The status code, or 1005 (no status) when the payload was empty (RFC 6455 §7.1.5). */
  code: number;
  reason: string;
}

/**
 * Decodes and validates a received close payload: one byte is malformed (1002), the code must be one a
 * peer may send (1002), and the reason must be valid UTF-8 (1007).
 */
export function parseClosePayload(payload: Uint8Array): ClosePayload {
  if (payload.length === 0) return { code: CloseCode.NO_STATUS, reason: '' };
  if (payload.length === 1) {
    throw new ProtocolError('ERR_INVALID_CLOSE_PAYLOAD', 'close frame payload of 1 byte (RFC 6455 §5.5.1)');
  }
  const code = (payload[0]! << 8) | payload[1]!;
  if (!isValidWireCloseCode(code)) {
    throw new ProtocolError('ERR_INVALID_CLOSE_CODE', `invalid close code ${code} (RFC 6455 §7.4)`);
  }
  const reasonBytes = payload.subarray(2);
  if (!isValidUtf8(reasonBytes)) {
    throw new ProtocolError(
      'ERR_INVALID_UTF8',
      'close reason is not valid UTF-8 (RFC 6455 §5.5.1)',
      CloseCode.INVALID_PAYLOAD,
    );
  }
  return { code, reason: decoder.decode(reasonBytes) };
}

/**
 * Encodes a close payload to send. Without a code the payload is empty (a peer reads 1005). Throws a
 * RangeError for a code that must not be sent, or a reason longer than 123 bytes of UTF-8 (§5.5).
 */
export function buildClosePayload(code?: number, reason = ''): Uint8Array {
  if (code === undefined) {
    if (reason !== '') throw new RangeError('a close reason needs a close code');
    return new Uint8Array(0);
  }
  if (!isValidWireCloseCode(code)) throw new RangeError(`close code ${code} may not be sent (RFC 6455 §7.4)`);
  const reasonBytes = encoder.encode(reason);
  if (reasonBytes.length > MAX_CONTROL_PAYLOAD - 2) {
    throw new RangeError('close reason longer than 123 bytes (RFC 6455 §5.5)');
  }
  const payload = new Uint8Array(2 + reasonBytes.length);
  payload[0] = code >> 8;
  payload[1] = code & 0xff;
  payload.set(reasonBytes, 2);
  return payload;
}

/** Shortens a string so that its UTF-8 fits a close reason (123 bytes), without splitting a character. */
export function truncateReason(reason: string): string {
  const limit = MAX_CONTROL_PAYLOAD - 2;
  if (reason.length * 3 <= limit || encoder.encode(reason).length <= limit) return reason;
  let bytes = 0;
  let out = '';
  for (const char of reason) {
    const size = encoder.encode(char).length;
    if (bytes + size > limit) break;
    bytes += size;
    out += char;
  }
  return out;
}
