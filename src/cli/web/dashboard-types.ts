/**
 * The dashboard feed's wire format, defined with the page in observability/dashboard/dashboard-types.ts
 * (the gateway's admin listener feeds the same page); re-exported under its former name.
 * @module
 */
export type * from '../../observability/dashboard/dashboard-types.js';
