/**
 * Zod building blocks of the gateway config schema: numbers that may arrive as strings (after `${VAR}`
 * interpolation every value is a string), durations, sizes, ports, names, regular expressions, backend
 * URLs, IP rules and origins. Each one reports problems as "expected ..." so that the loader can append
 * what it found.
 * @module
 */
import { z } from 'zod';
import { ipFilter } from '../../server/middleware/ip-filter.js';
import { originAllowList } from '../../server/middleware/origin.js';
import { parseDuration, parseSize } from './units.js';

type Ctx = z.core.$RefinementCtx;

/** Reports one problem at the current path; `expected` reads "expected ...". */
function fail(ctx: Ctx, input: unknown, expected: string): never {
  ctx.issues.push({ code: 'custom', message: expected, input });
  return z.NEVER;
}

/** A number or numeric string, as a JavaScript number; NaN for anything else. */
function toNumber(value: number | string): number {
  if (typeof value === 'number') return value;
  const text = value.trim();
  return /^-?\d+(?:\.\d+)?(?:e[+-]?\d+)?$/i.test(text) ? Number(text) : Number.NaN;
}

const numberOrString = (expected: string) => z.union([z.number(), z.string()], { error: expected });

function rangeText(min: number, max: number | undefined): string {
  return max === undefined ? `>= ${min}` : `from ${min} to ${max}`;
}

/** An integer within [min, max] (numeric strings accepted). */
export function integer(min: number, max?: number) {
  const expected = `expected an integer ${rangeText(min, max)}`;
  return numberOrString(expected).transform((value, ctx) => {
    const n = toNumber(value);
    const fits = Number.isSafeInteger(n) && n >= min && (max === undefined || n <= max);
    return fits ? n : fail(ctx, value, expected);
  });
}

/** A finite number greater than zero (numeric strings accepted). */
export function positiveNumber() {
  const expected = 'expected a number > 0';
  return numberOrString(expected).transform((value, ctx) => {
    const n = toNumber(value);
    return Number.isFinite(n) && n > 0 ? n : fail(ctx, value, expected);
  });
}

/** A TCP port; 0 asks the OS for a free one (useful in tests). */
export function port() {
  return integer(0, 65_535);
}

/** A duration in ms: a number of ms, or a string like `250ms`, `30s`, `1m30s`, `2h`. */
export function duration(min = 0) {
  const expected =
    min > 0
      ? `expected a duration of at least ${min} ms (a number of ms, or a string like 30s)`
      : 'expected a duration (a number of ms, or a string like 30s)';
  return numberOrString(expected).transform((value, ctx) => {
    const ms = parseDuration(value);
    return ms !== null && ms >= min ? ms : fail(ctx, value, expected);
  });
}

/** A size in bytes: a number, or a string like `64KiB`, `16MiB`, `1MB`. */
export function size(min = 0) {
  const expected = `expected a size of at least ${min} bytes (a number, or a string like 16MiB)`;
  return numberOrString(expected).transform((value, ctx) => {
    const bytes = parseSize(value);
    return bytes !== null && bytes >= min ? bytes : fail(ctx, value, expected);
  });
}

/** A non-empty string. */
export function text() {
  return z.string().min(1);
}

/** A name usable in metrics labels and logs: letters, digits, `_`, `.`, `-`. */
export function name() {
  return z.string().regex(/^[A-Za-z0-9_.-]+$/, {
    error: 'expected a name of letters, digits, "_", "." or "-"',
  });
}

/** A JavaScript regular expression source, compiled (no flags). */
export function regex() {
  return z.string().transform((source, ctx) => {
    try {
      return new RegExp(source);
    } catch (error) {
      return fail(ctx, source, `expected a valid regular expression (${(error as Error).message})`);
    }
  });
}

const WEBSOCKET_SCHEMES = new Set(['ws:', 'wss:']);
const HTTP_SCHEMES = new Set(['http:', 'https:']);

/** True for ws:// and wss:// URLs. */
export function isWebSocketUrl(url: URL): boolean {
  return WEBSOCKET_SCHEMES.has(url.protocol);
}

/** A backend URL: ws:// or wss://, or http(s):// for upstreams that only take plain HTTP requests. */
export function backendUrl() {
  const expected = 'expected a ws:// or wss:// URL';
  return z.string({ error: expected }).transform((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return fail(ctx, value, expected);
    }
    const known = WEBSOCKET_SCHEMES.has(url.protocol) || HTTP_SCHEMES.has(url.protocol);
    if (!known || url.hostname === '') return fail(ctx, value, expected);
    if (url.hash !== '') return fail(ctx, value, `${expected} without a #fragment`);
    return url;
  });
}

/** Returns true when `build` accepts `rule` (the runtime middleware validates it by throwing). */
function acceptedBy(build: () => unknown): boolean {
  try {
    build();
    return true;
  } catch {
    return false;
  }
}

/** An IP address or CIDR block, validated by the same code that enforces it (`ipFilter`). */
export function ipRule() {
  return z.string().refine((rule) => acceptedBy(() => ipFilter({ deny: [rule] })), {
    error: 'expected an IP address or CIDR block (10.0.0.0/8, 2001:db8::/32)',
  });
}

/** An origin pattern as `originAllowList` takes it: `https://app.example.com`, `https://*.example.com`, `*`. */
export function originPattern() {
  return z.string().refine((pattern) => acceptedBy(() => originAllowList([pattern])), {
    error: 'expected an origin like https://app.example.com, https://*.example.com or *',
  });
}

/** A Host header pattern: `example.com` or `*.example.com`, lowercased; no port. */
export function hostPattern() {
  return z
    .string()
    .regex(/^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/, {
      error: 'expected a host name like example.com or *.example.com',
    })
    .transform((host) => host.toLowerCase());
}

/** An HTTP header field name, lowercased (RFC 9110 §5.1 token). */
export function headerName() {
  return z
    .string()
    .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: 'expected an HTTP header name' })
    .transform((header) => header.toLowerCase());
}

/** A subprotocol name (RFC 6455 §4.1: a token). */
export function subprotocol() {
  return z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: 'expected a subprotocol token' });
}

/**
 * Checks that an object-shaped alternative names exactly one of `keys` (`{ exact: /x }`, not
 * `{ exact: /x, prefix: /y }`).
 */
export function exactlyOne(value: Record<string, unknown>, keys: readonly string[], ctx: Ctx): void {
  const present = keys.filter((key) => value[key] !== undefined);
  if (present.length !== 1) {
    ctx.issues.push({ code: 'custom', message: `expected exactly one of ${keys.join(', ')}`, input: value });
  }
}

/** Spellings of true and false accepted where a flag may come from `${VAR}` (always a string). */
const FLAG_WORDS: ReadonlyMap<string, boolean> = new Map([
  ['true', true],
  ['false', false],
  ['on', true],
  ['off', false],
]);

/** A boolean: `true`/`false`, or `on`/`off` (also as strings). */
export function flag() {
  const expected = 'expected true or false';
  return z.union([z.boolean(), z.string()], { error: expected }).transform((value, ctx) => {
    if (typeof value === 'boolean') return value;
    return FLAG_WORDS.get(value.trim().toLowerCase()) ?? fail(ctx, value, expected);
  });
}

/** How a backend is dialled: a {@link flag}, or `auto` (HTTP/2 where offered, else HTTP/1.1). */
export function http2Mode() {
  const expected = 'expected true, false or auto';
  return z.union([z.boolean(), z.string()], { error: expected }).transform((value, ctx): boolean | 'auto' => {
    if (typeof value === 'boolean') return value;
    const word = value.trim().toLowerCase();
    if (word === 'auto') return 'auto';
    return FLAG_WORDS.get(word) ?? fail(ctx, value, expected);
  });
}
