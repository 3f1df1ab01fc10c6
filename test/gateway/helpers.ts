/**
 * Helpers of the proxy tests: routes with defaults, a minimal in-test gateway built from the proxy's
 * pieces on a real WebSocketServer, and real backends (a `conduit echo` child process, a `ws` server).
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import WebSocket, { WebSocketServer as WsServer } from 'ws';
import type {
  BackendConfig,
  RouteConfig,
  RoutePolicies,
  UpstreamConfig,
} from '../../src/gateway/config/types.js';
import type { UpstreamError } from '../../src/gateway/proxy/errors.js';
import type { ForwardOptions } from '../../src/gateway/proxy/forward-headers.js';
import type { PairOptions } from '../../src/gateway/proxy/pair.js';
import { proxyUpgrade } from '../../src/gateway/proxy/proxy-upgrade.js';
import { proxyServerOptions } from '../../src/gateway/proxy/server-options.js';
import { type ProxySession, ProxySessions } from '../../src/gateway/proxy/session.js';
import type { ProxyStats } from '../../src/gateway/proxy/stats.js';
import type { UpstreamDialer } from '../../src/gateway/proxy/upstream-dial.js';
import type { WebSocketServerOptions } from '../../src/server/options.js';
import { WebSocketServer } from '../../src/server/server.js';
import { closeServer, waitFor, withTimeout } from '../server/helpers.js';

export { clientClosed, openClient, waitFor, withTimeout } from '../server/helpers.js';

// dist/test/gateway/helpers.js → bin/conduit.js at the repository root.
const BIN = fileURLToPath(new URL('../../../bin/conduit.js', import.meta.url));

/** Route policies with the documented defaults, overridable. */
export function policies(overrides: Partial<RoutePolicies> = {}): RoutePolicies {
  return {
    subprotocols: [],
    compression: 'negotiate',
    idleTimeoutMs: 0,
    maxMessageBytes: 16 * 1024 * 1024,
    maxMessagesPerSecond: 0,
    pingIntervalMs: 30_000,
    ...overrides,
  };
}

/** A route taking every request, with the given mode and policies. */
export function route(
  mode: 'frames' | 'tunnel' = 'frames',
  overrides: Partial<RoutePolicies> = {},
): RouteConfig {
  return {
    name: 'test',
    host: null,
    path: { kind: 'prefix', value: '/' },
    headers: [],
    upstream: 'backends',
    mode,
    http: { kind: 'reject', status: 426 },
    policies: policies(overrides),
    middleware: {
      jwt: null,
      origins: null,
      ipAllow: null,
      ipDeny: null,
      maxConnectionsPerIp: 0,
      upgradeRateLimit: null,
    },
  };
}

/** Options of {@link startGateway}. */
export interface GatewayOptions {
  route?: RouteConfig;
  upstream?: Partial<Pick<UpstreamConfig, 'maxAttempts' | 'connectTimeoutMs'>>;
  pair?: PairOptions;
  forward?: ForwardOptions;
  dialer?: UpstreamDialer;
  server?: Partial<WebSocketServerOptions>;
}

/** A running in-test gateway. */
export interface TestGateway {
  url: string;
  server: WebSocketServer;
  sessions: ProxySessions;
  /** Every session started, in order. */
  started: ProxySession[];
  /** Final stats of every session that ended, in order. */
  ended: ProxyStats[];
  /** Every dial attempt: backend URL and error code ('' on success). */
  attempts: { url: string; code: string }[];
  /** The status each upgrade hook answered (101 for an accepted upgrade). */
  verdicts: number[];
  /** Waits for the `count`th session end (1-based). */
  nthEnd(count: number, ms?: number): Promise<ProxyStats>;
  close(): Promise<void>;
}

/** Starts a gateway on 127.0.0.1 in front of `backends`, tried in order. */
export async function startGateway(backends: string[], options: GatewayOptions = {}): Promise<TestGateway> {
  const theRoute = options.route ?? route();
  const upstream = { maxAttempts: 3, connectTimeoutMs: 2000, ...options.upstream };
  const configs: BackendConfig[] = backends.map((url) => ({ url: new URL(url), weight: 1 }));
  const attempts: { url: string; code: string }[] = [];
  const verdicts: number[] = [];
  const ended: ProxyStats[] = [];
  const started: ProxySession[] = [];
  const endWaiters: (() => void)[] = [];
  const sessions = new ProxySessions({
    onEnd: (stats) => {
      ended.push(stats);
      for (const wake of endWaiters.splice(0)) wake();
    },
  });
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    clientTracking: false,
    ...options.server,
    ...proxyServerOptions(),
    upgrade: async (request) => {
      const verdict = await proxyUpgrade(
        request,
        theRoute,
        (tried) => configs.find((backend) => !tried.has(backend)),
        {
          upstream,
          forward: options.forward,
          dialer: options.dialer,
          onAttempt: (backend, error: UpstreamError | null) =>
            attempts.push({ url: backend.url.href, code: error?.code ?? '' }),
        },
      );
      verdicts.push(verdict?.status ?? 101);
      return verdict;
    },
  });
  server.on('connection', (connection) => {
    const session = sessions.start(connection, options.pair);
    if (session !== null) started.push(session);
  });
  await waitFor(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const nthEnd = async (count: number, ms = 5000): Promise<ProxyStats> => {
    const reached = (async () => {
      while (ended.length < count) await new Promise<void>((resolve) => endWaiters.push(resolve));
      return ended[count - 1]!;
    })();
    return withTimeout(reached, ms, `session end #${count}`);
  };
  const close = async (): Promise<void> => {
    sessions.closeAll();
    await closeServer(server);
  };
  return {
    url: `ws://127.0.0.1:${port}`,
    server,
    sessions,
    started,
    ended,
    attempts,
    verdicts,
    nthEnd,
    close,
  };
}

/** A `conduit echo` child process. */
export interface EchoChild {
  url: string;
  child: ChildProcessWithoutNullStreams;
  /** SIGKILLs the child (idempotent) and waits for its exit. */
  kill(): Promise<void>;
}

/** Starts `node bin/conduit.js echo --port 0` (plus `args`); resolves with its printed URL. */
export async function startConduitEcho(args: string[] = []): Promise<EchoChild> {
  const child = spawn(process.execPath, [BIN, 'echo', '--port', '0', ...args], { stdio: 'pipe' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await withTimeout(exited, 5000, 'echo child exit');
  };
  try {
    const url = await withTimeout(
      new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /^listening on (wss?:\/\/\S+)$/m.exec(out);
          if (match) resolve(match[1]!);
        });
        child.once('exit', (code) => reject(new Error(`conduit echo exited with ${code}: ${out}`)));
      }),
      10_000,
      'conduit echo listening line',
    );
    return { url, child, kill };
  } catch (error) {
    await kill();
    throw error;
  }
}

/** A `ws` backend: every connection and its request are recorded; echo unless told otherwise. */
export interface WsBackend {
  url: string;
  server: WsServer;
  /** Connections in arrival order, with their upgrade request. */
  connections: { socket: WebSocket; request: IncomingMessage }[];
  /** Waits for the `count`th connection (1-based). */
  nthConnection(count: number, ms?: number): Promise<{ socket: WebSocket; request: IncomingMessage }>;
  close(): Promise<void>;
}

/** Starts a `ws` server on 127.0.0.1; `onConnection` replaces the default echo behaviour. */
export async function startWsBackend(
  options: Omit<WebSocket.ServerOptions, 'port' | 'host'> = {},
  onConnection?: (socket: WebSocket, request: IncomingMessage) => void,
): Promise<WsBackend> {
  const server = new WsServer({ host: '127.0.0.1', port: 0, ...options });
  await waitFor(server, 'listening');
  const connections: { socket: WebSocket; request: IncomingMessage }[] = [];
  const waiters: (() => void)[] = [];
  server.on('connection', (socket, request) => {
    connections.push({ socket, request });
    socket.on('error', () => {});
    if (onConnection) onConnection(socket, request);
    else socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
    for (const wake of waiters.splice(0)) wake();
  });
  const nthConnection = (count: number, ms = 5000) =>
    withTimeout(
      (async () => {
        while (connections.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
        return connections[count - 1]!;
      })(),
      ms,
      `backend connection #${count}`,
    );
  const close = async (): Promise<void> => {
    for (const { socket } of connections) socket.terminate();
    await withTimeout(
      new Promise<void>((resolve) => server.close(() => resolve())),
      5000,
      'ws backend close',
    );
  };
  const port = (server.address() as AddressInfo).port;
  return { url: `ws://127.0.0.1:${port}`, server, connections, nthConnection, close };
}

/** A 127.0.0.1 port that refuses connections (a server was there a moment ago). */
export async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Opens a `ws` client through the gateway; rejects with the HTTP status on a refused upgrade. */
export function openThrough(
  url: string,
  protocols?: string[],
  options: WebSocket.ClientOptions = {},
): Promise<WebSocket> {
  const client = new WebSocket(url, protocols, { perMessageDeflate: false, ...options });
  client.on('error', () => {});
  const opened = new Promise<WebSocket>((resolve, reject) => {
    client.once('open', () => resolve(client));
    client.once('unexpected-response', (_request, response) => {
      reject(Object.assign(new Error(`status ${response.statusCode}`), { status: response.statusCode }));
      client.terminate();
    });
    client.once('close', (code) => reject(new Error(`closed with ${code} before open`)));
  });
  return withTimeout(opened, 5000, `open ${url}`);
}

/** Waits for the next message of a `ws` socket; resolves with its data and type. */
export async function nextMessage(
  socket: WebSocket,
  ms = 5000,
): Promise<{ data: Buffer; isBinary: boolean }> {
  const [data, isBinary] = await waitFor<[Buffer, boolean]>(socket, 'message', ms);
  return { data, isBinary };
}
