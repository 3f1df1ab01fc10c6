/**
 * Plain HTTP on the gateway's listeners (proxied to an HTTP upstream with X-Forwarded-*, refused with
 * the route's status, 404 without a route), the admin endpoints, and an in-process drain.
 */
import assert from 'node:assert/strict';
import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ask, http, namedBackend, startTestGateway, type TestGateway, until } from './gateway-helpers.js';
import { clientClosed, openThrough, refusedPort, type WsBackend, withTimeout } from './helpers.js';

/** An HTTP backend answering with what it received, as JSON, and two cookies. */
async function startHttpBackend(): Promise<{ url: string; server: Server }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.stringify({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      res.writeHead(req.url?.includes('teapot') ? 418 : 200, {
        'content-type': 'application/json',
        'set-cookie': ['a=1; Path=/', 'b=2; Path=/'],
        'x-backend': 'web',
      });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** A GET with node:http (fetch refuses to send `Connection` fields). */
function rawGet(url: string, headers: OutgoingHttpHeaders): Promise<{ status: number; body: string }> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const outgoing = request(url, { headers }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
      outgoing.on('error', reject);
      outgoing.end();
    }),
    5000,
    `GET ${url}`,
  );
}

describe('gateway plain HTTP and admin', () => {
  let web: { url: string; server: Server };
  let ws: WsBackend;
  let gateway: TestGateway;
  let base: string;

  before(async () => {
    web = await startHttpBackend();
    ws = await namedBackend('W');
    const dead = await refusedPort();
    gateway = await startTestGateway(
      [
        'listen: [{ port: 0, host: 127.0.0.1 }]',
        'upstreams:',
        `  sockets: { backends: [${ws.url}] }`,
        `  web: { backends: [${web.url}/prefix] }`,
        `  dead: { backends: [http://127.0.0.1:${dead}] }`,
        'routes:',
        '  - { name: api, path: /api, upstream: sockets, http: { proxy: web } }',
        '  - { name: down, path: /down, upstream: sockets, http: { proxy: dead } }',
        '  - { name: private, path: { exact: /private }, upstream: sockets, http: { reject: 403 } }',
        '  - { name: ws, path: /ws, upstream: sockets }',
        'admin: { port: 0 }',
        'drainTimeout: 2s',
        '',
      ].join('\n'),
    );
    base = gateway.url().replace('ws:', 'http:');
  });

  after(async () => {
    await gateway.close();
    await ws.close();
    await new Promise<void>((resolve) => {
      web.server.close(() => resolve());
      web.server.closeAllConnections();
    });
  });

  it('proxies plain requests of a route to its HTTP upstream with X-Forwarded-*', async () => {
    const hop = await rawGet(`${base}/api/hop`, { connection: 'keep-alive, x-hop', 'x-hop': 'dropped' });
    assert.equal(hop.status, 200);
    const hopSeen = JSON.parse(hop.body) as { headers: Record<string, string> };
    assert.equal(hopSeen.headers['x-hop'], undefined, 'fields named by Connection are not forwarded');

    const answer = await http(`${base}/api/items?x=1`, {
      headers: { 'x-custom': 'kept', 'x-forwarded-for': '6.6.6.6' },
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('x-backend'), 'web');
    assert.deepEqual(answer.headers.getSetCookie(), ['a=1; Path=/', 'b=2; Path=/']);
    const seen = JSON.parse(answer.text) as { method: string; url: string; headers: Record<string, string> };
    assert.equal(seen.method, 'GET');
    assert.equal(seen.url, '/prefix/api/items?x=1');
    assert.equal(seen.headers['x-custom'], 'kept');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1', 'a client-sent X-Forwarded-For is replaced');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-host'], new URL(base).host);
    assert.equal(seen.headers.host, new URL(web.url).host);

    const posted = await http(`${base}/api/teapot`, { method: 'POST', body: 'x'.repeat(100_000) });
    assert.equal(posted.status, 418, 'the backend status passes through');
    const echoed = JSON.parse(posted.text) as { method: string; body: string };
    assert.equal(echoed.method, 'POST');
    assert.equal(echoed.body.length, 100_000);
  });

  it('answers 502 when the HTTP backend is down, the route status when it refuses, 404 without a route', async () => {
    assert.equal((await http(`${base}/down/x`)).status, 502);
    assert.equal((await http(`${base}/private`)).status, 403);
    const upgradeOnly = await http(`${base}/ws`);
    assert.equal(upgradeOnly.status, 426);
    assert.equal(upgradeOnly.headers.get('upgrade'), 'websocket');
    assert.equal((await http(`${base}/elsewhere`)).status, 404);
    // The WebSocket side of the same route still works.
    const client = await openThrough(`${gateway.url()}/api`);
    assert.equal(await ask(client, 'hi'), 'W:hi');
    client.close();
  });

  it('serves /healthz, /status and /metrics, refusing other paths and methods', async () => {
    const health = await http(`${gateway.admin}/healthz`);
    assert.deepEqual([health.status, health.text], [200, 'ok\n']);
    const status = JSON.parse((await http(`${gateway.admin}/status`)).text) as {
      source: string;
      routes: { name: string; http: string; path: string }[];
      upstreams: { name: string; backends: { state: string }[] }[];
    };
    assert.equal(status.source, gateway.path);
    assert.deepEqual(
      status.routes.map((route) => [route.name, route.path, route.http]),
      [
        ['api', '/api', 'proxy web'],
        ['down', '/down', 'proxy dead'],
        ['private', '= /private', 'reject 403'],
        ['ws', '/ws', 'reject 426'],
      ],
    );
    assert.deepEqual(
      status.upstreams.map((upstream) => upstream.name),
      ['sockets', 'web', 'dead'],
    );
    assert.equal((await http(`${gateway.admin}/reload`)).status, 405);
    assert.equal((await http(`${gateway.admin}/nothing`)).status, 404);
    const metrics = await http(`${gateway.admin}/metrics`);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(metrics.text, /^# TYPE conduit_gateway_message_size_bytes histogram$/m);
    assert.match(metrics.text, /^# TYPE conduit_gateway_upgrade_duration_seconds histogram$/m);
  });

  it('drains: live connections get 1001, the listener stops accepting', async () => {
    const url = `${gateway.url()}/ws`;
    const client = await openThrough(url);
    assert.equal(await ask(client, 'before'), 'W:before');
    const closed = clientClosed(client);
    const drained = gateway.gateway.drain(2000);
    assert.equal((await closed).code, 1001);
    await withTimeout(drained, 5000, 'drain');
    await assert.rejects(openThrough(url));
    await until(() =>
      gateway.log.some((line) => line.msg === 'connection closed' && line.fields.endReason === 'drain'),
    );
    assert.equal(gateway.gateway.status().draining, true);
  });
});
