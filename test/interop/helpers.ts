/**
 * Helpers of the interop tests: child processes that are always stopped (and every wait on them
 * bounded), free ports on 127.0.0.1, fixture paths, and the rule for missing peers (fail under CI=true,
 * skip loudly elsewhere, naming the package to install).
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';
import { join } from 'node:path';
import { missingPeer, pythonPeer } from '../client/helpers.js';
import { withTimeout } from '../server/helpers.js';

export { missingPeer, pythonPeer, withTimeout };

/** The source folder of these tests (compiled to dist/test/interop/: fixtures stay in the source tree). */
export const SOURCE_DIR = join(import.meta.dirname, '..', '..', '..', 'test', 'interop');

/** Path of a file in test/interop/fixtures/. */
export function fixture(name: string): string {
  return join(SOURCE_DIR, 'fixtures', name);
}

/** What a finished child printed and how it ended. */
export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** The raw bytes of stdout (for binary output). */
  stdoutBytes: Buffer;
  stderr: string;
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Starts child processes and stops every one of them in `stopAll()` (call it in `after()`). */
export class ChildProcesses {
  private readonly children = new Set<ChildProcess>();

  /** Spawns a tracked child. */
  spawn(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    child.on('error', () => {});
    return child;
  }

  /** Runs a child to its end (bounded: killed after `ms`); resolves with its output. */
  async run(command: string, args: string[], ms: number, options: SpawnOptions = {}): Promise<ChildResult> {
    const child = this.spawn(command, args, options);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
    const done = new Promise<ChildResult>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) =>
        resolve({
          code,
          signal,
          stdout: Buffer.concat(out).toString(),
          stdoutBytes: Buffer.concat(out),
          stderr: Buffer.concat(err).toString(),
        }),
      );
    });
    try {
      return await withTimeout(done, ms, `${command} ${args.join(' ')}`);
    } catch (error) {
      await stopChild(child);
      const stderr = Buffer.concat(err).toString();
      throw new Error(`${(error as Error).message}\nstderr: ${stderr}`);
    }
  }

  /** Stops every child still running: SIGTERM, then SIGKILL after 3 s; bounded. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.children].map(stopChild));
  }
}

/** Stops one child (SIGTERM, then SIGKILL after 3 s) and waits for its exit, at most 5 s. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (exited(child)) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  try {
    await withTimeout(gone, 5000, `exit of child ${child.pid}`);
  } finally {
    clearTimeout(timer);
  }
}

/** The last line of `stdout` parsed as JSON (scripts print their report last). */
export function lastJsonLine<T>(stdout: string): T {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '') as T;
}

/** The first of `paths` that exists. */
export function findExecutable(paths: string[]): string | undefined {
  return paths.find((path) => existsSync(path));
}

/** A port that was free on 127.0.0.1 a moment ago (for programs that need a port number up front). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Waits until something accepts TCP connections on 127.0.0.1:port (polling), at most `ms`. */
export async function waitForPort(port: number, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
