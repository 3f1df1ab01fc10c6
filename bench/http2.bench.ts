/**
 * WebSockets over HTTP/2 (RFC 8441) against HTTP/1.1: 100 WebSockets multiplexed on one HTTP/2
 * connection versus 100 HTTP/1.1 connections, on the same Conduit server (standalone, `http2: true`,
 * cleartext: h2c next to HTTP/1.1 upgrades on one port).
 *
 * - Throughput: echo of 64-byte binary messages, a few in flight per socket, messages per second.
 * - Memory: the server's RSS and heap growth for the 100 sockets, divided by 100 (after a GC).
 *
 * The server runs in a child process pinned to CPU 1, the load generator (this process: raw frames over
 * `node:net` or `node:http2`, no WebSocket client library) on CPU 0; both report their CPU share so that
 * the table shows which side was the bottleneck. Each mode gets a fresh server; modes take turns.
 *
 * Run: `npx tsc -p tsconfig.json && node dist/bench/http2.bench.js`
 *      [--duration 5] [--warmup 1] [--sockets 100] [--in-flight 4] [--repeat 2]
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type ClientHttp2Session, connect as connectHttp2 } from 'node:http2';
import { connect as connectTcp, type Socket } from 'node:net';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { WebSocketConnection } from '../src/server/connection.js';
import { WebSocketServer } from '../src/server/server.js';

type Mode = 'http1' | 'http2';

interface Options {
  duration: number;
  warmup: number;
  sockets: number;
  inFlight: number;
  repeat: number;
}

interface ServerStats {
  rss: number;
  heapUsed: number;
  clients: number;
  upgrades: Record<string, number>;
}

interface Result {
  mode: Mode;
  msgsPerSec: number;
  serverCpu: number;
  loadgenCpu: number;
  rssPerSocket: number;
  heapPerSocket: number;
  tcpConnections: number;
}

const PAYLOAD = 64;
/** A client frame: FIN + binary, masked, 64-byte payload (RFC 6455 §5.2). */
const CLIENT_FRAME = (() => {
  const frame = Buffer.alloc(2 + 4 + PAYLOAD);
  frame[0] = 0x82;
  frame[1] = 0x80 | PAYLOAD;
  frame.set([0x12, 0x34, 0x56, 0x78], 2);
  return frame;
})();
/** The server's echo of it: unmasked, 2-byte header. */
const SERVER_FRAME_SIZE = 2 + PAYLOAD;
/** Many client frames back to back, to answer a chunk of echoes with one write. */
const FRAMES = Buffer.concat(Array.from({ length: 256 }, () => CLIENT_FRAME));

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// --- The server (child process) -------------------------------------------------------------------------

function echoMessage(this: WebSocketConnection, data: Buffer): void {
  this.send(data, { binary: true });
}

async function serve(): Promise<void> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', http2: true, heartbeatInterval: 0 });
  wss.on('connection', (connection: WebSocketConnection) => connection.on('message', echoMessage));
  await new Promise((resolve) => wss.once('listening', resolve));
  const address = wss.address();
  process.send?.({ port: typeof address === 'object' && address !== null ? address.port : 0 });
  process.on('message', (message: string) => {
    if (message === 'stats') {
      (globalThis as { gc?: () => void }).gc?.();
      const { rss, heapUsed } = process.memoryUsage();
      const stats: ServerStats = {
        rss,
        heapUsed,
        clients: wss.clients.size,
        upgrades: { ...wss.upgradeCounts },
      };
      process.send?.(stats);
    } else if (message === 'exit') {
      process.exit(0);
    }
  });
}

// --- The load generator ---------------------------------------------------------------------------------

/** Counts echoed frames on one socket and answers each with a new frame (constant in-flight count). */
class EchoCounter {
  received = 0;
  private leftover = 0;

  constructor(private readonly write: (bytes: Buffer) => void) {}

  /** Sends the first `count` frames. */
  prime(count: number): void {
    this.write(FRAMES.subarray(0, count * CLIENT_FRAME.length));
  }

  onData(chunk: Buffer): void {
    const bytes = this.leftover + chunk.length;
    const frames = Math.floor(bytes / SERVER_FRAME_SIZE);
    this.leftover = bytes - frames * SERVER_FRAME_SIZE;
    this.received += frames;
    for (let left = frames; left > 0; left -= 256) {
      this.write(FRAMES.subarray(0, Math.min(left, 256) * CLIENT_FRAME.length));
    }
  }
}

/** Opens `count` HTTP/1.1 WebSockets (raw upgrade), each on its own TCP connection. */
async function openHttp1(
  port: number,
  count: number,
): Promise<{ counters: EchoCounter[]; close: () => void }> {
  const request =
    'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
  const sockets: Socket[] = [];
  const counters = await Promise.all(
    Array.from({ length: count }, async () => {
      const socket = connectTcp(port, '127.0.0.1');
      socket.setNoDelay(true);
      sockets.push(socket);
      socket.write(request);
      const rest = await new Promise<Buffer>((resolve, reject) => {
        let head = Buffer.alloc(0);
        const onData = (chunk: Buffer): void => {
          head = Buffer.concat([head, chunk]);
          const end = head.indexOf('\r\n\r\n');
          if (end === -1) return;
          socket.off('data', onData);
          if (!head.subarray(0, 12).toString().includes('101')) reject(new Error(head.toString()));
          resolve(head.subarray(end + 4));
        };
        socket.on('data', onData);
        socket.once('error', reject);
      });
      const counter = new EchoCounter((bytes) => socket.write(bytes));
      socket.on('data', (chunk: Buffer) => counter.onData(chunk));
      if (rest.length > 0) counter.onData(rest);
      return counter;
    }),
  );
  const close = (): void => {
    for (const socket of sockets) socket.destroy();
  };
  return { counters, close };
}

/** Opens `count` WebSockets as extended CONNECT streams on one HTTP/2 session. */
async function openHttp2(
  port: number,
  count: number,
): Promise<{ counters: EchoCounter[]; close: () => void }> {
  const session: ClientHttp2Session = connectHttp2(`http://127.0.0.1:${port}`, {
    settings: { enablePush: false, initialWindowSize: 1 << 20 },
  });
  await new Promise((resolve) => session.once('remoteSettings', resolve));
  session.setLocalWindowSize(8 << 20);
  const headers = {
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': 'http',
    ':path': '/',
    'sec-websocket-version': '13',
  };
  const counters = await Promise.all(
    Array.from({ length: count }, async () => {
      const stream = session.request(headers, { endStream: false });
      await new Promise<void>((resolve, reject) => {
        stream.once('response', (response) => {
          if (response[':status'] === 200) resolve();
          else reject(new Error(`status ${response[':status']}`));
        });
        stream.once('error', reject);
      });
      const counter = new EchoCounter((bytes) => stream.write(bytes));
      stream.on('data', (chunk: Buffer) => counter.onData(chunk));
      return counter;
    }),
  );
  return { counters, close: () => session.destroy() };
}

// --- Orchestration --------------------------------------------------------------------------------------

interface ServerChild {
  child: ChildProcess;
  port: number;
  stats(): Promise<ServerStats>;
}

function startServer(pin: boolean): Promise<ServerChild> {
  const script = fileURLToPath(import.meta.url);
  const node = [process.execPath, '--expose-gc', script, '--serve'];
  const [command, ...args] = pin ? ['taskset', '-c', '1', ...node] : node;
  const child = spawn(command!, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const stats = (): Promise<ServerStats> =>
    new Promise((resolve) => {
      child.once('message', (message) => resolve(message as ServerStats));
      child.send('stats');
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start within 15 s')), 15_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve({ child, port: (message as { port: number }).port, stats });
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

/** utime + stime of a process, in seconds (Linux /proc). */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

function total(counters: EchoCounter[]): number {
  return counters.reduce((sum, counter) => sum + counter.received, 0);
}

async function runMode(mode: Mode, options: Options, pin: boolean): Promise<Result> {
  const server = await startServer(pin);
  try {
    await sleep(200);
    const before = await server.stats();
    const open = mode === 'http1' ? openHttp1 : openHttp2;
    const { counters, close } = await open(server.port, options.sockets);
    const after = await server.stats();
    if (after.clients !== options.sockets)
      throw new Error(`${after.clients} clients, expected ${options.sockets}`);
    // Each socket starts with `inFlight` frames; every echo is answered with a new one.
    for (const counter of counters) counter.prime(options.inFlight);
    await sleep(options.warmup * 1000);
    const start = total(counters);
    const serverCpu0 = cpuSeconds(server.child.pid!);
    const loadgenCpu0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(options.duration * 1000);
    const elapsed = (performance.now() - t0) / 1000;
    const messages = total(counters) - start;
    const loadgenCpu = process.cpuUsage(loadgenCpu0);
    const serverCpu = (cpuSeconds(server.child.pid!) - serverCpu0) / elapsed;
    close();
    return {
      mode,
      msgsPerSec: messages / elapsed,
      serverCpu,
      loadgenCpu: (loadgenCpu.user + loadgenCpu.system) / 1e6 / elapsed,
      rssPerSocket: (after.rss - before.rss) / options.sockets,
      heapPerSocket: (after.heapUsed - before.heapUsed) / options.sockets,
      tcpConnections: mode === 'http1' ? options.sockets : 1,
    };
  } finally {
    server.child.send('exit');
    await new Promise((resolve) => {
      if (server.child.exitCode !== null) resolve(undefined);
      server.child.once('exit', resolve);
      setTimeout(() => server.child.kill('SIGKILL'), 3000).unref();
    });
  }
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function printTable(results: Result[], options: Options): void {
  console.log(
    `\n${options.sockets} WebSockets, echo of ${PAYLOAD} B binary, ${options.inFlight} in flight per socket, ` +
      `${options.duration} s (median of ${options.repeat})\n`,
  );
  console.log(
    '| transport | TCP conns | msgs/s | server CPU | loadgen CPU | server RSS/socket | server heap/socket |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const mode of ['http1', 'http2'] as const) {
    const runs = results.filter((result) => result.mode === mode);
    if (runs.length === 0) continue;
    const label = mode === 'http1' ? 'HTTP/1.1 upgrade' : 'HTTP/2 extended CONNECT';
    const pick = (f: (r: Result) => number) => median(runs.map(f));
    console.log(
      `| ${label} | ${runs[0]!.tcpConnections} | ${Math.round(pick((r) => r.msgsPerSec)).toLocaleString('en-US')} | ` +
        `${(pick((r) => r.serverCpu) * 100).toFixed(0)}% | ${(pick((r) => r.loadgenCpu) * 100).toFixed(0)}% | ` +
        `${kb(pick((r) => r.rssPerSocket))} | ${kb(pick((r) => r.heapPerSocket))} |`,
    );
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      serve: { type: 'boolean' },
      duration: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      sockets: { type: 'string', default: '100' },
      'in-flight': { type: 'string', default: '4' },
      repeat: { type: 'string', default: '2' },
    },
  });
  if (values.serve) {
    await serve();
    return;
  }
  const options: Options = {
    duration: Number(values.duration),
    warmup: Number(values.warmup),
    sockets: Number(values.sockets),
    inFlight: Number(values['in-flight']),
    repeat: Number(values.repeat),
  };
  const cpuCount = availableParallelism();
  const pin = cpuCount >= 2 && spawnSync('taskset', ['-a', '-cp', '0', String(process.pid)]).status === 0;
  if (!pin)
    console.error(
      'warning: not pinned (taskset missing or a single CPU): server and load generator share CPUs',
    );
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpuCount}, Node ${process.version}`);
  console.log(
    `load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const results: Result[] = [];
  for (let run = 0; run < options.repeat; run++) {
    for (const mode of ['http1', 'http2'] as const) results.push(await runMode(mode, options, pin));
  }
  printTable(results, options);
  console.log(
    `\nload average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}

await main();
