/**
 * Child processes of the gateway benchmark: starting one pinned to a CPU, reading its output line by
 * line, waiting (bounded) until it serves, stopping it, free ports, and the config templates.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';

/** A started child: the process and the last 2 000 characters it wrote on stderr. */
export interface Child {
  readonly process: ChildProcess;
  readonly stderr: () => string;
}

/** Calls `onLine` for every stdout line of `child`. */
export function onLines(child: ChildProcess, onLine: (line: string) => void): void {
  let pending = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    pending += chunk;
    for (let eol = pending.indexOf('\n'); eol !== -1; eol = pending.indexOf('\n')) {
      onLine(pending.slice(0, eol));
      pending = pending.slice(eol + 1);
    }
  });
}

/**
 * Spawns `command` pinned to `cpu` with taskset (unpinned when `cpu` is null). Stdout is piped and must
 * be read (or it fills and blocks the child): pass `onLine`, or it is drained and dropped.
 */
export function startPinned(
  command: readonly string[],
  cpu: string | null,
  options: { cwd?: string; onLine?: (line: string) => void } = {},
): Child {
  const argv = cpu === null ? [...command] : ['taskset', '-c', cpu, ...command];
  const child = spawn(argv[0]!, argv.slice(1), { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  child.on('error', () => {});
  onLines(child, options.onLine ?? (() => {}));
  let text = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    text = (text + chunk).slice(-2000);
  });
  return { process: child, stderr: () => text.trim() };
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** SIGTERM, then SIGKILL after 3 s; resolves once the child has exited. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** Rejects with a message naming `what` (and its stderr) when `child` exits. */
export function exitAsError(child: Child, what: string): Promise<never> {
  return new Promise<never>((_, reject) => {
    child.process.once('exit', (code, signal) => {
      const detail = child.stderr();
      reject(new Error(`${what} exited (${signal ?? `status ${code}`})${detail ? `: ${detail}` : ''}`));
    });
  });
}

/** Resolves with the port of the first `listening on ws://HOST:PORT` line, within `ms`. */
export function listeningPort(child: Child, what: string, ms: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no "listening on" line within ${ms} ms`)), ms);
    exitAsError(child, what).catch((error: Error) => {
      clearTimeout(timer);
      reject(error);
    });
    onLines(child.process, (line) => {
      const match = /listening on ws:\/\/[^\s]+:(\d+)/.exec(line);
      if (match === null) return;
      clearTimeout(timer);
      resolve(Number(match[1]));
    });
  });
}

/** Resolves once a TCP connection to 127.0.0.1:`port` succeeds; rejects after `ms`. */
export async function waitForPort(port: number, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`);
}

/** A port that was free a moment ago (another process may take it first: callers retry). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The template at `path` with every `${NAME}` of `values` replaced (other text left as it is). */
export function renderTemplate(path: string, values: Readonly<Record<string, string | number>>): string {
  return readFileSync(path, 'utf8').replace(/\$\{([A-Z_]+)\}/g, (whole, name: string) =>
    name in values ? String(values[name]) : whole,
  );
}

/** True when `command --version`-like `args` run (the program is installed and starts). */
export function runs(command: string, args: readonly string[]): boolean {
  const result = spawnSync(command, args, { stdio: 'ignore' });
  return result.error === undefined && result.status === 0;
}

/** First line of what `command args` prints (stdout or stderr), or '?' when it cannot run. */
export function versionLine(command: string, args: readonly string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error !== undefined) return '?';
  return `${result.stdout}${result.stderr}`.trim().split('\n', 1)[0] ?? '?';
}
