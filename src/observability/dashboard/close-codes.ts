/**
 * Close codes in words, for the dashboards' close tables and events (RFC 6455 §7.4.1 and the IANA
 * WebSocket close code registry).
 * @module
 */

/** Close codes that are part of a normal life: no dashboard event for them (RFC 6455 §7.4.1). */
export const ORDINARY_CLOSE_CODES: ReadonlySet<string> = new Set(['1000', '1001', '1005']);

/** What each registered close code means, in a few words. */
const CLOSE_MEANINGS: Readonly<Record<string, string>> = {
  '1000': 'normal',
  '1001': 'going away',
  '1002': 'protocol error',
  '1003': 'unsupported data',
  '1005': 'no status',
  '1006': 'abnormal, no close frame',
  '1007': 'invalid payload',
  '1008': 'policy violation',
  '1009': 'message too big',
  '1010': 'extension required',
  '1011': 'server error',
  '1012': 'service restart',
  '1013': 'try again later',
  '1014': 'bad gateway',
  '1015': 'TLS handshake',
};

/** What close code `code` means, in a few words; 4000–4999 are the application's own (RFC 6455 §7.4.2). */
export function closeMeaning(code: string): string {
  return CLOSE_MEANINGS[code] ?? (code.startsWith('4') ? 'application' : 'unknown');
}
