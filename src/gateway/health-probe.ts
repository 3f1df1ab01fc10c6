/**
 * One health probe of one backend: a WebSocket opening handshake (then a normal close), or an HTTP GET
 * expecting a 2xx status. A probe always settles, within its timeout, and can be cancelled.
 * @module
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ErrorEvent } from '../client/events.js';
import type { WebSocketTlsOptions } from '../client/options.js';
import { WebSocket } from '../client/websocket.js';

/** Outcome of a probe: ok, or why not. */
export type ProbeResult = { ok: true } | { ok: false; reason: string };

/** What a probe needs. */
export interface ProbeOptions {
  /** `handshake` or `http`. */
  kind: 'handshake' | 'http';
  /** The URL to probe (the backend URL with the check's path). */
  url: URL;
  /** The probe fails when it takes longer, ms. */
  timeoutMs: number;
  /** Aborts the probe (the checker stopped). */
  signal: AbortSignal;
  /** TLS settings for wss:// and https:// backends. */
  tls?: WebSocketTlsOptions;
}

/** Settles once with the first result; runs `cleanup` with it first. */
function settleOnce(
  resolve: (result: ProbeResult) => void,
  cleanup: (result: ProbeResult) => void,
): (result: ProbeResult) => void {
  let done = false;
  return (result) => {
    if (done) return;
    done = true;
    cleanup(result);
    resolve(result);
  };
}

function probeHandshake(options: ProbeOptions): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = new WebSocket(options.url, { ...options.tls, handshakeTimeout: options.timeoutMs });
    const onAbort = (): void => finish({ ok: false, reason: 'aborted' });
    const timer = setTimeout(() => finish({ ok: false, reason: 'timeout' }), options.timeoutMs).unref();
    const finish = settleOnce(resolve, (result) => {
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      // A probe that failed or was abandoned is dropped at once, not closed politely.
      if (!result.ok) socket.terminate();
    });
    socket.addEventListener('open', () => {
      finish({ ok: true });
      socket.close(1000, 'health check');
    });
    socket.addEventListener('error', (event) => {
      const error = (event as ErrorEvent).error as Error | undefined;
      finish({ ok: false, reason: error?.message ?? 'connection failed' });
    });
    socket.addEventListener('close', () => finish({ ok: false, reason: 'closed before opening' }));
    options.signal.addEventListener('abort', onAbort);
    if (options.signal.aborted) onAbort();
  });
}

function statusResult(response: IncomingMessage): ProbeResult {
  const status = response.statusCode ?? 0;
  return status >= 200 && status < 300 ? { ok: true } : { ok: false, reason: `status ${status}` };
}

function probeHttp(options: ProbeOptions): Promise<ProbeResult> {
  const url = new URL(options.url);
  const secure = url.protocol === 'wss:' || url.protocol === 'https:';
  url.protocol = secure ? 'https:' : 'http:';
  return new Promise((resolve) => {
    const send = secure ? httpsRequest : httpRequest;
    // agent: false gives a fresh connection each time (Connection: close), so no socket is pooled.
    const request = send(url, { ...(secure ? options.tls : {}), method: 'GET', agent: false });
    const timer = setTimeout(() => finish({ ok: false, reason: 'timeout' }), options.timeoutMs).unref();
    const onAbort = (): void => finish({ ok: false, reason: 'aborted' });
    const finish = settleOnce(resolve, () => {
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      request.destroy();
    });
    request.on('response', (response) => {
      const result = statusResult(response);
      response.resume();
      finish(result);
    });
    request.on('error', (error) => finish({ ok: false, reason: error.message }));
    options.signal.addEventListener('abort', onAbort);
    if (options.signal.aborted) onAbort();
    request.end();
  });
}

/** Runs one probe; the promise never rejects (a probe that cannot even start is a failure). */
export function probe(options: ProbeOptions): Promise<ProbeResult> {
  const running = options.kind === 'http' ? probeHttp(options) : probeHandshake(options);
  return running.catch((error: unknown) => ({ ok: false, reason: (error as Error).message }));
}
