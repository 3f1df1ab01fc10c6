/**
 * W3C Trace Context `traceparent` (https://www.w3.org/TR/trace-context/): the gateway continues the
 * client's trace, or starts one, so that a backend's logs can be joined with the gateway's.
 * @module
 */
import { randomBytes } from 'node:crypto';

/** The trace the gateway's hop belongs to. */
export interface TraceContext {
  /** 32 lowercase hex digits, not all zero. */
  traceId: string;
  /** The gateway's own span id (16 hex digits): the `parent-id` the backend sees. */
  spanId: string;
  /** The client's span id when it sent a valid `traceparent`, else ''. */
  parentSpanId: string;
  /** Trace flags, two hex digits (`01` = sampled). */
  flags: string;
}

/** Version 00 layout (§3.2): version-traceid-parentid-flags. Future versions may append fields. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ALL_ZERO_TRACE = '0'.repeat(32);
const ALL_ZERO_SPAN = '0'.repeat(16);

function newSpanId(): string {
  let id = randomBytes(8).toString('hex');
  while (id === ALL_ZERO_SPAN) id = randomBytes(8).toString('hex');
  return id;
}

function newTraceId(): string {
  let id = randomBytes(16).toString('hex');
  while (id === ALL_ZERO_TRACE) id = randomBytes(16).toString('hex');
  return id;
}

/**
 * The trace of a request with this `traceparent` header value: the client's trace id and flags with a
 * new span id for the gateway when the value is valid, else a new trace (sampled). Invalid values
 * (all-zero ids, version ff, extra fields on version 00) start a new trace, as §3.2 asks.
 */
export function continueTrace(header: string | undefined): TraceContext {
  const match = header === undefined ? null : TRACEPARENT.exec(header.trim());
  if (match !== null) {
    const [, version, traceId, parentId, flags, rest] = match;
    const valid =
      version !== 'ff' &&
      traceId !== ALL_ZERO_TRACE &&
      parentId !== ALL_ZERO_SPAN &&
      (version !== '00' || rest === undefined);
    if (valid) return { traceId: traceId!, spanId: newSpanId(), parentSpanId: parentId!, flags: flags! };
  }
  return { traceId: newTraceId(), spanId: newSpanId(), parentSpanId: '', flags: '01' };
}

/** The `traceparent` value to send upstream (version 00, the gateway's span as parent). */
export function formatTraceparent(trace: TraceContext): string {
  return `00-${trace.traceId}-${trace.spanId}-${trace.flags}`;
}
