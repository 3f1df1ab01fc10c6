/**
 * Helpers of the `conduit serve` and cluster tests: spawns `bin/conduit.js serve` and reads what it prints
 * (one `name: url` line per endpoint, then pino JSON lines), plain HTTP requests on fresh connections (so
 * that cluster round-robin spreads them), and bounded polling. Every process spawned here is killed by
 * {@link killAll} and, as a last resort, when the test process exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { withTimeout } from '../server/helpers.js';

// dist/test/hub/cluster-process.js → bin/conduit.js at the repository root.
const BIN = fileURLToPath(new URL('../../../bin/conduit.js', import.meta.url));

/** A pino line. */
export type LogLine = Record<string, unknown> & { msg?: string; pid?: number };

/** A running `conduit serve`. */
export interface ServeProcess {
  readonly child: ChildProcess;
  /** Printed endpoints by name: hub, echo, metrics, health. */
  readonly endpoints: Record<string, string>;
  readonly port: number;
  /** Every JSON log line so far. */
  readonly logs: LogLine[];
  /** Everything written to stderr so far. */
  stderr(): string;
  /** The first log line (already written or to come) matching `match`, bounded in time. */
  waitForLog(match: (line: LogLine) => boolean, what: string, ms?: number): Promise<LogLine>;
  /** Resolves with the exit code and signal once the process exited. */
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  /** Sends `signal` and waits for the exit, bounded in time. */
  stop(signal?: NodeJS.Signals, ms?: number): Promise<{ code: number | null; signal: string | null }>;
}

const spawned = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of spawned) child.kill('SIGKILL');
});

/** SIGKILLs every process spawned here that still runs (its workers, orphaned, drain and exit). */
export function killAll(): void {
  for (const child of spawned) child.kill('SIGKILL');
}

/** Spawns `conduit ARGS` with piped output (for --help and bad arguments). */
export async function runConduit(
  args: string[],
  ms = 10_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  spawned.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await withTimeout(
    new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode))),
    ms,
    `conduit ${args.join(' ')}`,
  ).finally(() => spawned.delete(child));
  return { code, stdout, stderr };
}

/** Starts `conduit serve --port 0 ARGS` and resolves once it printed its endpoints. */
export async function startServe(args: string[], ms = 15_000): Promise<ServeProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  spawned.add(child);
  const endpoints: Record<string, string> = {};
  const logs: LogLine[] = [];
  let waiters: { match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  let stderr = '';
  let partial = '';
  let printed: () => void = () => {};
  const ready = new Promise<void>((resolve) => (printed = resolve));
  const onLine = (line: string): void => {
    if (line.startsWith('{')) {
      const entry = JSON.parse(line) as LogLine;
      logs.push(entry);
      for (const waiter of waiters.filter((w) => w.match(entry))) waiter.resolve(entry);
      waiters = waiters.filter((w) => !w.match(entry));
      return;
    }
    const endpoint = /^(\w+): (\S+)$/.exec(line);
    if (endpoint) endpoints[endpoint[1]!] = endpoint[2]!;
    if (endpoint?.[1] === 'health') printed();
  };
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) onLine(line);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      spawned.delete(child);
      resolve({ code, signal });
    }),
  );
  const early = exited.then(({ code }) => {
    throw new Error(`conduit serve exited (${code}) before printing its endpoints:\n${stderr}`);
  });
  try {
    await withTimeout(Promise.race([ready, early]), ms, 'conduit serve endpoints');
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  early.catch(() => {});
  const waitForLog = (match: (line: LogLine) => boolean, what: string, wait = 10_000): Promise<LogLine> => {
    const found = logs.find(match);
    if (found !== undefined) return Promise.resolve(found);
    return withTimeout(new Promise((resolve) => waiters.push({ match, resolve })), wait, what);
  };
  return {
    child,
    endpoints,
    port: Number(new URL(endpoints.health!).port),
    logs,
    stderr: () => stderr,
    waitForLog,
    exited,
    stop(signal: NodeJS.Signals = 'SIGTERM', wait = 20_000) {
      child.kill(signal);
      return withTimeout(exited, wait, `exit after ${signal}`);
    },
  };
}

/** A GET on a fresh connection (no keep-alive: in cluster mode each request may reach another worker). */
export function httpGet(
  url: string,
  ms = 5000,
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const done = new Promise<{ status: number; body: string; headers: Record<string, unknown> }>(
    (resolve, reject) => {
      const req = request(url, { agent: false }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      });
      req.on('error', reject);
      req.end();
    },
  );
  return withTimeout(done, ms, `GET ${url}`);
}

/** Polls `check` every `everyMs` until it returns true, failing after `ms`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 10_000,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // A failed probe (e.g. a refused connection while a process restarts) counts as "not yet".
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** The value of an unlabelled metric in a Prometheus exposition, or undefined. */
export function metricValue(exposition: string, name: string): number | undefined {
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(exposition);
  return match ? Number(match[1]) : undefined;
}

/** True while process `pid` exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
