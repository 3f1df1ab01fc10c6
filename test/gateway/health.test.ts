/**
 * Backend health against real servers on 127.0.0.1: active checks (WebSocket handshake, HTTP GET,
 * timeouts) that take a stopped backend out and bring it back when it restarts, passive ejection after
 * failed upgrades with re-admission, start/stop, and unref'd timers.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { WebSocket } from '../../src/client/websocket.js';
import { Backend, type BackendState } from '../../src/gateway/backend.js';
import type {
  HealthCheckConfig,
  PassiveHealthConfig,
  UpstreamConfig,
} from '../../src/gateway/config/types.js';
import { HealthChecker } from '../../src/gateway/health.js';
import type { ProbeResult } from '../../src/gateway/health-probe.js';
import { Upstream } from '../../src/gateway/upstream.js';
import { WebSocketServer } from '../../src/server/server.js';
import { closeServer, waitFor, withTimeout } from '../server/helpers.js';

const PASSIVE: PassiveHealthConfig = { consecutiveFailures: 3, ejectionMs: 30_000 };

function check(fields: Partial<HealthCheckConfig> = {}): HealthCheckConfig {
  return {
    kind: 'handshake',
    path: '/',
    intervalMs: 25,
    timeoutMs: 1000,
    unhealthyThreshold: 2,
    healthyThreshold: 2,
    ...fields,
  };
}

/** Resolves once `backend` is in `state` (at once if it already is); fails after `ms`. */
function stateOf(backend: Backend, state: BackendState, ms = 5000): Promise<void> {
  if (backend.state === state) return Promise.resolve();
  let listener: ((next: BackendState) => void) | undefined;
  const reached = new Promise<void>((resolve) => {
    listener = (next) => {
      if (next === state) resolve();
    };
    backend.on('state', listener);
  });
  return withTimeout(reached, ms, `backend ${backend.key} ${state}`).finally(() =>
    backend.off('state', listener!),
  );
}

/** Resolves after `count` more probe results (from `onResult`), bounded. */
function resultsCounter(): {
  onResult: (b: Backend, r: ProbeResult) => void;
  next: (count: number) => Promise<ProbeResult[]>;
} {
  const seen: ProbeResult[] = [];
  let waiter: { from: number; until: number; resolve: (r: ProbeResult[]) => void } | null = null;
  return {
    onResult: (_backend, result) => {
      seen.push(result);
      if (waiter !== null && seen.length >= waiter.until)
        waiter.resolve(seen.slice(waiter.from, waiter.until));
    },
    next: (count) =>
      withTimeout(
        new Promise<ProbeResult[]>((resolve) => {
          waiter = { from: seen.length, until: seen.length + count, resolve };
        }),
        5000,
        `${count} probe results`,
      ),
  };
}

async function startWs(port = 0): Promise<{ server: WebSocketServer; port: number }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port });
  await waitFor(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return { server, port: address.port };
}

async function listen(server: HttpServer | NetServer, port = 0): Promise<number> {
  server.listen(port, '127.0.0.1');
  await waitFor(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return address.port;
}

function closeHttp(server: HttpServer | NetServer): Promise<void> {
  if ('closeAllConnections' in server) server.closeAllConnections();
  return withTimeout(new Promise<void>((resolve) => server.close(() => resolve())), 5000, 'server close');
}

function wsBackend(port: number, passive = PASSIVE): Backend {
  return new Backend({ url: new URL(`ws://127.0.0.1:${port}`), weight: 1 }, passive);
}

describe('active checks: WebSocket handshake', () => {
  test('a stopped backend goes unhealthy, and healthy again once it is back', async () => {
    let { server, port } = await startWs();
    const config: UpstreamConfig = {
      name: 'echo',
      balance: { kind: 'round-robin' },
      backends: [{ url: new URL(`ws://127.0.0.1:${port}`), weight: 1 }],
      healthCheck: check(),
      passiveHealth: PASSIVE,
      connectTimeoutMs: 1000,
      maxAttempts: 1,
    };
    const counter = resultsCounter();
    const upstream = new Upstream(config, null, { onResult: counter.onResult });
    const backend = upstream.backends[0]!;
    const states: BackendState[] = [];
    backend.on('state', (state) => states.push(state));
    try {
      upstream.start();
      assert.ok(upstream.health?.running);
      const ok = await counter.next(3);
      assert.deepEqual(ok, [{ ok: true }, { ok: true }, { ok: true }]);
      assert.equal(backend.state, 'healthy');

      await closeServer(server);
      await stateOf(backend, 'unhealthy');
      assert.equal(upstream.pick({ url: '/', headers: {}, remoteAddress: '127.0.0.1' }), null);

      ({ server } = await startWs(port));
      await stateOf(backend, 'healthy');
      assert.equal(upstream.pick({ url: '/', headers: {}, remoteAddress: '127.0.0.1' }), backend);
      assert.deepEqual(states, ['unhealthy', 'healthy']);
    } finally {
      upstream.stop();
      await closeServer(server);
    }
  });

  test('the check requests the configured path', async () => {
    const paths: string[] = [];
    const { server, port } = await startWs();
    server.on('connection', (_connection: unknown, request: { url: string }) => paths.push(request.url));
    const backend = wsBackend(port);
    const checker = new HealthChecker(check({ path: '/healthz?probe=1' }), [backend]);
    try {
      await checker.checkNow();
      assert.deepEqual(paths, ['/healthz?probe=1']);
    } finally {
      checker.stop();
      await closeServer(server);
    }
  });
});

describe('active checks: HTTP GET', () => {
  test('non-2xx answers count as failures; thresholds apply both ways', async () => {
    let status = 200;
    const seen: string[] = [];
    const server = createHttpServer((request, response) => {
      seen.push(request.url ?? '');
      response.writeHead(request.url === '/ready' ? status : 404).end();
    });
    const port = await listen(server);
    const backend = new Backend({ url: new URL(`http://127.0.0.1:${port}`), weight: 1 }, PASSIVE);
    const counter = resultsCounter();
    const checker = new HealthChecker(
      check({ kind: 'http', path: '/ready', unhealthyThreshold: 3 }),
      [backend],
      {
        onResult: counter.onResult,
      },
    );
    try {
      checker.start();
      await counter.next(2);
      status = 503;
      const failures = await counter.next(3);
      assert.deepEqual(failures.at(-1), { ok: false, reason: 'status 503' });
      await stateOf(backend, 'unhealthy');
      status = 204;
      await stateOf(backend, 'healthy');
      assert.ok(seen.every((path) => path === '/ready'));
    } finally {
      checker.stop();
      await closeHttp(server);
    }
  });

  test('a ws:// backend is checked over http://, with the check path', async () => {
    const server = createHttpServer((request, response) =>
      response.writeHead(request.url === '/up' ? 200 : 500).end(),
    );
    const port = await listen(server);
    const once = { kind: 'http' as const, healthyThreshold: 1, unhealthyThreshold: 1 };
    const up = wsBackend(port);
    const down = wsBackend(port);
    const good = new HealthChecker(check({ ...once, path: '/up' }), [up]);
    const bad = new HealthChecker(check({ ...once, path: '/down' }), [down]);
    try {
      await good.checkNow();
      await bad.checkNow();
      assert.equal(up.state, 'healthy');
      assert.equal(down.state, 'unhealthy');
    } finally {
      good.stop();
      bad.stop();
      await closeHttp(server);
    }
  });
});

describe('active checks: timeouts and lifecycle', () => {
  test('a backend that accepts but never answers fails by timeout', async () => {
    const sockets = new Set<Socket>();
    const server = createNetServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    const port = await listen(server);
    try {
      for (const kind of ['handshake', 'http'] as const) {
        const backend = wsBackend(port);
        const counter = resultsCounter();
        const checker = new HealthChecker(check({ kind, timeoutMs: 100, intervalMs: 100 }), [backend], {
          onResult: counter.onResult,
        });
        try {
          checker.start();
          const results = await counter.next(2);
          assert.equal(results[0]!.ok, false);
          assert.match((results[0] as { reason: string }).reason, /timeout|timed out/i);
          await stateOf(backend, 'unhealthy');
        } finally {
          checker.stop();
        }
      }
    } finally {
      for (const socket of sockets) socket.destroy();
      await closeHttp(server);
    }
  });

  test('a refused connection fails at once; stop() ends probing and ignores late results', async () => {
    const probe = createNetServer();
    const port = await listen(probe);
    await closeHttp(probe); // a port nobody listens on now
    const backend = wsBackend(port);
    const counter = resultsCounter();
    const checker = new HealthChecker(check({ intervalMs: 10 }), [backend], { onResult: counter.onResult });
    try {
      checker.start();
      checker.start(); // idempotent
      await counter.next(2);
      await stateOf(backend, 'unhealthy');
    } finally {
      checker.stop();
    }
    assert.equal(checker.running, false);
    let more = 0;
    const silent = new HealthChecker(check({ intervalMs: 10 }), [backend], { onResult: () => more++ });
    silent.start();
    silent.stop();
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(more, 0, 'no result is reported after stop()');
  });

  test('health check timers never keep the process alive', async () => {
    const { server, port } = await startWs();
    const module = join(import.meta.dirname, '..', '..', 'src', 'gateway');
    const script = `
      const { Backend } = await import(${JSON.stringify(join(module, 'backend.js'))});
      const { HealthChecker } = await import(${JSON.stringify(join(module, 'health.js'))});
      const backend = new Backend({ url: new URL('ws://127.0.0.1:${port}'), weight: 1 }, { consecutiveFailures: 1, ejectionMs: 60000 });
      const checker = new HealthChecker({ kind: 'handshake', path: '/', intervalMs: 60000, timeoutMs: 1000, unhealthyThreshold: 1, healthyThreshold: 1 }, [backend]);
      checker.start();
      backend.reportFailure(); // an ejection timer too
      await checker.checkNow();
      console.log(backend.state);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      const [code] = await waitFor<[number]>(child, 'exit', 10_000);
      assert.equal(code, 0);
      assert.equal(output.trim(), 'ejected');
    } finally {
      child.kill();
      await closeServer(server);
    }
  });
});

describe('passive health', () => {
  /** What the proxy core does for one upgrade: pick, count, dial, report. */
  async function dial(upstream: Upstream): Promise<Backend | null> {
    const backend = upstream.pick({ url: '/', headers: {}, remoteAddress: '127.0.0.1' });
    if (backend === null) return null;
    const release = backend.acquire();
    const socket = new WebSocket(backend.url, { handshakeTimeout: 2000 });
    const opened = await withTimeout(
      new Promise<boolean>((resolve) => {
        socket.addEventListener('open', () => resolve(true));
        socket.addEventListener('close', () => resolve(false));
      }),
      5000,
      'dial',
    );
    if (opened) {
      backend.reportSuccess();
      socket.close();
    } else backend.reportFailure();
    release();
    return backend;
  }

  test('failed upgrades eject a stopped backend; it is re-admitted and used again after restart', async () => {
    const a = await startWs();
    const b = await startWs();
    let serverA = a.server;
    const config: UpstreamConfig = {
      name: 'echo',
      balance: { kind: 'round-robin' },
      backends: [a.port, b.port].map((port) => ({ url: new URL(`ws://127.0.0.1:${port}`), weight: 1 })),
      healthCheck: null,
      passiveHealth: { consecutiveFailures: 2, ejectionMs: 200 },
      connectTimeoutMs: 1000,
      maxAttempts: 2,
    };
    const upstream = new Upstream(config);
    const [backendA, backendB] = upstream.backends as [Backend, Backend];
    try {
      assert.equal(await dial(upstream), backendA);
      assert.equal(await dial(upstream), backendB);
      await closeServer(serverA);

      // Round-robin alternates: A fails twice (with a success on B between), then A is out.
      assert.equal(await dial(upstream), backendA);
      assert.equal(backendA.state, 'healthy');
      await dial(upstream);
      assert.equal(await dial(upstream), backendA);
      assert.equal(backendA.state, 'ejected');
      assert.equal(backendA.status().consecutiveFailures, 2);
      for (let i = 0; i < 3; i++) assert.equal(await dial(upstream), backendB);
      assert.equal(backendB.activeConnections, 0);

      ({ server: serverA } = await startWs(a.port));
      await stateOf(backendA, 'healthy');
      const used = [await dial(upstream), await dial(upstream)];
      assert.ok(used.includes(backendA));
      assert.equal(backendA.status().consecutiveFailures, 0);
    } finally {
      await closeServer(serverA);
      await closeServer(b.server);
    }
  });
});

describe('backend state', () => {
  test('a re-admitted backend is on probation: one failure ejects it again, for longer', async () => {
    const backend = wsBackend(1, { consecutiveFailures: 3, ejectionMs: 50 });
    try {
      backend.reportFailure();
      backend.reportFailure();
      assert.equal(backend.state, 'healthy');
      backend.reportFailure();
      assert.equal(backend.state, 'ejected');
      assert.equal(backend.available, false);
      backend.reportFailure(); // ignored while ejected
      await stateOf(backend, 'healthy');
      backend.reportFailure();
      assert.equal(backend.state, 'ejected');
      // The second ejection in a row lasts twice as long: more than one ejectionMs from now.
      assert.ok(backend.status().ejectedUntil! - Date.now() > 50);
      await stateOf(backend, 'healthy');
      backend.reportSuccess();
      backend.reportFailure();
      backend.reportFailure();
      assert.equal(backend.state, 'healthy', 'a success ends the probation');
    } finally {
      backend.dispose();
    }
  });

  test('consecutiveFailures 0 never ejects; active health and ejection combine', () => {
    const never = wsBackend(1, { consecutiveFailures: 0, ejectionMs: 50 });
    for (let i = 0; i < 10; i++) never.reportFailure();
    assert.equal(never.state, 'healthy');

    const backend = wsBackend(1, { consecutiveFailures: 1, ejectionMs: 60_000 });
    const states: string[] = [];
    backend.on('state', (state, previous) => states.push(`${previous}->${state}`));
    backend.setHealthy(false);
    backend.setHealthy(false);
    backend.reportFailure();
    assert.equal(backend.state, 'ejected');
    backend.setHealthy(true);
    assert.equal(backend.state, 'ejected');
    assert.equal(backend.available, false);
    backend.dispose();
    assert.equal(backend.state, 'healthy');
    assert.deepEqual(states, ['healthy->unhealthy', 'unhealthy->ejected']);
    assert.deepEqual(backend.status(), {
      url: 'ws://127.0.0.1:1/',
      weight: 1,
      state: 'healthy',
      activeConnections: 0,
      consecutiveFailures: 1,
      ejectedUntil: null,
    });
  });
});
