/**
 * Gateway configuration: the example files load, every documented spelling produces the documented
 * types and defaults, `${VAR}` interpolation, and errors that name the path, the rule and the value.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { GatewayConfigError } from '../../src/gateway/config/issues.js';
import { loadGatewayConfig, parseGatewayConfig } from '../../src/gateway/config/load.js';
import type { GatewayConfig, RouteConfig, UpstreamConfig } from '../../src/gateway/config/types.js';
import { parseDuration, parseSize } from '../../src/gateway/config/units.js';

const EXAMPLES = join(import.meta.dirname, '..', '..', '..', 'examples');

const BASE = `
listen:
  - port: 8080
upstreams:
  echo:
    backends:
      - url: ws://127.0.0.1:9001
routes:
  - path: /
    upstream: echo
`;

/** BASE with `extra` lines appended to the first route. */
function withRoute(extra: string): string {
  return `${BASE}${extra
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n')}\n`;
}

function firstRoute(text: string, env: Record<string, string> = {}): RouteConfig {
  return parseGatewayConfig(text, { env }).routes[0]!;
}

function upstream(config: GatewayConfig, name: string): UpstreamConfig {
  const found = config.upstreams.get(name);
  assert.ok(found, `upstream ${name}`);
  return found;
}

/** The lines of the GatewayConfigError thrown by `run` (without the heading line). */
function problems(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof GatewayConfigError, String(error));
    assert.equal(error.code, 'GATEWAY_CONFIG_INVALID');
    return error.message
      .split('\n')
      .slice(1)
      .map((line) => line.trim());
  }
  assert.fail('expected a GatewayConfigError');
}

describe('example files', () => {
  test('examples/gateway.yaml (the issue text) loads with the documented defaults', async () => {
    const config = await loadGatewayConfig(join(EXAMPLES, 'gateway.yaml'), { env: {} });
    assert.deepEqual(config.listen, [{ port: 8080, host: '0.0.0.0', tls: null }]);
    assert.deepEqual(config.admin, { port: 9901, host: '127.0.0.1' });
    assert.equal(config.drainTimeoutMs, 30_000);
    const echo = upstream(config, 'echo');
    assert.equal(echo.name, 'echo');
    assert.deepEqual(echo.balance, { kind: 'least-connections' });
    assert.deepEqual(
      echo.backends.map((b) => [b.url.href, b.weight]),
      [
        ['ws://127.0.0.1:9001/', 1],
        ['ws://127.0.0.1:9002/', 1],
      ],
    );
    assert.equal(echo.healthCheck, null);
    assert.deepEqual(echo.passiveHealth, { consecutiveFailures: 3, ejectionMs: 30_000 });
    assert.equal(echo.connectTimeoutMs, 5000);
    assert.equal(echo.maxAttempts, 3);
    assert.equal(config.routes.length, 1);
    const route = config.routes[0]!;
    assert.deepEqual(
      { ...route, policies: undefined, middleware: undefined },
      {
        name: 'route0',
        host: null,
        path: { kind: 'prefix', value: '/' },
        headers: [],
        upstream: 'echo',
        mode: 'frames',
        http: { kind: 'reject', status: 426 },
        policies: undefined,
        middleware: undefined,
      },
    );
    assert.deepEqual(route.policies, {
      subprotocols: [],
      compression: 'negotiate',
      idleTimeoutMs: 0,
      maxMessageBytes: 16 * 1024 * 1024,
      maxMessagesPerSecond: 0,
      pingIntervalMs: 30_000,
    });
    assert.deepEqual(route.middleware, {
      jwt: null,
      origins: null,
      ipAllow: null,
      ipDeny: null,
      maxConnectionsPerIp: 0,
      upgradeRateLimit: null,
    });
  });

  test('examples/gateway-full.yaml loads, with its environment defaults', async () => {
    const config = await loadGatewayConfig(join(EXAMPLES, 'gateway-full.yaml'), {
      env: { CHAT_HOST: '10.9.9.9' },
    });
    assert.equal(config.listen[0]!.port, 8080);
    assert.equal(config.listen[1]!.tls?.sni[0]?.serverName, '*.chat.example.com');
    const chat = upstream(config, 'chat');
    assert.deepEqual(chat.balance, { kind: 'hash', key: { kind: 'header', name: 'x-user' } });
    assert.equal(chat.backends[0]!.url.href, 'ws://10.9.9.9:9000/');
    assert.equal(chat.backends[2]!.weight, 2);
    assert.deepEqual(chat.healthCheck, {
      kind: 'handshake',
      path: '/healthz',
      intervalMs: 5000,
      timeoutMs: 2000,
      unhealthyThreshold: 2,
      healthyThreshold: 2,
    });
    assert.equal(upstream(config, 'feed').healthCheck?.kind, 'http');
    assert.deepEqual(upstream(config, 'feed').balance, { kind: 'weighted' });
    const [chatRoute, feed, status, api] = config.routes;
    assert.equal(chatRoute!.policies.idleTimeoutMs, 600_000);
    assert.equal(chatRoute!.policies.maxMessageBytes, 1024 * 1024);
    assert.deepEqual(chatRoute!.middleware.upgradeRateLimit, { perSecond: 5, burst: 20 });
    assert.equal(chatRoute!.middleware.jwt?.queryParam, 'token');
    assert.ok(feed!.path.kind === 'regex' && feed!.path.value.test('/v2/feed'));
    assert.equal(feed!.mode, 'tunnel');
    assert.deepEqual(status!.http, { kind: 'reject', status: 404 });
    assert.deepEqual(api!.http, { kind: 'proxy', upstream: 'web' });
  });

  test('a JSON file loads the same as its YAML twin', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'conduit-gateway-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'gateway.json');
    writeFileSync(
      file,
      JSON.stringify({
        listen: [{ port: 8080 }],
        upstreams: { echo: { backends: [{ url: 'ws://127.0.0.1:9001' }] } },
        routes: [{ path: '/', upstream: 'echo' }],
      }),
    );
    const fromJson = await loadGatewayConfig(file, { env: {} });
    assert.deepEqual(fromJson, parseGatewayConfig(BASE, { env: {} }));
  });

  test('an unreadable file is a GatewayConfigError naming the file', async () => {
    await assert.rejects(loadGatewayConfig('/nonexistent/gateway.yaml'), (error: unknown) => {
      assert.ok(error instanceof GatewayConfigError);
      assert.match(error.message, /\/nonexistent\/gateway\.yaml/);
      assert.match(error.message, /expected a readable file, found ENOENT/);
      return true;
    });
  });
});

describe('spellings', () => {
  test('path: prefix string, { prefix }, { exact }, { regex } compiled', () => {
    assert.deepEqual(firstRoute(BASE.replace('path: /', 'path: /chat')).path, {
      kind: 'prefix',
      value: '/chat',
    });
    assert.deepEqual(firstRoute(BASE.replace('path: /', 'path: { prefix: /a }')).path, {
      kind: 'prefix',
      value: '/a',
    });
    assert.deepEqual(firstRoute(BASE.replace('path: /', 'path: { exact: /x }')).path, {
      kind: 'exact',
      value: '/x',
    });
    const regex = firstRoute(BASE.replace('path: /', "path: { regex: '^/v[0-9]+/' }")).path;
    assert.equal(regex.kind, 'regex');
    assert.ok(regex.kind === 'regex' && regex.value instanceof RegExp && regex.value.test('/v12/x'));
    const noPath = firstRoute(BASE.replace('  - path: /\n    upstream: echo', '  - upstream: echo'));
    assert.deepEqual(noPath.path, { kind: 'prefix', value: '/' });
  });

  test('balance: names, and { hash } on header, cookie, query and ip', () => {
    const balance = (text: string) =>
      upstream(
        parseGatewayConfig(BASE.replace('  echo:\n', `  echo:\n    balance: ${text}\n`), { env: {} }),
        'echo',
      ).balance;
    assert.deepEqual(balance('round-robin'), { kind: 'round-robin' });
    assert.deepEqual(balance('weighted'), { kind: 'weighted' });
    assert.deepEqual(balance('least-connections'), { kind: 'least-connections' });
    assert.deepEqual(balance('{ hash: { header: X-User } }'), {
      kind: 'hash',
      key: { kind: 'header', name: 'x-user' },
    });
    assert.deepEqual(balance('{ hash: { cookie: sid } }'), {
      kind: 'hash',
      key: { kind: 'cookie', name: 'sid' },
    });
    assert.deepEqual(balance('{ hash: { query: room } }'), {
      kind: 'hash',
      key: { kind: 'query', name: 'room' },
    });
    assert.deepEqual(balance('{ hash: ip }'), { kind: 'hash', key: { kind: 'ip' } });
  });

  test('backends: string shorthand, weights, wss and http(s) upstreams', () => {
    const config = parseGatewayConfig(
      `${BASE}  - path: /api\n    upstream: echo\n    http: { proxy: web }\n`.replace(
        'upstreams:\n',
        'upstreams:\n  web:\n    backends: [http://10.0.0.1:8000, { url: "https://b.internal", weight: 3 }]\n',
      ),
      { env: {} },
    );
    const web = upstream(config, 'web');
    assert.deepEqual(
      web.backends.map((b) => [b.url.href, b.weight]),
      [
        ['http://10.0.0.1:8000/', 1],
        ['https://b.internal/', 3],
      ],
    );
    assert.deepEqual(config.routes[1]!.http, { kind: 'proxy', upstream: 'web' });
  });

  test('durations and sizes: numbers, unit strings, numeric strings', () => {
    const route = firstRoute(
      withRoute(
        'idleTimeout: 1m30s\npingInterval: "2500"\nmaxMessageSize: 64KiB\nmaxMessagesPerSecond: "20"',
      ),
    );
    assert.equal(route.policies.idleTimeoutMs, 90_000);
    assert.equal(route.policies.pingIntervalMs, 2500);
    assert.equal(route.policies.maxMessageBytes, 65_536);
    assert.equal(route.policies.maxMessagesPerSecond, 20);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration(0), 0);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('5 minutes'), null);
    assert.equal(parseDuration(-1), null);
    assert.equal(parseSize('16MiB'), 16 * 1024 * 1024);
    assert.equal(parseSize('1MB'), 1_000_000);
    assert.equal(parseSize('1.5kib'), 1536);
    assert.equal(parseSize('12 bytes'), null);
    assert.equal(parseSize(1.5), null);
  });

  test('route policies, headers, host and middleware', () => {
    const route = firstRoute(
      withRoute(
        [
          'name: chat',
          'host: "*.Example.com"',
          'headers: { X-Version: "2", user-agent: { regex: "Mobile" } }',
          'subprotocols: [chat.v1]',
          'compression: passthrough',
          'mode: tunnel',
          'http: reject',
          'middleware:',
          '  jwt: { secret: "0123456789abcdef0123456789abcdef", queryParam: false, issuer: me }',
          '  origins: ["https://*.example.com"]',
          '  ipAllow: [10.0.0.0/8, "::1"]',
          '  ipDeny: [10.1.0.0/16]',
          '  maxConnectionsPerIp: 5',
          '  upgradeRateLimit: 2.5',
        ].join('\n'),
      ),
    );
    assert.equal(route.name, 'chat');
    assert.equal(route.host, '*.example.com');
    assert.equal(route.headers[0]!.name, 'x-version');
    assert.equal(route.headers[0]!.value, '2');
    assert.ok(route.headers[1]!.value instanceof RegExp);
    assert.deepEqual(route.policies.subprotocols, ['chat.v1']);
    assert.equal(route.policies.compression, 'passthrough');
    assert.equal(route.mode, 'tunnel');
    assert.deepEqual(route.http, { kind: 'reject', status: 426 });
    assert.deepEqual(route.middleware.jwt, {
      secret: '0123456789abcdef0123456789abcdef',
      issuer: 'me',
      queryParam: false,
    });
    assert.deepEqual(route.middleware.origins, ['https://*.example.com']);
    assert.deepEqual(route.middleware.ipAllow, ['10.0.0.0/8', '::1']);
    assert.deepEqual(route.middleware.ipDeny, ['10.1.0.0/16']);
    assert.equal(route.middleware.maxConnectionsPerIp, 5);
    // A bare rate bursts one second's worth, rounded up.
    assert.deepEqual(route.middleware.upgradeRateLimit, { perSecond: 2.5, burst: 3 });
  });

  test('health check and passive health defaults and overrides', () => {
    const config = parseGatewayConfig(
      BASE.replace(
        '  echo:\n',
        '  echo:\n    healthCheck: { type: http, interval: 1s, timeout: 500ms, healthyThreshold: 1 }\n    passiveHealth: { consecutiveFailures: 0 }\n',
      ),
      { env: {} },
    );
    const echo = upstream(config, 'echo');
    assert.deepEqual(echo.healthCheck, {
      kind: 'http',
      path: '/',
      intervalMs: 1000,
      timeoutMs: 500,
      unhealthyThreshold: 2,
      healthyThreshold: 1,
    });
    assert.deepEqual(echo.passiveHealth, { consecutiveFailures: 0, ejectionMs: 30_000 });
  });
});

describe('environment interpolation', () => {
  const text = `
listen:
  - port: \${PORT}
upstreams:
  echo:
    backends:
      - url: ws://\${BACKEND_HOST:-127.0.0.1}:9001\${SUFFIX:-}
routes:
  - path: /$\${literal}
    upstream: echo
    middleware:
      jwt: { secret: "\${SECRET}" }
`;
  const secret = 's'.repeat(32);

  test('replaces $VAR references, with or without default; numbers may come from variables', () => {
    const config = parseGatewayConfig(text, {
      env: { PORT: '8081', BACKEND_HOST: '10.0.0.7', SECRET: secret },
    });
    assert.equal(config.listen[0]!.port, 8081);
    assert.equal(upstream(config, 'echo').backends[0]!.url.href, 'ws://10.0.0.7:9001/');
    assert.equal(config.routes[0]!.middleware.jwt?.secret, secret);
    assert.deepEqual(config.routes[0]!.path, { kind: 'prefix', value: `/\${literal}` });
  });

  test('uses the default when the variable is unset or empty', () => {
    const config = parseGatewayConfig(text, { env: { PORT: '1', BACKEND_HOST: '', SECRET: secret } });
    assert.equal(upstream(config, 'echo').backends[0]!.url.href, 'ws://127.0.0.1:9001/');
  });

  test('an unset variable without default is an error at its path', () => {
    assert.deepEqual(
      problems(() => parseGatewayConfig(text, { env: { SECRET: secret } })),
      ['listen[0].port: expected environment variable PORT to be set, found it unset'],
    );
  });

  test('a variable never changes the structure of the document', () => {
    const config = parseGatewayConfig(BASE.replace('path: /', `path: "\${P}"`), {
      env: { P: '/x\n    upstream: other' },
    });
    assert.deepEqual(config.routes[0]!.path, { kind: 'prefix', value: '/x\n    upstream: other' });
    assert.equal(config.routes[0]!.upstream, 'echo');
  });

  test('reads process.env by default', () => {
    process.env.CONDUIT_TEST_GATEWAY_PORT = '9123';
    try {
      const config = parseGatewayConfig(BASE.replace('port: 8080', `port: \${CONDUIT_TEST_GATEWAY_PORT}`));
      assert.equal(config.listen[0]!.port, 9123);
    } finally {
      delete process.env.CONDUIT_TEST_GATEWAY_PORT;
    }
  });
});

describe('errors', () => {
  test('name the path, what was expected and what was found', () => {
    const text = BASE.replace(
      '      - url: ws://127.0.0.1:9001',
      '      - url: ws://127.0.0.1:9001\n      - url: tcp://x',
    );
    assert.deepEqual(
      problems(() => parseGatewayConfig(text, { env: {} })),
      ['upstreams.echo.backends[1].url: expected a ws:// or wss:// URL, found "tcp://x"'],
    );
  });

  test('every problem of a file is reported at once', () => {
    const lines = problems(() =>
      parseGatewayConfig(
        withRoute(
          [
            'idleTimeout: 5 minutes',
            'compression: gzip',
            'pth: /x',
            'maxMessagesPerSecond: -1',
            'middleware: { ipAllow: [10.0.0.0/33], jwt: { secret: short } }',
          ].join('\n'),
        ).replace('port: 8080', 'port: 70000'),
        { env: {} },
      ),
    );
    assert.deepEqual(lines, [
      'listen[0].port: expected an integer from 0 to 65535, found 70000',
      'routes[0].compression: expected one of negotiate, passthrough, off, found "gzip"',
      'routes[0].idleTimeout: expected a duration (a number of ms, or a string like 30s), found "5 minutes"',
      'routes[0].maxMessagesPerSecond: expected an integer >= 0, found -1',
      'routes[0].middleware.jwt.secret: expected an HMAC secret of at least 32 characters, found "short"',
      'routes[0].middleware.ipAllow[0]: expected an IP address or CIDR block (10.0.0.0/8, 2001:db8::/32), found "10.0.0.0/33"',
      'routes[0].pth: expected one of the fields name, host, path, headers, upstream, mode, http, subprotocols, compression, idleTimeout, maxMessageSize, maxMessagesPerSecond, pingInterval, middleware, found an unknown field',
    ]);
  });

  test('alternatives report the field of the form that was meant', () => {
    const lines = problems(() =>
      parseGatewayConfig(
        BASE.replace('path: /', 'path: { exact: 5 }').replace(
          '  echo:\n',
          '  echo:\n    balance: { hash: { header: a, cookie: b } }\n',
        ),
        { env: {} },
      ),
    );
    assert.deepEqual(lines, [
      'upstreams.echo.balance.hash: expected exactly one of header, cookie, query, found {"header":"a","cookie":"b"}',
      'routes[0].path.exact: expected a string, found 5',
    ]);
    assert.deepEqual(
      problems(() =>
        parseGatewayConfig(BASE.replace('  echo:\n', '  echo:\n    balance: fastest\n'), { env: {} }),
      ),
      [
        'upstreams.echo.balance: expected least-connections, round-robin, weighted or { hash: ip | { header | cookie | query: <name> } }, found "fastest"',
      ],
    );
  });

  test('regex paths and header patterns must compile', () => {
    const lines = problems(() =>
      parseGatewayConfig(
        withRoute("headers: { x-a: { regex: '[' } }").replace('path: /', "path: { regex: '(' }"),
        {
          env: {},
        },
      ),
    );
    assert.equal(lines.length, 2);
    assert.match(
      lines[0]!,
      /^routes\[0\]\.path\.regex: expected a valid regular expression \(.+\), found "\("$/,
    );
    assert.match(
      lines[1]!,
      /^routes\[0\]\.headers\.x-a\.regex: expected a valid regular expression \(.+\), found "\["$/,
    );
  });

  test('missing required fields are reported as found nothing', () => {
    assert.deepEqual(
      problems(() => parseGatewayConfig('listen: []\nupstreams: {}\nroutes: [{}]\n', { env: {} })),
      [
        'listen: expected a list of at least 1 item, found []',
        'routes[0].upstream: expected a string, found nothing',
      ],
    );
  });

  test('cross-checks: upstreams exist and suit the route, ports and route names are unique', () => {
    const text = `
listen: [{ port: 8080 }, { port: 8080, host: 127.0.0.1 }, { port: 0 }, { port: 0 }]
upstreams:
  echo: { backends: [ws://a:1] }
  web: { backends: [http://b:2] }
routes:
  - { upstream: ech, name: a }
  - { upstream: web, name: a }
  - { upstream: echo, http: { proxy: nope } }
admin: { port: 8080 }
`;
    assert.deepEqual(
      problems(() => parseGatewayConfig(text, { env: {} })),
      [
        'routes[0].upstream: expected one of the upstreams echo, web, found "ech"',
        'routes[1].upstream: expected an upstream with ws:// or wss:// backends, found "web", whose backends are http(s)://',
        'routes[2].http.proxy: expected one of the upstreams echo, web, found "nope"',
        'routes[1].name: expected a name not used by routes[0], found "a"',
        'listen[1].port: expected a port not used by listen[0], found 8080',
        'admin.port: expected a port not used by listen[0], found 8080',
      ],
    );
  });

  test('backends: duplicates, mixed schemes, empty lists, bad weights', () => {
    const lines = problems(() =>
      parseGatewayConfig(
        BASE.replace(
          '      - url: ws://127.0.0.1:9001',
          '      - ws://a:1\n      - ws://a:1/\n      - http://c:3\n      - { url: ws://d:4, weight: 0 }',
        ).replace('upstreams:\n', 'upstreams:\n  none: { backends: [] }\n'),
        { env: {} },
      ),
    );
    assert.deepEqual(lines, [
      'upstreams.none.backends: expected a list of at least 1 item, found []',
      'upstreams.echo.backends[3].weight: expected an integer from 1 to 256, found 0',
    ]);
    assert.deepEqual(
      problems(() =>
        parseGatewayConfig(
          BASE.replace(
            '      - url: ws://127.0.0.1:9001',
            '      - ws://a:1\n      - ws://a:1/\n      - http://c:3',
          ),
          {
            env: {},
          },
        ),
      ),
      [
        'upstreams.echo.backends[1].url: expected each backend URL once, found "ws://a:1/"',
        'upstreams.echo.backends[2].url: expected a ws:// or wss:// URL like the first backend, found "http://c:3/"',
      ],
    );
  });

  test('a health check timeout longer than its interval is refused', () => {
    assert.deepEqual(
      problems(() =>
        parseGatewayConfig(
          BASE.replace('  echo:\n', '  echo:\n    healthCheck: { interval: 1s, timeout: 2s }\n'),
          {
            env: {},
          },
        ),
      ),
      [
        'upstreams.echo.healthCheck.timeout: expected a timeout no longer than the interval (1000 ms), found 2000',
      ],
    );
  });

  test('YAML syntax errors give line and column; duplicate keys are refused', () => {
    assert.deepEqual(
      problems(() => parseGatewayConfig('listen: [1\nroutes: 2', { env: {} })).map((l) => l.split(':')[0]),
      ['line 2, column 1'],
    );
    const [line] = problems(() => parseGatewayConfig(`${BASE}listen: []\n`, { env: {} }));
    assert.match(
      line!,
      /^line \d+, column \d+: expected valid YAML or JSON, found a syntax error \(Map keys must be unique\)$/,
    );
  });

  test('a __proto__ key is an unknown field, not a prototype', () => {
    const lines = problems(() => parseGatewayConfig(`${BASE}__proto__: { polluted: true }\n`, { env: {} }));
    assert.equal(lines.length, 1);
    assert.match(
      lines[0]!,
      /^__proto__: expected one of the fields listen, upstreams, routes, admin, drainTimeout/,
    );
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

after(() => {
  delete process.env.CONDUIT_TEST_GATEWAY_PORT;
});
