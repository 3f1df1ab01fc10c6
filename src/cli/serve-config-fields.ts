/**
 * Zod building blocks of the `conduit serve` configuration file: sizes, durations, counts and flags as
 * people write them (`64KiB`, `30s`, `on`), also as the strings `${VAR}` interpolation produces. Each
 * reports a problem as "expected ...", the half of a message the loader completes with what it found.
 * The unit grammar and the origin check are the gateway's, so both files read the same way.
 * @module
 */
import { z } from 'zod';
import { originPattern } from '../gateway/config/schema-fields.js';
import { parseDuration, parseSize } from '../gateway/config/units.js';

export { originPattern };

type Ctx = z.core.$RefinementCtx;

/** Reports one problem at the current path. */
function fail(ctx: Ctx, input: unknown, expected: string): never {
  ctx.issues.push({ code: 'custom', message: expected, input });
  return z.NEVER;
}

const numberOrString = (expected: string) => z.union([z.number(), z.string()], { error: expected });

/** A size in bytes: a number, or a string like `64KiB`, `1MiB`, `1MB` (at least `min`). */
export function size(min = 0) {
  const expected = min > 0 ? `expected a size like 1MiB, at least ${min} bytes` : 'expected a size like 1MiB';
  return numberOrString(expected).transform((value, ctx) => {
    const bytes = parseSize(value);
    return bytes !== null && bytes >= min ? bytes : fail(ctx, value, expected);
  });
}

/** A duration in ms: a number of ms, or a string like `250ms`, `30s`, `1m30s` (at least `min` ms). */
export function duration(min = 0) {
  const expected =
    min > 0 ? `expected a duration like 30s, at least ${min} ms` : 'expected a duration like 30s';
  return numberOrString(expected).transform((value, ctx) => {
    const ms = parseDuration(value);
    return ms !== null && ms >= min ? ms : fail(ctx, value, expected);
  });
}

/** An integer within [min, max] (numeric strings accepted). */
export function count(min: number, max = Number.MAX_SAFE_INTEGER) {
  const expected =
    max === Number.MAX_SAFE_INTEGER
      ? `expected an integer >= ${min}`
      : `expected an integer from ${min} to ${max}`;
  return numberOrString(expected).transform((value, ctx) => {
    const text = String(value).trim();
    const n = /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
    return Number.isSafeInteger(n) && n >= min && n <= max ? n : fail(ctx, value, expected);
  });
}

/** A number > 0, fractions allowed (numeric strings accepted). */
export function rate() {
  const expected = 'expected a number > 0';
  return numberOrString(expected).transform((value, ctx) => {
    const text = String(value).trim();
    const n = /^\d+(?:\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
    return n > 0 && Number.isFinite(n) ? n : fail(ctx, value, expected);
  });
}

/** A boolean: `true`/`false`, or `on`/`off`; the gateway's spelling, shared. */
export { flag } from '../gateway/config/schema-fields.js';

/** A non-empty string. */
export function text() {
  return z.string().min(1);
}

/** One of `words`, as a phrase naming them all when it is not. */
export function oneOf<const T extends readonly [string, ...string[]]>(words: T) {
  return z.enum(words, { error: `expected one of ${words.join(', ')}` });
}

/** A URL whose scheme is one of `schemes` (`redis:`), with a host. */
export function url(schemes: readonly string[], expected: string) {
  return z.string({ error: expected }).refine(
    (value) => {
      try {
        const parsed = new URL(value);
        return schemes.includes(parsed.protocol) && parsed.host !== '';
      } catch {
        return false;
      }
    },
    { error: expected },
  );
}

/** One value or a list of them, always a list. */
export function oneOrMany<T extends z.ZodType>(item: T) {
  return z.union([item, z.array(item).min(1)]).transform((value) => (Array.isArray(value) ? value : [value]));
}
