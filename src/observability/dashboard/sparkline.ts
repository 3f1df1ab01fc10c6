/**
 * Sparklines as plain inline SVG (browser code; the geometry is pure and unit-testable in Node): one
 * polyline over a filled area, scaled so that 0 sits on the bottom edge and the largest value on the top.
 * @module
 */

const SVG = 'http://www.w3.org/2000/svg';
/** The drawing's own coordinates; CSS stretches it to the card's width. */
const WIDTH = 120;
const HEIGHT = 32;
/** Room for the stroke at the top and bottom edges. */
const PAD = 1.5;

/** One coordinate, rounded to a tenth (shorter attributes, no visible difference). */
function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/**
 * The polyline points (`x,y x,y ...`) of `values` in a `width` x `height` box: `slots` values span the
 * full width (fewer values are drawn right-aligned, so the newest is always at the right edge).
 */
export function sparklinePoints(
  values: readonly number[],
  slots: number,
  width = WIDTH,
  height = HEIGHT,
): string {
  if (values.length === 0) return '';
  const max = Math.max(...values.map((v) => (Number.isFinite(v) ? v : 0)), 0);
  const step = width / Math.max(1, slots - 1);
  const first = Math.max(0, slots - values.length);
  const usable = height - 2 * PAD;
  return values
    .map((value, i) => {
      const v = Number.isFinite(value) ? Math.max(0, value) : 0;
      const y = max === 0 ? height - PAD : height - PAD - (v / max) * usable;
      return `${round((first + i) * step)},${round(y)}`;
    })
    .join(' ');
}

/** The closed area under a polyline (for the fill). */
function areaPath(points: string, height: number): string {
  if (points === '') return '';
  const pairs = points.split(' ');
  const firstX = pairs[0]!.split(',')[0];
  const lastX = pairs[pairs.length - 1]!.split(',')[0];
  return `M${firstX},${height} L${pairs.join(' L')} L${lastX},${height} Z`;
}

function child(svg: SVGSVGElement, tag: string, className: string): SVGElement {
  let node = svg.querySelector<SVGElement>(`.${className}`);
  if (node === null) {
    node = document.createElementNS(SVG, tag) as SVGElement;
    node.setAttribute('class', className);
    svg.append(node);
  }
  return node;
}

/**
 * Draws `values` into `svg` (creating one when null) and returns it. `label` is what a screen reader
 * says for the chart (the values are also shown as text next to it).
 */
export function drawSparkline(
  svg: SVGSVGElement | null,
  values: readonly number[],
  slots: number,
  label: string,
): SVGSVGElement {
  const target = svg ?? (document.createElementNS(SVG, 'svg') as SVGSVGElement);
  target.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
  target.setAttribute('preserveAspectRatio', 'none');
  target.setAttribute('role', 'img');
  target.setAttribute('aria-label', label);
  const points = sparklinePoints(values, slots);
  child(target, 'path', 'area').setAttribute('d', areaPath(points, HEIGHT));
  child(target, 'polyline', 'line').setAttribute('points', points);
  return target;
}
