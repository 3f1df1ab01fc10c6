/**
 * Helpers of the gateway tests: configuration files in a temporary directory, an in-process Gateway
 * loaded from one, a `conduit gateway` child process, backends that say who they are, a memory logger,
 * and small HTTP helpers. Every wait is bounded.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type WebSocket from 'ws';
import { Gateway, type GatewayOptions } from '../../src/gateway/gateway.js';
import type { Logger } from '../../src/observability/logger.js';
import { nextMessage, startWsBackend, type WsBackend, waitFor, withTimeout } from './helpers.js';

// dist/test/gateway/gateway-helpers.js → bin/conduit.js at the repository root.
export const BIN = fileURLToPath(new URL('../../../bin/conduit.js', import.meta.url));

/** A fresh temporary directory. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'conduit-gateway-'));
}

/** Writes `text` to `dir/name` and returns the path. */
export function writeConfig(dir: string, text: string, name = 'gateway.yaml'): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** A 127.0.0.1 port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** One logged line. */
export interface LogLine {
  level: string;
  fields: Record<string, unknown>;
  msg: string;
}

/** A Logger that keeps its lines. */
export function memoryLogger(lines: LogLine[] = []): Logger & { lines: LogLine[] } {
  const at =
    (level: string) =>
    (obj: object | string, msg?: string): void => {
      if (typeof obj === 'string') lines.push({ level, fields: {}, msg: obj });
      else lines.push({ level, fields: obj as Record<string, unknown>, msg: msg ?? '' });
    };
  const logger = {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => logger,
  };
  return logger;
}

/** An in-process gateway loaded from a file. */
export interface TestGateway {
  gateway: Gateway;
  path: string;
  dir: string;
  /** `ws://127.0.0.1:PORT` of listener `index`. */
  url(index?: number): string;
  /** `http://127.0.0.1:PORT` of the admin listener. */
  admin: string;
  log: LogLine[];
  /** Rewrites the configuration file (for a reload). */
  rewrite(text: string): void;
  close(): Promise<void>;
}

/** Writes `yaml` to a temporary file and starts a Gateway on it (with `env` for `${VAR}`). */
export async function startTestGateway(
  yaml: string,
  env: Record<string, string> = {},
  options: Omit<GatewayOptions, 'configPath' | 'env'> = {},
): Promise<TestGateway> {
  const dir = tempDir();
  const path = writeConfig(dir, yaml);
  const logger = memoryLogger();
  const gateway = await Gateway.load(path, { env: { ...process.env, ...env }, logger, ...options });
  const url = (index = 0): string => {
    const listener = gateway.listenerInfo[index];
    if (listener === undefined) throw new Error(`no listener ${index}`);
    return `${listener.secure ? 'wss' : 'ws'}://127.0.0.1:${listener.port}`;
  };
  return {
    gateway,
    path,
    dir,
    url,
    admin: (gateway.adminUrl ?? '').replace('0.0.0.0', '127.0.0.1'),
    log: logger.lines,
    rewrite: (text) => writeFileSync(path, text),
    close: () => withTimeout(gateway.close(), 10_000, 'gateway close'),
  };
}

/** A `ws` backend that answers every message with `<name>:<message>`. */
export function namedBackend(name: string): Promise<WsBackend> {
  return startWsBackend({}, (socket) => {
    socket.on('message', (data, isBinary) => socket.send(`${name}:${data.toString()}`, { binary: isBinary }));
  });
}

/** Sends `text` and resolves with the next message as a string. */
export async function ask(client: WebSocket, text: string, ms = 5000): Promise<string> {
  const reply = nextMessage(client, ms);
  client.send(text);
  return (await reply).data.toString();
}

/** A finished HTTP exchange. */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/** `fetch`, bounded in time, with the body read as text. */
export async function http(url: string, init: RequestInit = {}): Promise<HttpAnswer> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** GET /status of an admin listener. */
export async function adminStatus(admin: string): Promise<{
  routes: { name: string; connections: number }[];
  upstreams: { name: string; backends: { url: string; state: string; activeConnections: number }[] }[];
  reloads: { ok: number; failed: number; lastError: string | null };
  loadedAt: string;
  connections: number;
}> {
  return JSON.parse((await http(`${admin}/status`)).text);
}

/** Polls `check` every 50 ms until it returns true; fails after `ms`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  ms = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A `conduit gateway` child process. */
export interface GatewayChild {
  child: ChildProcessWithoutNullStreams;
  /** The `listening on` URLs. */
  listeners: string[];
  admin: string | null;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  kill(): Promise<void>;
}

/** Runs `node bin/conduit.js gateway ARGS` and waits for its listener lines. */
export async function startGatewayChild(
  args: string[],
  env: Record<string, string> = {},
): Promise<GatewayChild> {
  const child = spawn(process.execPath, [BIN, 'gateway', ...args], {
    stdio: 'pipe',
    env: { ...process.env, ...env },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await withTimeout(exited, 5000, 'gateway child exit');
  };
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        child.stdout.on('data', () => {
          // The listener lines are written at once, after the start log line.
          if (/^listening on /m.test(out) && out.endsWith('\n')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`conduit gateway exited with ${code}: ${out}${err}`)));
      }),
      10_000,
      'conduit gateway ready',
    );
  } catch (error) {
    await kill();
    throw error;
  }
  const listeners = [...out.matchAll(/^listening on (\S+)$/gm)].map((m) => m[1]!);
  const admin = /^admin on (\S+)$/m.exec(out)?.[1] ?? null;
  return { child, listeners, admin, stdout: () => out, exited, kill };
}

/** Runs `node bin/conduit.js ARGS` to completion; resolves with its status and output. */
export async function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: 'pipe', env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  try {
    const [code] = await waitFor<[number | null]>(child, 'exit', 10_000);
    return { code, stdout, stderr };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
