/**
 * The access log: one line per proxied connection, written when it ends, with where it went, how long
 * it lived, what passed each way and how each side closed. The trace id is the one sent upstream in
 * `traceparent`, so that the line can be joined with the backend's own logs.
 * @module
 */
import { type Logger, logsAt } from '../observability/logger.js';
import type { ProxyStats } from './proxy/stats.js';

/** What the gateway knows about a connection besides its counters. */
export interface AccessContext {
  route: string;
  upstream: string;
  /** The backend's URL. */
  backend: string;
  clientIp: string;
  /** W3C trace id of the connection. */
  traceId: string;
  /** Authenticated user (JWT `sub`), when the route authenticates. */
  user: string | undefined;
  /** Backends dialled for the upgrade (1 unless some failed). */
  attempts: number;
}

/** The fields of one access log line. */
export function accessLogFields(context: AccessContext, stats: ProxyStats): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    route: context.route,
    upstream: context.upstream,
    backend: context.backend,
    clientIp: context.clientIp,
    mode: stats.mode,
    durationMs: Math.round(stats.durationMs),
    messagesIn: stats.upstream.messages,
    messagesOut: stats.downstream.messages,
    bytesIn: stats.upstream.bytes,
    bytesOut: stats.downstream.bytes,
    clientCloseCode: stats.clientCloseCode,
    upstreamCloseCode: stats.upstreamCloseCode,
    endReason: stats.endReason ?? 'closed',
    traceId: context.traceId,
    attempts: context.attempts,
  };
  if (context.user !== undefined) fields.user = context.user;
  if (stats.dropped > 0) fields.dropped = stats.dropped;
  return fields;
}

/** Writes the line at `info` (`In`: from the client, `Out`: to the client). */
export function logAccess(logger: Logger | null, context: AccessContext, stats: ProxyStats): void {
  if (!logsAt(logger, 'info')) return;
  logger.info(accessLogFields(context, stats), 'connection closed');
}
