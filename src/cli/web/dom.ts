/**
 * The DOM helpers of the chat pages: the dashboard's (observability/dashboard/dom.ts), under the name
 * the chat modules import. Only the compiler reads this file: in the browser, `/js/web/dom.js` is
 * the dashboard's module itself (serve-dashboard.ts serves the dashboard's modules in the same folder).
 * @module
 */
export { type Attributes, byId, el, showStatus } from '../../observability/dashboard/dom.js';
