/**
 * `conduit gateway` as a real process: `--help`, `--check` with its exact messages, and the minimal
 * configuration of examples/gateway.yaml as written (its ports given through `${VAR}`) in front of two
 * `conduit echo` children: least-connections spreading, /status and /metrics, SIGHUP reload, SIGTERM
 * drain.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type WebSocket from 'ws';
import {
  adminStatus,
  ask,
  freePort,
  http,
  runCli,
  startGatewayChild,
  tempDir,
  until,
  writeConfig,
} from '../gateway/gateway-helpers.js';
import { clientClosed, type EchoChild, openThrough, startConduitEcho } from '../gateway/helpers.js';

/** A `${NAME}` reference of a configuration file. */
const ref = (name: string): string => `\${${name}}`;

// dist/test/cli/gateway.test.js → examples/ at the repository root.
const EXAMPLE = fileURLToPath(new URL('../../../examples/gateway.yaml', import.meta.url));

describe('conduit gateway --help and --check', () => {
  it('prints its usage with --help', async () => {
    const { code, stdout } = await runCli(['gateway', '--help']);
    assert.equal(code, 0);
    assert.match(stdout, /^Usage: conduit gateway --config FILE/);
    assert.match(stdout, /--check/);
  });

  it('refuses a missing --config with the usage and status 2', async () => {
    const { code, stderr } = await runCli(['gateway']);
    assert.equal(code, 2);
    assert.match(stderr, /^conduit gateway: --config is required\n\nUsage:/);
  });

  it('prints ok for a valid file', async () => {
    const path = writeConfig(
      tempDir(),
      'listen: [{ port: 0 }]\nupstreams: { u: { backends: [ws://127.0.0.1:1] } }\nroutes: [{ upstream: u }]\n',
    );
    const { code, stdout, stderr } = await runCli(['gateway', '--config', path, '--check']);
    assert.equal(stderr, '');
    assert.equal(stdout, 'ok\n');
    assert.equal(code, 0);
  });

  it('prints every schema problem with its exact message and exits 2', async () => {
    const path = writeConfig(
      tempDir(),
      [
        'listen:',
        '  - port: 0',
        'upstreams:',
        '  echo:',
        '    backends: [tcp://x]',
        'routes:',
        '  - path: /',
        '    upstream: echo',
        '    colour: blue',
        '',
      ].join('\n'),
    );
    const { code, stdout, stderr } = await runCli(['gateway', '--config', path, '--check']);
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.equal(
      stderr,
      [
        `Invalid gateway configuration ${path}:`,
        '  upstreams.echo.backends[0].url: expected a ws:// or wss:// URL, found "tcp://x"',
        '  routes[0].colour: expected one of the fields name, host, path, headers, upstream, mode, http, ' +
          'subprotocols, compression, idleTimeout, maxMessageSize, maxMessagesPerSecond, pingInterval, ' +
          'middleware, found an unknown field',
        '',
      ].join('\n'),
    );
  });

  it('reports cross-field problems, unset variables and unreadable certificates', async () => {
    const dir = tempDir();
    const upstreamTypo = writeConfig(
      dir,
      'listen: [{ port: 0 }]\nupstreams: { echo: { backends: [ws://127.0.0.1:1] } }\nroutes: [{ upstream: nope }]\n',
      'typo.yaml',
    );
    const unset = writeConfig(
      dir,
      `listen: [{ port: 0 }]\nupstreams: { echo: { backends: ["ws://127.0.0.1:${ref('GW_TEST_UNSET')}"] } }\nroutes: [{ upstream: echo }]\n`,
      'unset.yaml',
    );
    const certs = writeConfig(
      dir,
      [
        'listen:',
        `  - { port: 0, tls: { cert: ${join(dir, 'none.pem')}, key: ${join(dir, 'none.key')} } }`,
        'upstreams: { echo: { backends: [ws://127.0.0.1:1] } }',
        'routes: [{ upstream: echo }]',
        '',
      ].join('\n'),
      'certs.yaml',
    );
    // Each run is a process start: run them side by side.
    const [typoRun, unsetRun, certsRun, startRun] = await Promise.all([
      runCli(['gateway', '--config', upstreamTypo, '--check']),
      runCli(['gateway', '--config', unset, '--check']),
      runCli(['gateway', '--config', certs, '--check']),
      runCli(['gateway', '--config', certs]),
    ]);
    let result = typoRun;
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      `Invalid gateway configuration ${upstreamTypo}:\n` +
        '  routes[0].upstream: expected one of the upstreams echo, found "nope"\n',
    );

    result = unsetRun;
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      `Invalid gateway configuration ${unset}:\n` +
        '  upstreams.echo.backends[0]: expected environment variable GW_TEST_UNSET to be set, found it unset\n',
    );

    result = certsRun;
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      `Invalid gateway configuration ${certs}:\n` +
        `  listen[0].tls.cert: expected a readable PEM file, found "${join(dir, 'none.pem')}" (ENOENT)\n` +
        `  listen[0].tls.key: expected a readable PEM file, found "${join(dir, 'none.key')}" (ENOENT)\n`,
    );
    // Started without --check, the same file is refused the same way, with status 2.
    result = startRun;
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /^conduit gateway: Invalid gateway configuration .*\n {2}listen\[0\]\.tls\.cert:/,
    );
  });
});

describe('conduit gateway running examples/gateway.yaml', () => {
  const echoes: EchoChild[] = [];
  let env: Record<string, string>;
  let path: string;

  before(async () => {
    echoes.push(await startConduitEcho(), await startConduitEcho());
    env = {
      GW_PORT: String(await freePort()),
      GW_ADMIN_PORT: String(await freePort()),
      GW_BACKEND_1: new URL(echoes[0]!.url).port,
      GW_BACKEND_2: new URL(echoes[1]!.url).port,
    };
    // The example as written; only its ports become ${VAR}s.
    const text = readFileSync(EXAMPLE, 'utf8')
      .replace('port: 8080', `port: ${ref('GW_PORT')}`)
      .replace('port: 9901', `port: ${ref('GW_ADMIN_PORT')}`)
      .replace('127.0.0.1:9001', `127.0.0.1:${ref('GW_BACKEND_1')}`)
      .replace('127.0.0.1:9002', `127.0.0.1:${ref('GW_BACKEND_2')}`);
    assert.equal((text.match(/\$\{GW_/g) ?? []).length, 4, 'every port of the example was substituted');
    path = writeConfig(tempDir(), text);
  });

  after(async () => {
    for (const echo of echoes) await echo.kill();
  });

  it('spreads by least connections, reports, reloads on SIGHUP and drains on SIGTERM', async () => {
    const gateway = await startGatewayChild(['--config', path], env);
    const clients: WebSocket[] = [];
    try {
      assert.deepEqual(gateway.listeners, [`ws://0.0.0.0:${env.GW_PORT}`]);
      assert.equal(gateway.admin, `http://127.0.0.1:${env.GW_ADMIN_PORT}`);
      const url = `ws://127.0.0.1:${env.GW_PORT}`;
      for (let i = 0; i < 10; i++) {
        const client = await openThrough(`${url}/room/${i}`);
        clients.push(client);
        assert.equal(await ask(client, `hello ${i}`), `hello ${i}`);
      }
      let status = await adminStatus(gateway.admin!);
      const counts = status.upstreams[0]!.backends.map((backend) => backend.activeConnections);
      assert.deepEqual(counts, [5, 5], 'least-connections spreads evenly');

      const metrics = await http(`${gateway.admin}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(metrics.text, /^conduit_gateway_connections_open\{route="route0",upstream="echo"\} 10$/m);
      assert.match(
        metrics.text,
        /^conduit_gateway_upgrades_total\{route="route0",upstream="echo",status="101"\} 10$/m,
      );
      assert.match(
        metrics.text,
        /^conduit_gateway_messages_total\{route="route0",upstream="echo",direction="upstream"\} 10$/m,
      );
      assert.match(
        metrics.text,
        /^conduit_gateway_backend_up\{upstream="echo",backend="ws:\/\/127\.0\.0\.1:\d+\/"\} 1$/m,
      );
      assert.match(metrics.text, /^process_cpu_user_seconds_total /m, 'process metrics are there too');

      // SIGHUP: the route gets a name; live connections keep echoing, /status shows the new route.
      const reloaded = readFileSync(path, 'utf8').replace(
        '  - path: /\n',
        '  - path: /\n    name: echo-route\n',
      );
      writeFileSync(path, reloaded);
      gateway.child.kill('SIGHUP');
      await until(
        async () => (await adminStatus(gateway.admin!)).routes[0]?.name === 'echo-route',
        5000,
        'reload',
      );
      status = await adminStatus(gateway.admin!);
      assert.equal(status.reloads.ok, 1);
      for (const [i, client] of clients.entries())
        assert.equal(await ask(client, `again ${i}`), `again ${i}`);

      // SIGTERM: every client gets 1001, the process exits 0.
      const closes = clients.map((client) => clientClosed(client, 5000));
      gateway.child.kill('SIGTERM');
      for (const closed of await Promise.all(closes)) assert.equal(closed.code, 1001);
      assert.equal(await gateway.exited, 0);
      const lines = gateway
        .stdout()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const access = lines.filter((line) => line.msg === 'connection closed');
      assert.equal(access.length, 10, 'one access log line per connection');
      assert.equal(access[0]!.clientCloseCode, 1001);
      assert.equal(access[0]!.endReason, 'drain');
      assert.match(String(access[0]!.traceId), /^[0-9a-f]{32}$/);
      assert.ok(lines.some((line) => line.msg === 'configuration reloaded'));
    } finally {
      for (const client of clients) client.terminate();
      await gateway.kill();
    }
  });
});
