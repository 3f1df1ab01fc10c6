/**
 * Number and time formatting of the dashboard and the chat demo (browser code; pure, so the Node side
 * that builds snapshots uses it too).
 * @module
 */

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** `1 234`, `12.5`, `0.25`: up to three significant decimals for small values, grouped digits for big. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return '—';
  const abs = Math.abs(value);
  const digits = abs >= 100 || Number.isInteger(value) ? 0 : abs >= 10 ? 1 : 2;
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** `512 B`, `1.5 KiB`, `23 MiB` (binary units). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '—';
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${BYTE_UNITS[unit]}`;
}

/** A value in the given dashboard format (see `StatFormat`). */
export function formatValue(value: number | string, format: string): string {
  if (typeof value === 'string') return value;
  switch (format) {
    case 'rate':
      return `${formatNumber(value)}/s`;
    case 'bytes':
      return formatBytes(value);
    case 'byteRate':
      return `${formatBytes(value)}/s`;
    case 'ms':
      return `${formatNumber(value)} ms`;
    case 'percent':
      return `${formatNumber(value)}%`;
    default:
      return formatNumber(value);
  }
}

/** `14:05:09` in the viewer's time zone. */
export function formatClock(time: number, seconds = true): string {
  const date = new Date(time);
  const pad = (n: number): string => String(n).padStart(2, '0');
  const hm = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  return seconds ? `${hm}:${pad(date.getSeconds())}` : hm;
}

/** `1h 02m`, `3m 05s`, `42s`: a process's age, as precise as a glance needs. */
export function formatUptime(seconds: number): string {
  const s = Math.floor(seconds);
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (s >= 3600) return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  return `${s}s`;
}
