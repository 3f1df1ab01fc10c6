/**
 * Hot reload of an in-process Gateway through `POST /reload`: 200 live connections survive a reload
 * that moves the route to another backend (they keep echoing on their old one, new ones follow the new
 * configuration), listeners are added and removed, an invalid file is refused while the old
 * configuration keeps serving, and sticky (header-hashed) clients keep their backend across a reload.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type WebSocket from 'ws';
import {
  adminStatus,
  ask,
  http,
  namedBackend,
  startTestGateway,
  type TestGateway,
} from './gateway-helpers.js';
import { clientClosed, openThrough, type WsBackend } from './helpers.js';

/** A configuration with `backends` behind one route and `listeners` extra plain listeners. */
function config(
  backends: WsBackend[],
  options: { listeners?: number; route?: string; hash?: boolean } = {},
): string {
  const listen = ['  - { port: 0, host: 127.0.0.1 }'];
  for (let i = 0; i < (options.listeners ?? 0); i++) listen.push('  - { port: 0, host: 127.0.0.1 }');
  return [
    'listen:',
    ...listen,
    'upstreams:',
    '  app:',
    `    balance: ${options.hash ? '{ hash: { header: x-user } }' : 'round-robin'}`,
    '    backends:',
    ...backends.map((backend) => `      - ${backend.url}`),
    'routes:',
    `  - name: ${options.route ?? 'app'}`,
    '    upstream: app',
    'admin: { port: 0 }',
    'drainTimeout: 2s',
    '',
  ].join('\n');
}

async function reload(gateway: TestGateway): Promise<{ status: number; text: string }> {
  const answer = await http(`${gateway.admin}/reload`, { method: 'POST' });
  return { status: answer.status, text: answer.text };
}

describe('gateway reload', () => {
  const backends: WsBackend[] = [];
  let a: WsBackend;
  let b: WsBackend;

  before(async () => {
    a = await namedBackend('A');
    b = await namedBackend('B');
    backends.push(a, b);
  });

  after(async () => {
    for (const backend of backends) await backend.close();
  });

  it('keeps 200 live connections through a reload while new ones follow the new configuration', async () => {
    const gateway = await startTestGateway(config([a]));
    const clients: WebSocket[] = [];
    try {
      const url = gateway.url();
      for (let i = 0; i < 200; i++) clients.push(await openThrough(`${url}/c/${i}`));
      const first = await Promise.all(clients.map((client, i) => ask(client, `m${i}`)));
      assert.deepEqual(
        first,
        clients.map((_, i) => `A:m${i}`),
      );
      const closes = clients.map((client) => clientClosed(client, 30_000).then((close) => close.code));
      let dropped = 0;
      for (const client of clients) client.once('close', () => dropped++);

      // The route now goes to B, and a second listener appears.
      gateway.rewrite(config([b], { listeners: 1 }));
      const answer = await reload(gateway);
      assert.equal(answer.status, 200, answer.text);
      assert.equal(gateway.gateway.listenerInfo.length, 2);

      const again = await Promise.all(clients.map((client, i) => ask(client, `n${i}`)));
      assert.deepEqual(
        again,
        clients.map((_, i) => `A:n${i}`),
        'live connections stay on their backend',
      );
      assert.equal(dropped, 0, 'no connection was dropped');
      const fresh = await openThrough(`${url}/new`);
      assert.equal(await ask(fresh, 'x'), 'B:x', 'new connections follow the new configuration');
      const second = await openThrough(`${gateway.url(1)}/other`);
      assert.equal(await ask(second, 'y'), 'B:y', 'the new listener serves');
      fresh.close();
      second.close();
      const status = await adminStatus(gateway.admin);
      assert.equal(status.reloads.ok, 1);
      assert.deepEqual(
        status.upstreams[0]!.backends.map((backend) => backend.url),
        [`${b.url}/`],
        'the status shows the new upstream',
      );
      assert.ok(status.routes[0]!.connections >= 200, 'the route still counts the live connections');

      // Back to one listener: the removed one stops accepting, its connections stay.
      const kept = await openThrough(`${gateway.url(1)}/kept`);
      const removedPort = gateway.gateway.listenerInfo[1]!.port;
      gateway.rewrite(config([b]));
      assert.equal((await reload(gateway)).status, 200);
      assert.equal(gateway.gateway.listenerInfo.length, 1);
      assert.equal(await ask(kept, 'still'), 'B:still', 'a connection of a removed listener stays open');
      await assert.rejects(openThrough(`ws://127.0.0.1:${removedPort}/gone`), /ECONNREFUSED|closed/);
      kept.close();

      for (const client of clients) client.close(1000);
      assert.deepEqual(new Set(await Promise.all(closes)), new Set([1000]));
    } finally {
      for (const client of clients) client.terminate();
      await gateway.close();
    }
  });

  it('refuses an invalid file with 400 and keeps serving the old configuration', async () => {
    const gateway = await startTestGateway(config([a]));
    try {
      const before = await adminStatus(gateway.admin);
      gateway.rewrite(
        'listen: [{ port: 0 }]\nupstreams: { app: { backends: [tcp://nowhere] } }\nroutes: [{ upstream: app }]\n',
      );
      const answer = await reload(gateway);
      assert.equal(answer.status, 400);
      assert.equal(
        answer.text,
        `Invalid gateway configuration ${gateway.path}:\n` +
          '  upstreams.app.backends[0].url: expected a ws:// or wss:// URL, found "tcp://nowhere"\n',
      );
      const client = await openThrough(gateway.url());
      assert.equal(await ask(client, 'still'), 'A:still', 'the old configuration serves');
      client.close();
      const after = await adminStatus(gateway.admin);
      assert.equal(after.loadedAt, before.loadedAt);
      assert.deepEqual([after.reloads.ok, after.reloads.failed], [0, 1]);
      assert.match(after.reloads.lastError ?? '', /tcp:\/\/nowhere/);
      const metrics = (await http(`${gateway.admin}/metrics`)).text;
      assert.match(metrics, /^conduit_gateway_reloads_total\{result="failed"\} 1$/m);
      assert.match(metrics, /^conduit_gateway_reloads_total\{result="ok"\} 0$/m);
      assert.ok(gateway.log.some((line) => line.level === 'error' && /reload refused/.test(line.msg)));
    } finally {
      await gateway.close();
    }
  });

  it('keeps sticky clients on their backend across a reload', async () => {
    const c = await namedBackend('C');
    backends.push(c);
    const gateway = await startTestGateway(config([a, b, c], { hash: true }));
    try {
      const users = Array.from({ length: 24 }, (_, i) => `user-${i}`);
      const placeOf = async (user: string): Promise<string> => {
        const client = await openThrough(`${gateway.url()}/s`, undefined, { headers: { 'x-user': user } });
        const reply = await ask(client, 'who');
        client.close();
        return reply.split(':')[0]!;
      };
      const before = await Promise.all(users.map(placeOf));
      assert.ok(new Set(before).size >= 2, 'users spread over several backends');
      assert.deepEqual(await Promise.all(users.map(placeOf)), before, 'stable without a reload');
      gateway.rewrite(config([a, b, c], { hash: true, route: 'sticky' }));
      assert.equal((await reload(gateway)).status, 200);
      assert.deepEqual(await Promise.all(users.map(placeOf)), before, 'stable across the reload');
    } finally {
      await gateway.close();
    }
  });
});
