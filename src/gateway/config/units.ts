/**
 * Durations and sizes as people write them in a config file: `30s`, `1m30s`, `250ms`, `16MiB`, `64KB`,
 * or plain numbers (milliseconds, bytes). Plain numeric strings are accepted too, because values that come
 * from `${VAR}` interpolation are always strings.
 * @module
 */

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

const NUMBER = /^\d+(?:\.\d+)?$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
const SIZE = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/i;

/**
 * Milliseconds of a duration: a non-negative number (ms), a numeric string (ms), or one or more
 * `<number><unit>` parts with units `ms`, `s`, `m`, `h` (`1m30s`). Null when it is none of these.
 */
export function parseDuration(value: number | string): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : null;
  const text = value.trim();
  if (NUMBER.test(text)) return Number(text);
  if (text === '') return null;
  let total = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < text.length) {
    const part = DURATION_PART.exec(text);
    if (part === null) return null;
    total += Number(part[1]) * DURATION_UNITS[part[2]!]!;
  }
  // Sub-millisecond remainders (`1.0005s`) mean nothing to timers.
  return Math.round(total);
}

/**
 * Bytes of a size: a non-negative integer, a numeric string, or `<number><unit>` with units `B`, `KB`,
 * `MB`, `GB` (powers of 1000) or `KiB`, `MiB`, `GiB` (powers of 1024), case-insensitive. Fractions are
 * rounded down to whole bytes. Null when it is none of these.
 */
export function parseSize(value: number | string): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : null;
  const text = value.trim();
  if (NUMBER.test(text)) return Math.floor(Number(text));
  const match = SIZE.exec(text);
  if (match === null) return null;
  const unit = SIZE_UNITS[match[2]!.toLowerCase()];
  if (unit === undefined) return null;
  const bytes = Math.floor(Number(match[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : null;
}
