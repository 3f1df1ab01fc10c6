/** The proxy's pure parts: trace context, forwarded headers, upstream URLs, error mapping, rate bucket. */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { ClientError } from '../../src/client/errors.js';
import { UpstreamError } from '../../src/gateway/proxy/errors.js';
import { forwardedRequest } from '../../src/gateway/proxy/forward-headers.js';
import { MessageRate } from '../../src/gateway/proxy/policies.js';
import { upstreamUrl } from '../../src/gateway/proxy/proxy-upgrade.js';
import { continueTrace, formatTraceparent } from '../../src/gateway/proxy/traceparent.js';
import { toUpstreamError } from '../../src/gateway/proxy/upstream-dial.js';
import { HandshakeError } from '../../src/protocol/errors.js';
import type { UpgradeRequest } from '../../src/server/upgrade-request.js';

function request(
  headers: Record<string, string>,
  url = '/chat?room=1',
  rawHeaders?: string[],
): UpgradeRequest {
  const raw = rawHeaders ?? Object.entries(headers).flat();
  return {
    method: 'GET',
    url,
    pathname: url.split('?')[0]!,
    headers,
    rawHeaders: raw,
    origin: headers.origin,
    secure: false,
    remoteAddress: '10.0.0.9',
    remotePort: 40000,
    socket: {} as Socket,
    incomingMessage: undefined,
    data: undefined,
    responseHeaders: undefined,
  };
}

describe('traceparent', () => {
  it('continues a valid trace with a new span, keeping its flags', () => {
    const trace = continueTrace('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00');
    assert.equal(trace.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(trace.parentSpanId, '00f067aa0ba902b7');
    assert.equal(trace.flags, '00');
    assert.match(trace.spanId, /^[0-9a-f]{16}$/);
    assert.notEqual(trace.spanId, trace.parentSpanId);
    assert.equal(formatTraceparent(trace), `00-${trace.traceId}-${trace.spanId}-00`);
  });

  it('starts a new trace for a missing or invalid header', () => {
    for (const header of [
      undefined,
      'garbage',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
    ]) {
      const trace = continueTrace(header);
      assert.equal(trace.parentSpanId, '', String(header));
      assert.match(trace.traceId, /^[0-9a-f]{32}$/);
      assert.notEqual(trace.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
      assert.equal(trace.flags, '01');
    }
  });

  it('accepts a future version with extra fields', () => {
    const trace = continueTrace('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-ever');
    assert.equal(trace.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
  });
});

describe('forwardedRequest', () => {
  it('builds X-Forwarded-*, keeps selected headers, filters subprotocols', () => {
    const forwarded = forwardedRequest(
      request({
        host: 'gw.example:8443',
        cookie: 'a=1',
        authorization: 'Bearer x',
        'x-forwarded-for': '1.2.3.4',
        'sec-websocket-protocol': 'mqtt, v2.chat, v1.chat',
        'sec-websocket-key': 'k',
        origin: 'https://app.example',
        'x-other': 'no',
      }),
      ['v1.chat', 'v2.chat'],
    );
    assert.deepEqual(forwarded.protocols, ['v2.chat', 'v1.chat']);
    assert.equal(
      forwarded.headers['x-forwarded-for'],
      '10.0.0.9',
      'a client-sent chain is not trusted by default',
    );
    assert.equal(forwarded.headers['x-forwarded-proto'], 'http');
    assert.equal(forwarded.headers['x-forwarded-host'], 'gw.example:8443');
    assert.equal(forwarded.headers.cookie, 'a=1');
    assert.equal(forwarded.headers.authorization, 'Bearer x');
    assert.equal(forwarded.headers['x-other'], undefined);
    assert.equal(forwarded.headers['sec-websocket-key'], undefined);
    assert.equal(forwarded.origin, 'https://app.example');
    assert.match(forwarded.headers.traceparent!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('appends to a trusted chain, joins cookie fields with "; ", honours the header list', () => {
    const headers = { host: 'h', cookie: 'a=1, b=2', 'x-forwarded-for': '1.2.3.4', 'x-tenant': 't1' };
    const raw = [
      'Host',
      'h',
      'Cookie',
      'a=1',
      'Cookie',
      'b=2',
      'X-Forwarded-For',
      '1.2.3.4',
      'X-Tenant',
      't1',
    ];
    const forwarded = forwardedRequest(request(headers, '/', raw), [], {
      trustForwardedFor: true,
      headers: ['cookie', 'X-Tenant', 'host'],
      origin: false,
    });
    assert.equal(forwarded.headers['x-forwarded-for'], '1.2.3.4, 10.0.0.9');
    assert.equal(forwarded.headers.cookie, 'a=1; b=2');
    assert.equal(forwarded.headers['x-tenant'], 't1');
    assert.equal(forwarded.headers.host, undefined, 'Host is the backend’s');
    assert.equal(forwarded.origin, undefined);
    assert.deepEqual(forwarded.protocols, []);
  });

  it('forwards tracestate only with a continued trace, and drops non-ASCII values', () => {
    const trace = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const kept = forwardedRequest(request({ host: 'h', traceparent: trace, tracestate: 'v=1' }), []);
    assert.equal(kept.headers.tracestate, 'v=1');
    const dropped = forwardedRequest(request({ host: 'h', tracestate: 'v=1', 'user-agent': 'bä' }), []);
    assert.equal(dropped.headers.tracestate, undefined);
    assert.equal(dropped.headers['user-agent'], undefined);
  });
});

describe('upstreamUrl', () => {
  const backend = (url: string) => ({ url: new URL(url), weight: 1 });

  it('appends the client path and query to the backend path', () => {
    assert.equal(
      upstreamUrl(backend('ws://b:9000'), request({}, '/chat?room=1')).href,
      'ws://b:9000/chat?room=1',
    );
    assert.equal(upstreamUrl(backend('ws://b:9000/api/'), request({}, '/chat')).href, 'ws://b:9000/api/chat');
    assert.equal(upstreamUrl(backend('wss://b/api'), request({}, '/')).href, 'wss://b/api/');
    assert.equal(upstreamUrl(backend('http://b:1/x'), request({}, '/y?z')).href, 'ws://b:1/x/y?z');
    assert.equal(upstreamUrl(backend('https://b/'), request({}, '/')).protocol, 'wss:');
  });
});

describe('UpstreamError', () => {
  it('tells retryable failures from answers, and maps statuses for the client', () => {
    const url = new URL('ws://b:1/');
    const refused = toUpstreamError(
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      url,
    );
    assert.equal(refused.code, 'ERR_UPSTREAM_CONNECT');
    assert.equal(refused.retryable, true);
    assert.equal(refused.clientStatus, 502);
    const timeout = toUpstreamError(new ClientError('ERR_HANDSHAKE_TIMEOUT', 'slow'), url);
    assert.equal(timeout.code, 'ERR_UPSTREAM_TIMEOUT');
    assert.equal(timeout.retryable, true);
    const aborted = toUpstreamError(new ClientError('ERR_HANDSHAKE_ABORTED', 'closed'), url);
    assert.equal(aborted.code, 'ERR_UPSTREAM_CONNECT');
    const forbidden = toUpstreamError(new HandshakeError('ERR_HANDSHAKE_STATUS', 'no', 403), url);
    assert.equal(forbidden.code, 'ERR_UPSTREAM_STATUS');
    assert.equal(forbidden.retryable, false);
    assert.equal(forbidden.clientStatus, 403);
    const failing = toUpstreamError(new HandshakeError('ERR_HANDSHAKE_STATUS', 'no', 503), url);
    assert.equal(failing.clientStatus, 502);
    const broken = toUpstreamError(new HandshakeError('ERR_HANDSHAKE_ACCEPT', 'bad accept'), url);
    assert.equal(broken.code, 'ERR_UPSTREAM_HANDSHAKE');
    assert.equal(broken.retryable, true);
    assert.equal(new UpstreamError('ERR_UPSTREAM_ABORTED', 'x').retryable, false);
    assert.equal(new UpstreamError('ERR_NO_BACKEND', 'x').clientStatus, 502);
  });
});

describe('MessageRate', () => {
  it('allows one second of burst, then the rate', () => {
    const rate = new MessageRate(10, 0);
    let allowed = 0;
    for (let i = 0; i < 20; i++) if (rate.take(0)) allowed++;
    assert.equal(allowed, 10);
    assert.equal(rate.take(50), false, 'half a token after 50 ms');
    assert.equal(rate.take(100), true, 'one token after 100 ms');
    assert.equal(rate.take(100), false);
    let later = 0;
    for (let i = 0; i < 20; i++) if (rate.take(10_000)) later++;
    assert.equal(later, 10, 'the bucket holds one second at most');
  });
});
