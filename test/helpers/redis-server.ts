/**
 * Starts real `redis-server` processes for tests: each on a free port of 127.0.0.1 with its own temporary
 * data directory, append-only and fsynced on every write by default, so a test can kill one with SIGKILL,
 * start it again on the same port and data, and check that nothing acknowledged was lost.
 *
 * When redis-server is missing, {@link redisServerMissing} fails under `CI=true` and otherwise returns a
 * skip reason that has been printed loudly.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running (or killed, restartable) redis-server. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** The data directory (kept across restarts, removed by {@link stop}). */
  readonly dir: string;
  /** Shuts the server down (SIGTERM, SIGKILL if it lingers) and removes its data directory. */
  stop(): Promise<void>;
  /** Kills the server with SIGKILL, as a crash would; {@link restart} brings it back. */
  kill9(): Promise<void>;
  /** Kills the server if it runs (SIGKILL), then starts it again on the same port and data directory. */
  restart(): Promise<void>;
  /** True while the server process runs (not killed or stopped). */
  isRunning(): boolean;
  /** Freezes the server (SIGSTOP): connections stay open but nothing is answered. */
  pause(): void;
  /** Unfreezes a paused server (SIGCONT). */
  resume(): void;
}

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /** `appendfsync` policy; default `always` (every acknowledged write is on disk). */
  appendfsync?: 'always' | 'everysec' | 'no';
  /** Use the append-only file at all; default true. */
  appendonly?: boolean;
  /** How long to wait for "Ready to accept connections"; default 10 s. */
  startTimeoutMs?: number;
}

const CANDIDATES = [process.env.REDIS_SERVER, '/usr/bin/redis-server', '/usr/local/bin/redis-server'];

/** The redis-server executable, or null when none is installed. */
export function findRedisServer(): string | null {
  for (const candidate of CANDIDATES) if (candidate && existsSync(candidate)) return candidate;
  const which = spawnSync('which', ['redis-server'], { encoding: 'utf8', timeout: 5000 });
  const found = which.status === 0 ? which.stdout.trim() : '';
  return found === '' ? null : found;
}

/**
 * False when redis-server is installed. Otherwise: throws under `CI=true` (the test must fail), else prints
 * a loud warning and returns the reason, to pass as `skip` to `describe`.
 */
export function redisServerMissing(): string | false {
  if (findRedisServer() !== null) return false;
  const reason =
    'redis-server not found: install the Debian package `redis-server` to run the Redis engine tests';
  if (process.env.CI === 'true') throw new Error(reason);
  console.warn(`SKIPPING: ${reason}`);
  return reason;
}

/** A port that was free a moment ago (the kernel picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Every server child of this process, killed if the test process exits without stopping them. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Spawns redis-server and resolves once it accepts connections. */
function spawnServer(
  bin: string,
  port: number,
  dir: string,
  options: RedisServerOptions,
): Promise<ChildProcess> {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--daemonize',
    'no',
  ];
  args.push('--appendonly', options.appendonly === false ? 'no' : 'yes');
  args.push('--appendfsync', options.appendfsync ?? 'always', '--logfile', '');
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let output = '';
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`redis-server on port ${port} ${why}:\n${output.slice(-2000)}`));
    };
    const timer = setTimeout(() => fail('did not become ready in time'), options.startTimeoutMs ?? 10_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (!output.includes('Ready to accept connections')) return;
      clearTimeout(timer);
      child.removeListener('exit', onExit);
      resolve(child);
    };
    const onExit = (): void => fail('exited');
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Starts a redis-server on a free port with a fresh data directory. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const bin = findRedisServer();
  if (bin === null) throw new Error('redis-server not found (Debian package `redis-server`)');
  const dir = mkdtempSync(join(tmpdir(), 'conduit-redis-'));
  let port = 0;
  let child: ChildProcess | null = null;
  // Another process may take the probed port before redis-server binds it: try a few.
  for (let attempt = 1; child === null; attempt++) {
    port = await freePort();
    try {
      child = await spawnServer(bin, port, dir, options);
    } catch (err) {
      if (attempt >= 3) {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }
  return controls(bin, port, dir, options, child);
}

function controls(
  bin: string,
  port: number,
  dir: string,
  options: RedisServerOptions,
  first: ChildProcess,
): RedisServer {
  let child: ChildProcess | null = first;
  const kill9 = async (): Promise<void> => {
    if (child === null) return;
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await waitExit(child, 5000);
    child = null;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    kill9,
    async restart() {
      await kill9();
      child = await spawnServer(bin, port, dir, options);
    },
    async stop() {
      if (child !== null) {
        child.kill('SIGCONT');
        child.kill('SIGTERM');
        if (!(await waitExit(child, 10_000))) await kill9();
        child = null;
      }
      rmSync(dir, { recursive: true, force: true });
    },
    isRunning() {
      return child !== null && child.exitCode === null && child.signalCode === null;
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
  };
}
