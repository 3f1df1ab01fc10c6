/**
 * The latency histogram of a `conduit bench` report as an inline SVG: one bar per histogram bucket on a
 * logarithmic time axis (the buckets are log-sized, so bars come out evenly wide), with the p50, p99
 * and p99.9 marked. Plain SVG text, no script and no external asset.
 * @module
 */
import type { LatencyMs, ResultBucket } from './bench-result.js';

const WIDTH = 760;
const HEIGHT = 320;
const MARGIN = { left: 64, right: 20, top: 50, bottom: 44 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;

/** Escapes text for an XML text node or attribute. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** `1000` µs → `1 ms`. */
function durationLabel(micros: number): string {
  if (micros >= 1e6) return `${micros / 1e6} s`;
  if (micros >= 1e3) return `${micros / 1e3} ms`;
  return `${micros} µs`;
}

/** Maps microseconds to x on a log axis spanning whole decades [10^lo, 10^hi]. */
function logScale(lo: number, hi: number): (micros: number) => number {
  return (micros) => MARGIN.left + ((Math.log10(Math.max(micros, 1)) - lo) / (hi - lo)) * PLOT_W;
}

function bars(buckets: ResultBucket[], x: (us: number) => number): string {
  const top = Math.max(...buckets.map((b) => b.count));
  return buckets
    .map((b) => {
      const left = x(b.fromUs);
      const width = Math.max(1, x(b.toUs + 1) - left);
      const height = Math.max(1, (b.count / top) * PLOT_H);
      const title = `${durationLabel(b.fromUs)}–${durationLabel(b.toUs)}: ${b.count}`;
      return `<rect x="${left.toFixed(1)}" y="${(MARGIN.top + PLOT_H - height).toFixed(1)}" width="${width.toFixed(1)}" height="${height.toFixed(1)}" fill="#3b7dd8"><title>${escapeXml(title)}</title></rect>`;
    })
    .join('');
}

function axes(lo: number, hi: number, x: (us: number) => number, top: number): string {
  const bottom = MARGIN.top + PLOT_H;
  const parts = [
    `<line x1="${MARGIN.left}" y1="${bottom}" x2="${MARGIN.left + PLOT_W}" y2="${bottom}" stroke="#444"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${bottom}" stroke="#444"/>`,
    `<text x="${MARGIN.left - 6}" y="${MARGIN.top + 4}" text-anchor="end">${top}</text>`,
    `<text x="${MARGIN.left - 6}" y="${bottom}" text-anchor="end">0</text>`,
    `<text x="${MARGIN.left + PLOT_W / 2}" y="${HEIGHT - 6}" text-anchor="middle">latency (log scale)</text>`,
  ];
  for (let decade = lo; decade <= hi; decade++) {
    const at = x(10 ** decade).toFixed(1);
    parts.push(`<line x1="${at}" y1="${bottom}" x2="${at}" y2="${bottom + 5}" stroke="#444"/>`);
    parts.push(
      `<text x="${at}" y="${bottom + 18}" text-anchor="middle">${durationLabel(10 ** decade)}</text>`,
    );
  }
  return parts.join('');
}

function markers(latency: LatencyMs, x: (us: number) => number): string {
  const marks: [string, number, string][] = [
    ['p50', latency.p50, '#1a7f37'],
    ['p99', latency.p99, '#bf8700'],
    ['p99.9', latency.p999, '#cf222e'],
  ];
  return marks
    .map(([name, value, color], i) => {
      const at = x(value * 1000).toFixed(1);
      const label = `${name} ${value} ms`;
      return (
        `<line x1="${at}" y1="${MARGIN.top}" x2="${at}" y2="${MARGIN.top + PLOT_H}" stroke="${color}" stroke-dasharray="4 3"/>` +
        `<text x="${at}" y="${MARGIN.top - 38 + i * 13}" fill="${color}" text-anchor="middle">${escapeXml(label)}</text>`
      );
    })
    .join('');
}

/** The histogram chart; a short message in place of the bars when there is no sample. */
export function histogramSvg(buckets: ResultBucket[], latency: LatencyMs): string {
  const open = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="11" role="img" aria-label="latency histogram">`;
  if (buckets.length === 0) {
    return `${open}<text x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle">no latency samples</text></svg>`;
  }
  const lo = Math.floor(Math.log10(Math.max(1, buckets[0]!.fromUs)));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(buckets.at(-1)!.toUs + 1)));
  const x = logScale(lo, hi);
  const top = Math.max(...buckets.map((b) => b.count));
  return `${open}${axes(lo, hi, x, top)}${bars(buckets, x)}${markers(latency, x)}</svg>`;
}
