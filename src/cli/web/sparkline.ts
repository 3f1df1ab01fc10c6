/**
 * The dashboard's sparklines (observability/dashboard/sparkline.ts), under their former name here. In
 * the browser, `/js/web/sparkline.js` is the dashboard's module itself.
 * @module
 */
export { drawSparkline, sparklinePoints } from '../../observability/dashboard/sparkline.js';
