/**
 * Number and time formatting of the chat pages: the dashboard's (observability/dashboard/format.ts),
 * under the name the chat modules import. Only the compiler (and Node) read this file: in the browser,
 * `/js/web/format.js` is the dashboard's module itself (serve-dashboard.ts serves the dashboard's
 * modules in the same folder).
 * @module
 */
export {
  formatBytes,
  formatClock,
  formatNumber,
  formatUptime,
  formatValue,
} from '../../observability/dashboard/format.js';
