/**
 * Backend failure through an in-process Gateway in front of two `conduit echo` children: `kill -9` of
 * one mid-stream closes its client with 1011 within a second, the next connections go to the other one
 * (the dead backend is ejected, or found down by the health check, whichever comes first), and the
 * health check brings it back once it is restarted on the same port.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type WebSocket from 'ws';
import { adminStatus, ask, startTestGateway, until } from './gateway-helpers.js';
import { type EchoChild, openThrough, startConduitEcho, withTimeout } from './helpers.js';

describe('gateway failover', () => {
  const children: EchoChild[] = [];
  const clients: WebSocket[] = [];

  after(async () => {
    for (const client of clients) client.terminate();
    for (const child of children) await child.kill();
  });

  it('closes with 1011 on a killed backend, routes around it, and brings it back after restart', async () => {
    children.push(await startConduitEcho(), await startConduitEcho());
    const [first, second] = children as [EchoChild, EchoChild];
    const gateway = await startTestGateway(
      [
        'listen: [{ port: 0, host: 127.0.0.1 }]',
        'upstreams:',
        '  echo:',
        '    balance: least-connections',
        `    backends: [${first.url}, ${second.url}]`,
        '    healthCheck: { interval: 300ms, timeout: 250ms, unhealthyThreshold: 1, healthyThreshold: 1 }',
        '    passiveHealth: { consecutiveFailures: 1, ejectionTime: 500ms }',
        '    connectTimeout: 1s',
        'routes: [{ upstream: echo }]',
        'admin: { port: 0 }',
        '',
      ].join('\n'),
    );
    const open = async (): Promise<WebSocket> => {
      const client = await openThrough(gateway.url());
      clients.push(client);
      return client;
    };
    const backends = async () => (await adminStatus(gateway.admin)).upstreams[0]!.backends;
    try {
      const c1 = await open();
      assert.equal(await ask(c1, 'one'), 'one');
      const c2 = await open();
      assert.equal(await ask(c2, 'two'), 'two');
      let status = await backends();
      assert.deepEqual(
        status.map((backend) => backend.activeConnections),
        [1, 1],
      );
      const victimUrl = `${first.url}/`;
      const survivorUrl = `${second.url}/`;
      assert.deepEqual(status.map((backend) => backend.url).sort(), [victimUrl, survivorUrl].sort());

      // kill -9 of one backend: the client it carried (whichever it is) gets 1011 at once.
      const closed = withTimeout(
        new Promise<{ client: WebSocket; code: number }>((resolve) => {
          for (const client of [c1, c2]) client.once('close', (code: number) => resolve({ client, code }));
        }),
        1000,
        'a client closed by the backend kill',
      );
      first.child.kill('SIGKILL');
      const { client: lost, code } = await closed;
      assert.equal(code, 1011);
      const kept = lost === c1 ? c2 : c1;
      assert.equal(await ask(kept, 'alive'), 'alive', 'the other client is unaffected');

      // The next connections all reach the survivor (the victim has fewer connections, yet is skipped).
      const c3 = await open();
      assert.equal(await ask(c3, 'three'), 'three');
      const c4 = await open();
      assert.equal(await ask(c4, 'four'), 'four');
      status = await backends();
      const victim = status.find((backend) => backend.url === victimUrl)!;
      const survivor = status.find((backend) => backend.url === survivorUrl)!;
      assert.equal(survivor.activeConnections, 3, 'c2, c3 and c4 are on the survivor');
      assert.notEqual(victim.state, 'healthy');
      assert.ok(
        gateway.log.some(
          (line) =>
            line.msg === 'backend state changed' &&
            line.fields.backend === victimUrl &&
            line.level === 'warn',
        ),
        'the state change is logged',
      );
      const metrics = await fetch(`${gateway.admin}/metrics`).then((r) => r.text());
      assert.match(
        metrics,
        new RegExp(
          `^conduit_gateway_backend_up\\{upstream="echo",backend="${victimUrl.replaceAll('/', '\\/')}"\\} 0$`,
          'm',
        ),
      );
      // The client side of the lost connection was closed with 1011; its backend side sent no close frame.
      assert.match(metrics, /^conduit_gateway_closes_total\{[^}]*side="client",code="1011"\} 1$/m);
      assert.match(metrics, /^conduit_gateway_closes_total\{[^}]*side="upstream",code="1006"\} 1$/m);

      // Restarted on the same port, the health check brings it back; new connections go there again.
      const port = new URL(victimUrl).port;
      children.push(await startConduitEcho(['--port', port]));
      await until(
        async () => (await backends()).find((backend) => backend.url === victimUrl)?.state === 'healthy',
        5000,
        'the restarted backend to be healthy',
      );
      const c5 = await open();
      assert.equal(await ask(c5, 'five'), 'five');
      status = await backends();
      assert.equal(status.find((backend) => backend.url === victimUrl)!.activeConnections, 1);
    } finally {
      await gateway.close();
    }
  });
});
