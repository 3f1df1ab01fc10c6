/**
 * `conduit serve`, run as a real process: the four endpoints on one port, JWT and origin options, usage
 * errors, graceful shutdown, and `--workers 2 --redis` (round-robin workers, summed metrics, a killed
 * worker replaced while the service goes on).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { parseServeArgs } from '../../src/cli/serve-args.js';
import { RestartBudget } from '../../src/cli/serve-restarts.js';
import { type RedisServer, redisServerMissing, startRedisServer } from '../helpers/redis-server.js';
import {
  eventually,
  httpGet,
  isAlive,
  killAll,
  metricValue,
  runConduit,
  type ServeProcess,
  startServe,
} from '../hub/cluster-process.js';
import { connectClient, refusedUpgrade, TestClient } from '../hub/helpers.js';
import { clientClosed, openClient, waitFor } from '../server/helpers.js';

const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long';

after(killAll);

describe('conduit serve (one process)', () => {
  const clients: TestClient[] = [];
  after(() => {
    for (const client of clients) client.ws.terminate();
  });

  it('serves /hub, /echo, /metrics and /healthz on one port, and drains on SIGTERM', async () => {
    const serve = await startServe([]);
    const { hub, echo, metrics, health } = serve.endpoints;
    assert.notEqual(serve.port, 0, 'the real port is printed for --port 0');
    assert.equal(hub, `ws://127.0.0.1:${serve.port}/hub`);
    assert.equal(echo, `ws://127.0.0.1:${serve.port}/echo`);
    assert.equal(metrics, `http://127.0.0.1:${serve.port}/metrics`);
    assert.equal(health, `http://127.0.0.1:${serve.port}/healthz`);
    const serving = await serve.waitForLog((line) => line.msg === 'serving', 'the serving log line');
    assert.equal(serving.engine, 'memory', 'pino JSON lines on stdout');

    assert.deepEqual(await httpGet(health!).then(({ status, body }) => ({ status, body })), {
      status: 200,
      body: 'ok',
    });

    const echoClient = await openClient(echo!);
    echoClient.send('text');
    const [text, textIsBinary] = await waitFor<[Buffer, boolean]>(echoClient, 'message');
    assert.deepEqual([text.toString(), textIsBinary], ['text', false]);
    echoClient.send(Buffer.from([7, 8, 9]));
    const [bytes, bytesIsBinary] = await waitFor<[Buffer, boolean]>(echoClient, 'message');
    assert.deepEqual([[...bytes], bytesIsBinary], [[7, 8, 9], true]);

    const client = await connectClient(hub!);
    clients.push(client);
    const subscribed = await client.subscribe('news');
    assert.equal(subscribed.type, 'subscribed');
    client.send({ type: 'publish', topic: 'news', data: { headline: 'hello' }, id: 'p1' });
    const ack = await client.nextOf('ack');
    assert.equal(ack.id, 'p1');
    const message = await client.nextOf('message', 'news');
    assert.deepEqual(message.data, { headline: 'hello' });
    assert.equal(message.offset, ack.offset);

    const scrape = await httpGet(metrics!);
    assert.equal(scrape.status, 200);
    assert.match(String(scrape.headers['content-type']), /^text\/plain/);
    assert.equal(metricValue(scrape.body, 'conduit_hub_connections'), 1);
    assert.equal(metricValue(scrape.body, 'conduit_hub_client_publishes_total'), 1);
    assert.equal(metricValue(scrape.body, 'conduit_connections_open'), 2, 'hub and echo connections');
    assert.ok(metricValue(scrape.body, 'process_resident_memory_bytes')! > 0);

    assert.equal((await httpGet(`http://127.0.0.1:${serve.port}/nowhere`)).status, 404);
    assert.equal((await httpGet(`http://127.0.0.1:${serve.port}/hub`)).status, 426);
    assert.equal((await refusedUpgrade(`ws://127.0.0.1:${serve.port}/nowhere`)).status, 404);

    const hubClosed = client.closed;
    const echoClosed = clientClosed(echoClient);
    const exit = await serve.stop('SIGTERM');
    assert.equal((await hubClosed).code, 1001);
    assert.equal((await echoClosed).code, 1001);
    assert.deepEqual(exit, { code: 0, signal: null });
  });

  it('with --jwt-secret and --origin: refuses bad tokens (401) and foreign origins (403)', async () => {
    const serve = await startServe([
      '--jwt-secret',
      SECRET,
      '--origin',
      'https://app.example.com',
      '--log-level',
      'warn',
    ]);
    try {
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('alice')
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(SECRET));
      const hub = serve.endpoints.hub!;
      const ws = new WebSocket(hub, ['conduit.v1'], {
        headers: { authorization: `Bearer ${token}` },
        origin: 'https://app.example.com',
      });
      const alice = new TestClient(ws);
      clients.push(alice);
      assert.equal((await alice.nextOf('connected')).user, 'alice', 'the token names the user');
      const bad = await refusedUpgrade(hub, { headers: { authorization: 'Bearer not.a.jwt' } });
      assert.equal(bad.status, 401);
      const foreign = await refusedUpgrade(hub, {
        headers: { authorization: `Bearer ${token}` },
        origin: 'https://evil.example.net',
      });
      assert.equal(foreign.status, 403);
      const foreignEcho = await refusedUpgrade(serve.endpoints.echo!, {
        protocols: [],
        origin: 'https://evil.example.net',
      });
      assert.equal(foreignEcho.status, 403);
      assert.ok(
        serve.logs.every((line) => (line.level as number) >= 40),
        '--log-level warn',
      );
    } finally {
      serve.child.kill('SIGKILL');
    }
  });

  it('--help documents every option; bad arguments exit 2 with the usage', async () => {
    const help = await runConduit(['serve', '--help']);
    assert.equal(help.code, 0);
    for (const option of [
      '--port',
      '--host',
      '--redis',
      '--workers',
      '--jwt-secret',
      '--jwks-url',
      '--origin',
      '--presence',
      '--presence-ttl',
      '--history-size',
      '--history-ttl',
      '--log-level',
      '--help',
    ]) {
      assert.match(help.stdout, new RegExp(`^  ${option} `, 'm'), option);
    }
    assert.match((await runConduit(['--help'])).stdout, /^ {2}serve /m);

    const cases: [string[], RegExp][] = [
      [[], /--port is required/],
      [['--port', '0', '--workers', '2'], /needs --redis/],
      [['--port', '0', '--workers', 'two'], /Invalid --workers/],
      [['--port', '0', '--redis', 'http://127.0.0.1:6379'], /Invalid --redis/],
      [['--port', '0', '--jwt-secret', 'short'], /at least 32 bytes/],
      [['--port', '0', '--jwt-secret', SECRET, '--jwks-url', 'https://x.example/jwks'], /exclude each other/],
      [['--port', '0', '--origin', 'https://a.example/path'], /Invalid --origin/],
      [['--port', '0', '--presence-ttl', '0'], /Invalid --presence-ttl/],
      [['--port', '0', '--history-size', '1.5'], /Invalid --history-size/],
      [['--port', '0', '--log-level', 'loud'], /Invalid --log-level/],
      [['--port', '0', '--bogus'], /bogus/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runConduit(['serve', ...args])));
    cases.forEach(([args, message], i) => {
      const run = runs[i]!;
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.match(run.stderr, /Usage: conduit serve/);
    });
  });

  it('parses options into what the node runs with', () => {
    const options = parseServeArgs([
      '--port',
      '8080',
      '--redis',
      'redis://a:6379,redis://b:6379',
      '--redis',
      'rediss://c:6380',
      '--workers',
      '3',
      '--presence',
      '--presence-ttl',
      '1.5',
      '--history-size',
      '0',
      '--history-ttl',
      '60',
      '--origin',
      'https://*.example.com',
      '--origin',
      'https://example.com',
    ]);
    assert.deepEqual(options.redis, ['redis://a:6379', 'redis://b:6379', 'rediss://c:6380']);
    assert.equal(options.workers, 3);
    assert.equal(options.presenceTtlMs, 1500);
    assert.equal(options.historySize, 0);
    assert.equal(options.historyTtlMs, 60_000);
    assert.deepEqual(options.origins, ['https://*.example.com', 'https://example.com']);
    assert.equal(options.host, '127.0.0.1');
    assert.equal(options.logLevel, 'info');
  });

  it('bounds the restart rate: max restarts per window, later ones wait for the window', () => {
    const budget = new RestartBudget(2, 1000);
    assert.equal(budget.book(0), 0);
    assert.equal(budget.book(10), 0);
    assert.equal(budget.book(20), 980, 'the third waits until the first leaves the window');
    assert.equal(budget.book(30), 980, 'the fourth waits for the second');
    assert.equal(budget.book(5000), 0, 'a quiet window resets the budget');
  });
});

describe('conduit serve --workers 2 --redis', { skip: redisServerMissing() }, () => {
  let redis: RedisServer | undefined;
  let serve: ServeProcess | undefined;
  const clients: TestClient[] = [];
  after(async () => {
    for (const client of clients) client.ws.terminate();
    serve?.child.kill('SIGKILL');
    await redis?.stop();
  });

  /** Opens `count` hub clients; returns them grouped by serving process (the client id's prefix). */
  async function openSpread(url: string, count: number): Promise<Map<string, TestClient[]>> {
    const byProcess = new Map<string, TestClient[]>();
    for (let i = 0; i < count; i++) {
      const client = await connectClient(url);
      clients.push(client);
      const prefix = client.id.split('-')[0]!;
      byProcess.set(prefix, [...(byProcess.get(prefix) ?? []), client]);
    }
    return byProcess;
  }

  it('two workers answer, share topics, sum their metrics; a killed worker is replaced', async () => {
    redis = await startRedisServer();
    serve = await startServe(['--workers', '2', '--redis', redis.url]);
    const listening = serve.logs.filter((line) => line.msg === 'worker listening');
    const pids = new Set(listening.map((line) => line.pid!));
    assert.equal(pids.size, 2, 'two worker processes listen');
    const hub = serve.endpoints.hub!;

    const spread = await openSpread(hub, 6);
    assert.equal(spread.size, 2, 'connections are spread over both workers');
    const [first, second] = [...spread.values()].map((group) => group[0]!);
    await first!.subscribe('cluster.t');
    second!.send({ type: 'publish', topic: 'cluster.t', data: 'across workers', id: 1 });
    await second!.nextOf('ack');
    assert.equal((await first!.nextOf('message', 'cluster.t')).data, 'across workers');

    const scrape = await httpGet(serve.endpoints.metrics!);
    assert.equal(metricValue(scrape.body, 'conduit_hub_connections'), 6, 'summed over the workers');
    assert.equal((await httpGet(serve.endpoints.health!)).body, 'ok');

    const [victim] = pids;
    process.kill(victim!, 'SIGKILL');
    await serve.waitForLog((line) => line.msg === 'worker died: restarting', 'the death is noticed');
    const replacement = await serve.waitForLog(
      (line) => line.msg === 'worker listening' && !pids.has(line.pid!),
      'a replacement worker listens',
    );
    // The killed worker's clients lost their connection; the other worker's clients kept theirs.
    const groups = [...spread.values()];
    const isClosed = (client: TestClient): boolean => client.ws.readyState === client.ws.CLOSED;
    await eventually(() => groups.some((group) => group.every(isClosed)), 'the victim clients are cut');
    const survivors = groups.find((group) => !group.every(isClosed))!;
    assert.ok(
      survivors.every((client) => !isClosed(client)),
      'the surviving worker kept its clients',
    );

    // The service goes on: a new connection reaches the replacement, which shares topics with the survivor.
    let fresh: TestClient | undefined;
    await eventually(async () => {
      const client = await connectClient(hub);
      clients.push(client);
      const prefix = client.id.split('-')[0]!;
      if (!spread.has(prefix)) fresh = client;
      return fresh !== undefined;
    }, 'a connection served by the replacement');
    await fresh!.subscribe('after.kill');
    survivors[0]!.send({ type: 'publish', topic: 'after.kill', data: 'still serving' });
    assert.equal((await fresh!.nextOf('message', 'after.kill')).data, 'still serving');

    const open = clients.filter((client) => client.ws.readyState === client.ws.OPEN);
    const closes = open.map((client) => client.closed);
    const exit = await serve.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null });
    for (const closed of closes) assert.equal((await closed).code, 1001);
    await eventually(
      () => !isAlive(replacement.pid!) && [...pids].every((pid) => !isAlive(pid)),
      'workers exited',
    );
  });
});
