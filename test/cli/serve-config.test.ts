/**
 * `conduit serve --config FILE`: the example file loads; flags override the file; `${VAR}` is read from
 * the environment; each section takes effect on a real node (topic rules, hub limits, auth, origins and
 * upgrade rate, TLS, the Redis engine and workers); invalid files give one exact line per problem and exit
 * 2; `--check` says ok or lists the problems. Nodes run in-process (startServeNode) or as real processes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { parseServeArgs } from '../../src/cli/serve-args.js';
import { ServeConfigError } from '../../src/cli/serve-config.js';
import { serveHubOptions } from '../../src/cli/serve-config-apply.js';
import { createServeLogger } from '../../src/cli/serve-log.js';
import { createServeRegistry, localMetrics } from '../../src/cli/serve-metrics.js';
import { type ServeNode, startServeNode } from '../../src/cli/serve-node.js';
import { type RedisServer, redisServerMissing, startRedisServer } from '../helpers/redis-server.js';
import { killAll, runConduit, startServe } from '../hub/cluster-process.js';
import { connectClient, refusedUpgrade, TestClient } from '../hub/helpers.js';
import { openClient, withTimeout } from '../server/helpers.js';
import { makeTlsFixture, type TlsFixture } from '../server/tls-fixture.js';

// dist/test/cli → the repository root.
const EXAMPLE = fileURLToPath(new URL('../../../examples/serve.yaml', import.meta.url));
const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long';
const dir = mkdtempSync(join(tmpdir(), 'conduit-serve-config-'));
const nodes: ServeNode[] = [];
const clients: TestClient[] = [];

after(async () => {
  for (const client of clients) client.ws.terminate();
  await Promise.all(nodes.map((node) => node.close()));
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

let files = 0;
/** Writes a configuration file into the test directory (or `into`) and returns its path. */
function writeConfig(text: string, into = dir): string {
  const path = join(into, `serve-${++files}.yaml`);
  writeFileSync(path, text);
  return path;
}

/** Starts a node in this process with `--port 0` and `args`; closed after the tests. */
async function startNode(args: string[], env: Record<string, string> = {}): Promise<ServeNode> {
  const options = parseServeArgs(['--port', '0', ...args], env);
  const registry = createServeRegistry();
  const logger = createServeLogger('silent');
  const node = await startServeNode({ options, logger, registry, metrics: localMetrics(registry) });
  nodes.push(node);
  return node;
}

function token(claims: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('alice')
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(SECRET));
}

/** `conduit serve ARGS` run to its exit; its stderr split in lines. */
async function serveRun(args: string[]): Promise<{ code: number | null; lines: string[]; stdout: string }> {
  const run = await runConduit(['serve', ...args]);
  return { code: run.code, lines: run.stderr.trimEnd().split('\n'), stdout: run.stdout };
}

describe('conduit serve --config: loading', () => {
  let tls: TlsFixture | string;
  before(() => {
    tls = makeTlsFixture();
  });

  it('loads examples/serve.yaml: every section, variables and their defaults from the environment', (t) => {
    if (typeof tls === 'string') return t.skip(tls);
    const env = { CONDUIT_TLS_CERT: tls.certFile, CONDUIT_TLS_KEY: tls.keyFile, CONDUIT_JWT_SECRET: SECRET };
    const options = parseServeArgs(['--config', EXAMPLE], env);
    assert.equal(options.port, 8080, 'the default of PORT');
    assert.equal(parseServeArgs(['--config', EXAMPLE], { ...env, PORT: '9001' }).port, 9001, 'PORT');
    assert.equal(options.host, '0.0.0.0');
    assert.deepEqual(options.tls, { cert: tls.cert, key: tls.key }, 'the PEM files are read at load');
    assert.deepEqual(options.redis, ['redis://127.0.0.1:6379']);
    assert.deepEqual(options.redisSettings, {
      prefix: 'chat-prod',
      connectTimeoutMs: 10_000,
      commandTimeoutMs: 5000,
      reconnectDelayMs: 100,
      maxReconnectDelayMs: 2000,
      topicTtlMs: 86_400_000,
      idempotencyTtlMs: 300_000,
      presenceSweepIntervalMs: 2000,
      presenceSweepBatch: 100,
      virtualNodes: 160,
    });
    assert.equal(options.workers, 4);
    assert.deepEqual(options.limits, {
      maxSubscriptions: 1000,
      maxPublishBytes: 65_536,
      maxQueueBytes: 1_048_576,
      messagesPerSecond: 1000,
      bytesPerSecond: 1_048_576,
      rateLimitGrace: 20,
      authTimeoutMs: 10_000,
      tenantScoped: true,
    });
    assert.equal(options.presence, false);
    assert.equal(options.presenceTtlMs, 30_000);
    assert.equal(options.historySize, 100);
    assert.equal(options.historyTtlMs, 300_000);
    assert.equal(options.jwtSecret, SECRET);
    assert.equal(options.jwksUrl, undefined);
    assert.deepEqual(options.jwtChecks, {
      issuer: ['https://auth.example.com'],
      audience: ['chat'],
      tenantClaim: 'org',
      permissionsClaim: 'scope',
    });
    assert.equal(options.requireAuth, true);
    assert.deepEqual(options.origins, ['https://chat.example.com', 'https://*.example.com']);
    assert.deepEqual(options.upgradeRateLimit, { perSecond: 10, burst: 20 });
    assert.equal(options.logLevel, 'info');

    const hub = serveHubOptions(options);
    const history = { size: 100, ttlMs: 300_000 };
    assert.deepEqual(hub.topics, [
      { match: 'prices.>', clientPublish: false, history: { size: 1, ttlMs: 60_000 }, presence: false },
      { match: 'chat.*', presence: true, history: { size: 500, ttlMs: 3_600_000 } },
      { match: 'orders.*', slowConsumer: 'disconnect', history, presence: false },
      { match: 'chat.>', presence: true, history },
      { match: '>', presence: false, history },
    ]);
    assert.equal(hub.maxPublishBytes, 65_536);
    assert.equal(hub.requireAuth, true);
    assert.deepEqual(hub.jwt, { ...options.jwtChecks, secret: SECRET });
  });

  it('flags override the file, which overrides CONDUIT_JWT_SECRET and the defaults', () => {
    const file = writeConfig(`
listen: { port: 1, host: 0.0.0.0 }
engine: { redis: { urls: [redis://a:6379], prefix: mine } }
workers: 2
hub: { presence: true, history: { size: 5, ttl: 10s }, presenceTtl: 5s, maxPublishBytes: 1KiB }
auth: { jwt: { jwksUrl: https://auth.example/jwks, issuer: me } }
origins: [https://a.example]
log: { level: warn }
`);
    const env = { CONDUIT_JWT_SECRET: `env-${SECRET}` };
    const fromFile = parseServeArgs(['--config', file], env);
    assert.deepEqual(
      [fromFile.port, fromFile.host, fromFile.redis, fromFile.workers, fromFile.logLevel],
      [1, '0.0.0.0', ['redis://a:6379'], 2, 'warn'],
    );
    assert.deepEqual([fromFile.presence, fromFile.historySize, fromFile.historyTtlMs], [true, 5, 10_000]);
    assert.deepEqual([fromFile.jwtSecret, fromFile.jwksUrl], [undefined, 'https://auth.example/jwks']);
    assert.deepEqual(fromFile.origins, ['https://a.example']);
    assert.equal(fromFile.presenceTtlMs, 5000);

    const flags = parseServeArgs(
      [
        '--config',
        file,
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--redis',
        'redis://b:6379',
        '--workers',
        '3',
      ].concat(
        [
          '--history-size',
          '7',
          '--presence-ttl',
          '2',
          '--jwt-secret',
          SECRET,
          '--origin',
          'https://b.example',
        ],
        ['--log-level', 'error'],
      ),
      env,
    );
    assert.deepEqual(
      [flags.port, flags.host, flags.redis, flags.workers, flags.logLevel],
      [0, '127.0.0.1', ['redis://b:6379'], 3, 'error'],
    );
    assert.equal(flags.redisSettings.prefix, 'mine', '--redis replaces the URLs only');
    assert.deepEqual([flags.historySize, flags.historyTtlMs, flags.presenceTtlMs], [7, 10_000, 2000]);
    assert.deepEqual([flags.jwtSecret, flags.jwksUrl], [SECRET, undefined], '--jwt-secret replaces jwksUrl');
    assert.deepEqual(flags.jwtChecks, { issuer: ['me'] }, 'the other JWT checks stay');
    assert.deepEqual(flags.origins, ['https://b.example']);
    assert.equal(flags.limits.maxPublishBytes, 1024);

    const bare = parseServeArgs(['--config', writeConfig('listen: { port: 0 }\n')], env);
    assert.equal(bare.jwtSecret, `env-${SECRET}`, 'CONDUIT_JWT_SECRET when neither flags nor file set a key');
    assert.deepEqual([bare.host, bare.workers, bare.logLevel, bare.redis], ['127.0.0.1', 1, 'info', []]);
  });

  it('reports every problem of a file as one exact line: path, expected, found', () => {
    const fields =
      'presence, history, maxSubscriptions, maxPublishBytes, maxQueueBytes, messagesPerSecond, bytesPerSecond, ' +
      'rateLimitGrace, presenceTtl, authTimeout, tenantScoped, topics';
    const cases: [string, string[]][] = [
      [
        'listen: { port: 0 }\nhub:\n  maxQueueBytes: lots\n  maxPublishByte: 1KiB\n  authTimeout: soon\n',
        [
          'hub.maxQueueBytes: expected a size like 1MiB, found "lots"',
          'hub.authTimeout: expected a duration like 30s, at least 1 ms, found "soon"',
          `hub.maxPublishByte: expected one of the fields ${fields}, found an unknown field`,
        ],
      ],
      [
        'listen: { port: 0, tls: { cert: missing-cert.pem, key: missing-key.pem } }\n',
        [
          'listen.tls.cert: expected a readable PEM file, found "missing-cert.pem" (ENOENT)',
          'listen.tls.key: expected a readable PEM file, found "missing-key.pem" (ENOENT)',
        ],
      ],
      [
        `listen: { port: "\${CONDUIT_TEST_UNSET_PORT}" }\n`,
        ['listen.port: expected environment variable CONDUIT_TEST_UNSET_PORT to be set, found it unset'],
      ],
      [
        'listen: { port: 0 }\nworkers: 2\n',
        ['workers: expected 1 with the memory engine (2 or more need engine.redis or --redis), found 2'],
      ],
      ['hub: { presence: true }\n', ['listen.port: expected a port (or --port PORT), found nothing']],
      [
        'listen: { port: 0 }\nauth: { jwt: { secret: short } }\n',
        ['auth.jwt.secret: expected a secret of at least 32 bytes, found one of 5 bytes'],
      ],
      [
        'engine: redis\norigins: [https://a.example/path]\nhub: { topics: [{ match: "a.>.b", slowConsumer: wait }] }\n',
        [
          'engine: expected memory or a mapping { redis: { urls: [...] } }, found "redis"',
          'hub.topics[0].match: expected a topic or pattern like chat.* or prices.>, found "a.>.b"',
          'hub.topics[0].slowConsumer: expected one of drop-oldest, drop-newest, disconnect, found "wait"',
          'origins[0]: expected an origin like https://app.example.com, https://*.example.com or *, found "https://a.example/path"',
        ],
      ],
    ];
    for (const [text, lines] of cases) {
      const file = writeConfig(text);
      assert.throws(
        () => parseServeArgs(['--config', file], {}),
        (error: unknown) => {
          assert.ok(error instanceof ServeConfigError);
          assert.deepEqual(error.message.split('\n'), [
            `Invalid configuration ${file}:`,
            ...lines.map((line) => `  ${line}`),
          ]);
          return true;
        },
        text,
      );
    }
    const yaml = writeConfig('listen: { port: 0\n');
    assert.throws(
      () => parseServeArgs(['--config', yaml], {}),
      /\n {2}line \d+, column \d+: expected valid YAML or JSON, found a syntax error/,
    );
    const absent = join(dir, 'absent.yaml');
    assert.throws(
      () => parseServeArgs(['--config', absent], {}),
      /\n {2}expected a readable file, found ENOENT$/,
    );
  });

  it('as a command: an invalid file exits 2 with its lines on stderr; --check says ok or the same', async () => {
    const good = writeConfig('listen: { port: 0 }\nhub: { maxPublishBytes: 16KiB }\n');
    const bad = writeConfig('listen: { port: 0, tls: { cert: nope.pem, key: nope.key } }\n');
    const badLines = [
      `conduit serve: Invalid configuration ${bad}:`,
      '  listen.tls.cert: expected a readable PEM file, found "nope.pem" (ENOENT)',
      '  listen.tls.key: expected a readable PEM file, found "nope.key" (ENOENT)',
    ];
    // One at a time: spawning many at once on a loaded machine only makes the runs slower.
    const ok = await serveRun(['--config', good, '--check']);
    assert.deepEqual([ok.code, ok.stdout, ok.lines], [0, 'ok\n', ['']]);
    const start = await serveRun(['--config', bad]);
    assert.deepEqual([start.code, start.stdout, start.lines], [2, '', badLines], 'no usage, nothing started');
    const check = await serveRun(['--config', bad, '--check']);
    assert.deepEqual([check.code, check.stdout, check.lines], [2, '', badLines]);
  });

  it('--check validates the example with its environment: ok and status 0', async (t) => {
    if (typeof tls === 'string') return t.skip(tls);
    const names = ['CONDUIT_TLS_CERT', 'CONDUIT_TLS_KEY', 'CONDUIT_JWT_SECRET'] as const;
    const saved = names.map((name) => process.env[name]);
    Object.assign(process.env, { CONDUIT_TLS_CERT: tls.certFile, CONDUIT_TLS_KEY: tls.keyFile });
    process.env.CONDUIT_JWT_SECRET = SECRET;
    try {
      const run = await runConduit(['serve', '--config', EXAMPLE, '--check']);
      assert.deepEqual([run.code, run.stdout, run.stderr], [0, 'ok\n', '']);
    } finally {
      names.forEach((name, i) => {
        if (saved[i] === undefined) delete process.env[name];
        else process.env[name] = saved[i];
      });
    }
    const usage = await runConduit(['serve', '--check', '--port', '0']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--check needs --config/);
  });
});

describe('conduit serve --config: each section takes effect', () => {
  it('as a process: topic rule history, hub limit from an environment variable, flags over the file', async () => {
    process.env.CONDUIT_TEST_MAX_PUBLISH = '100';
    const file = writeConfig(`
listen: { port: 1 }             # --port 0 (given by startServe) wins: port 1 could not be bound
log: { level: silent }          # --log-level info wins: the serving line is logged
hub:
  maxPublishBytes: \${CONDUIT_TEST_MAX_PUBLISH}
  topics:
    - match: kept.*
      history: { size: 2 }
`);
    const serve = await startServe(['--config', file, '--log-level', 'info']);
    delete process.env.CONDUIT_TEST_MAX_PUBLISH;
    try {
      assert.notEqual(serve.port, 1);
      const serving = await serve.waitForLog((line) => line.msg === 'serving', 'the serving line');
      assert.equal(serving.config, file);
      const publisher = await connectClient(serve.endpoints.hub!);
      clients.push(publisher);
      publisher.send({ type: 'publish', topic: 'big', data: 'x'.repeat(200), id: 'big' });
      const refused = await publisher.nextOf('error');
      assert.deepEqual([refused.code, refused.id], ['limit_exceeded', 'big']);

      const acks = new Map<string, { offset: number; epoch: string }[]>();
      for (const topic of ['kept.a', 'free.a']) {
        for (let i = 1; i <= 5; i++) publisher.send({ type: 'publish', topic, data: i, id: `${topic}-${i}` });
        const list = [];
        for (let i = 1; i <= 5; i++) {
          const ack = await publisher.next((m) => m.type === 'ack' && m.id === `${topic}-${i}`, `ack ${i}`);
          list.push({ offset: ack.offset as number, epoch: ack.epoch as string });
        }
        acks.set(topic, list);
      }
      const reader = await connectClient(serve.endpoints.hub!);
      clients.push(reader);
      const since = (topic: string) => ({
        offset: acks.get(topic)![0]!.offset - 1,
        epoch: acks.get(topic)![0]!.epoch,
      });
      const kept = await reader.subscribe('kept.a', { since: since('kept.a') });
      assert.equal(kept.recovered, false, 'the rule keeps 2 publications: the first 3 are gone');
      const free = await reader.subscribe('free.a', { since: since('free.a') });
      assert.equal(free.recovered, true, 'other topics keep the default 100');
      const replayed = [];
      for (let i = 0; i < 5; i++) replayed.push((await reader.nextOf('message', 'free.a')).data);
      assert.deepEqual(replayed, [1, 2, 3, 4, 5]);
      assert.deepEqual(await serve.stop('SIGTERM'), { code: 0, signal: null });
    } finally {
      serve.child.kill('SIGKILL');
    }
  });

  it('auth.jwt: required tokens with the configured issuer, hub.authTimeout; required: false', async () => {
    const node = await startNode([
      '--config',
      writeConfig(`
auth: { jwt: { secret: "${SECRET}", issuer: https://issuer.test, required: true } }
hub: { authTimeout: 200ms }
`),
    ]);
    const hub = `ws://127.0.0.1:${node.port}/hub`;
    const alice = new TestClient(
      new WebSocket(hub, ['conduit.v1'], {
        headers: { authorization: `Bearer ${await token({ iss: 'https://issuer.test' })}` },
      }),
    );
    clients.push(alice);
    assert.equal((await alice.nextOf('connected')).user, 'alice');
    const wrongIssuer = await token({ iss: 'https://other.test' });
    assert.equal(
      (await refusedUpgrade(hub, { headers: { authorization: `Bearer ${wrongIssuer}` } })).status,
      401,
    );
    const anonymous = new TestClient(new WebSocket(hub, ['conduit.v1']));
    clients.push(anonymous);
    const refusal = await anonymous.nextOf('error', undefined, 3000);
    assert.deepEqual([refusal.code, refusal.message], ['unauthorized', 'authentication timeout']);
    assert.equal((await withTimeout(anonymous.closed, 3000, 'close')).code, 1008);

    const open = await startNode([
      '--config',
      writeConfig(`auth: { jwt: { secret: "${SECRET}", required: false } }\n`),
    ]);
    const guest = await connectClient(`ws://127.0.0.1:${open.port}/hub`);
    clients.push(guest);
    assert.equal((await guest.subscribe('lobby')).type, 'subscribed', 'anonymous clients may connect');
  });

  it('origins and upgradeRateLimit apply to /hub and /echo', async () => {
    const node = await startNode([
      '--config',
      writeConfig(`
origins: [https://app.example.com]
upgradeRateLimit: { perSecond: 0.001, burst: 2 }
`),
    ]);
    const hub = `ws://127.0.0.1:${node.port}/hub`;
    const echo = `ws://127.0.0.1:${node.port}/echo`;
    // The origin check comes first: a refused origin does not spend the client's upgrades.
    assert.equal((await refusedUpgrade(hub, { origin: 'https://evil.example' })).status, 403);
    clients.push(await connectClient(hub, { origin: 'https://app.example.com' }));
    clients.push(await connectClient(hub));
    assert.equal((await refusedUpgrade(hub)).status, 429, 'a burst of two upgrades per IP, then 429');
    assert.equal((await refusedUpgrade(echo, { protocols: [], origin: 'https://evil.example' })).status, 403);
    for (let i = 0; i < 2; i++) (await openClient(echo)).terminate();
    assert.equal((await refusedUpgrade(echo, { protocols: [] })).status, 429, '/echo counts apart');
  });

  describe('listen.tls', () => {
    let tls: TlsFixture | string;
    before(() => {
      tls = makeTlsFixture();
    });

    it('serves wss:// and https:// with the PEM files of the config (relative to the file)', async (t) => {
      if (typeof tls === 'string') return t.skip(tls);
      const tlsDir = join(tls.certFile, '..');
      const file = writeConfig('listen:\n  tls: { cert: cert.pem, key: key.pem }\n', tlsDir);
      const serve = await startServe(['--config', file]);
      try {
        const { hub, health } = serve.endpoints;
        assert.equal(hub, `wss://127.0.0.1:${serve.port}/hub`);
        assert.equal(health, `https://127.0.0.1:${serve.port}/healthz`);
        const secure = { ca: tls.cert, servername: 'localhost' };
        const ws = new WebSocket(hub!, ['conduit.v1'], secure);
        const client = new TestClient(ws);
        clients.push(client);
        assert.equal((await client.nextOf('connected')).type, 'connected');
        assert.equal((await client.subscribe('over.tls')).type, 'subscribed');
        const body = await withTimeout(
          new Promise<string>((resolve, reject) => {
            httpsGet(health!, { ...secure, agent: false }, (res) => {
              let text = '';
              res.on('data', (chunk: Buffer) => (text += chunk.toString()));
              res.on('end', () => resolve(`${res.statusCode} ${text}`));
            }).on('error', reject);
          }),
          5000,
          'GET /healthz over https',
        );
        assert.equal(body, '200 ok');
        const closed = client.closed;
        assert.deepEqual(await serve.stop('SIGTERM'), { code: 0, signal: null });
        assert.equal((await closed).code, 1001);
      } finally {
        serve.child.kill('SIGKILL');
      }
    });
  });

  describe('engine.redis and workers', { skip: redisServerMissing() }, () => {
    let redis: RedisServer | undefined;
    after(() => redis?.stop());

    it('runs the configured workers on Redis, with the configured key prefix', async () => {
      redis = await startRedisServer();
      const file = writeConfig(`
engine: { redis: { urls: ["${redis.url}"], prefix: cfgtest, commandTimeout: 2s } }
workers: 2
`);
      const serve = await startServe(['--config', file]);
      const keys = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        const listening = serve.logs.filter((line) => line.msg === 'worker listening');
        assert.equal(new Set(listening.map((line) => line.pid)).size, 2, 'two workers');
        const client = await connectClient(serve.endpoints.hub!);
        clients.push(client);
        client.send({ type: 'publish', topic: 'stored', data: 'kept in redis', id: 'r1' });
        assert.equal((await client.nextOf('ack')).id, 'r1');
        await keys.connect();
        const found = await keys.keys('*');
        assert.ok(found.length > 0 && found.every((key) => key.startsWith('cfgtest')), found.join(', '));
        assert.deepEqual(await serve.stop('SIGTERM'), { code: 0, signal: null });
      } finally {
        keys.disconnect();
        serve.child.kill('SIGKILL');
      }
    });
  });
});
