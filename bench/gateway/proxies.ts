/**
 * The contenders of the gateway benchmark and the backend they all proxy to. Each proxy is started from
 * its template in bench/gateway/ (rendered into a fresh temp dir) as one process with one thread of
 * work, and resolves once it accepts connections; the backend is the uWebSockets.js echo server.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Child,
  exitAsError,
  freePort,
  listeningPort,
  renderTemplate,
  startPinned,
  stopChild,
  waitForPort,
} from './processes.js';

/** A running process the benchmark talks to (a proxy or the backend). */
export interface Running {
  /** The process, or null for the direct contender (nothing runs between client and backend). */
  readonly child: Child | null;
  readonly port: number;
  /** Removes what it left behind (its temp dir) once it has stopped. */
  readonly cleanup: () => void;
}

/** Where and how a contender starts. */
export interface StartContext {
  readonly root: string;
  readonly backendPort: number;
  /** CPU to pin the proxy to, or null (unpinned). */
  readonly cpu: string | null;
  /** `node --cpu-prof` output directory for Conduit's gateway, or null (no profile). */
  readonly profileDir: string | null;
}

/** One proxy under test. */
export interface Contender {
  readonly id: string;
  readonly name: string;
  /** The executable it needs (checked before the run), or null for Node. */
  readonly executable: string | null;
  /** A Node process that `--profile` runs under `node --cpu-prof`. */
  readonly profiled: boolean;
  start(context: StartContext): Promise<Running>;
}

const NGINX = '/usr/sbin/nginx';
const HAPROXY = '/usr/sbin/haproxy';
const STARTUP_MS = 15_000;

/** Conduit's gateway with its route in `mode` (frames or tunnel). */
function conduit(id: string, name: string, mode: 'frames' | 'tunnel'): Contender {
  return {
    id,
    name,
    executable: null,
    profiled: true,
    async start(context) {
      const dir = mkdtempSync(join(tmpdir(), 'conduit-gw-bench-'));
      const config = join(dir, 'gateway.yaml');
      const values = { PORT: 0, BACKEND_PORT: context.backendPort, MODE: mode };
      writeFileSync(config, renderTemplate(join(context.root, 'bench/gateway/conduit.yaml'), values));
      const profile = context.profileDir === null ? [] : ['--cpu-prof', '--cpu-prof-dir', context.profileDir];
      const command = [process.execPath, ...profile, 'bin/conduit.js', 'gateway', '--config', config];
      const child = startPinned(command, context.cpu, { cwd: context.root });
      const cleanup = () => rmSync(dir, { recursive: true, force: true });
      try {
        return { child, port: await listeningPort(child, name, STARTUP_MS), cleanup };
      } catch (error) {
        await stopChild(child.process);
        cleanup();
        throw error;
      }
    },
  };
}

/**
 * Starts a proxy that takes its port from its configuration file: picks a free port, renders the
 * template, starts it and waits for the port; retries when another process took the port meanwhile.
 */
async function startOnFreePort(
  name: string,
  template: string,
  context: StartContext,
  command: (dir: string, config: string) => string[],
): Promise<Running> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), `conduit-gw-bench-${name.toLowerCase()}-`));
    const cleanup = () => rmSync(dir, { recursive: true, force: true });
    const port = await freePort();
    const config = join(dir, template);
    const values = { DIR: dir, PORT: port, BACKEND_PORT: context.backendPort };
    writeFileSync(config, renderTemplate(join(context.root, 'bench/gateway', template), values));
    const child = startPinned(command(dir, config), context.cpu);
    try {
      await Promise.race([waitForPort(port, STARTUP_MS), exitAsError(child, name)]);
      return { child, port, cleanup };
    } catch (error) {
      lastError = error;
      await stopChild(child.process);
      cleanup();
    }
  }
  throw lastError;
}

/** nginx in the foreground, one process (no master), its files in the temp dir. */
const nginx: Contender = {
  id: 'nginx',
  name: 'nginx',
  executable: NGINX,
  profiled: false,
  start: (context) =>
    startOnFreePort('nginx', 'nginx.conf', context, (dir, config) => [
      NGINX,
      ...['-p', dir, '-c', config, '-e', join(dir, 'error.log')],
    ]),
};

/** HAProxy in the foreground (`-db`), one thread. */
const haproxy: Contender = {
  id: 'haproxy',
  name: 'HAProxy',
  executable: HAPROXY,
  profiled: false,
  start: (context) =>
    startOnFreePort('HAProxy', 'haproxy.cfg', context, (_, config) => [HAPROXY, '-db', '-f', config]),
};

/**
 * No proxy: the load generator talks to the backend itself, both on the client CPU. Per message, that
 * CPU then does the same work as with a proxy in between (two sends, two receives, and the loopback
 * receive processing that runs on each sender's CPU), so this rate is the most any proxy can show here.
 */
const direct: Contender = {
  id: 'direct',
  name: 'no proxy (ceiling)',
  executable: null,
  profiled: false,
  start: async (context) => ({ child: null, port: context.backendPort, cleanup: () => {} }),
};

/**
 * Not a contender: a Node process that pipes bytes between client and backend and does nothing else
 * (bench/servers/node-pipe-proxy.mjs), the least any proxy built on node:net can cost.
 */
const nodePipe: Contender = {
  id: 'node-pipe',
  name: 'Node pipe (floor)',
  executable: null,
  profiled: false,
  async start(context) {
    const script = 'bench/servers/node-pipe-proxy.mjs';
    const command = [process.execPath, script, '0', String(context.backendPort)];
    const child = startPinned(command, context.cpu, { cwd: context.root });
    try {
      return { child, port: await listeningPort(child, this.name, STARTUP_MS), cleanup: () => {} };
    } catch (error) {
      await stopChild(child.process);
      throw error;
    }
  },
};

/** Every contender, in the order they take turns (and the order of the table). */
export const PROXIES: readonly Contender[] = [
  conduit('conduit', 'Conduit (frames)', 'frames'),
  conduit('conduit-tunnel', 'Conduit (tunnel)', 'tunnel'),
  nginx,
  haproxy,
  nodePipe,
  direct,
];

/** The uWebSockets.js echo server every proxy forwards to. */
export async function startBackend(root: string, cpu: string | null): Promise<Running> {
  const child = startPinned([process.execPath, 'bench/servers/uws-echo.mjs', '0'], cpu, { cwd: root });
  try {
    return { child, port: await listeningPort(child, 'uWS.js backend', STARTUP_MS), cleanup: () => {} };
  } catch (error) {
    await stopChild(child.process);
    throw error;
  }
}
