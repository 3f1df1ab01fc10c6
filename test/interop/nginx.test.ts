/**
 * Conduit's client against a Conduit server behind nginx (Debian package nginx-light) acting as a
 * WebSocket reverse proxy: nginx runs in the foreground as a child, with its config, logs, pid and
 * temp files in a temp dir, on a free 127.0.0.1 port.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from '../../src/client/websocket.js';
import { closeClient, Messages, openWebSocket } from '../client/helpers.js';
import { InteropServer, TAKEOVER } from './conduit-peer.js';
import { ChildProcesses, findExecutable, freePort, missingPeer, stopChild, waitForPort } from './helpers.js';
import { type Mode, whatwgTests } from './whatwg-checks.js';
import { runScenario, type WebSocketLike } from './whatwg-scenarios.js';

interface Backends {
  main: number;
  takeover: number;
}

const NGINX = findExecutable([process.env.NGINX_PATH ?? '', '/usr/sbin/nginx']);
const skip =
  NGINX === undefined
    ? missingPeer('nginx is needed for this interop test (install the Debian package nginx-light)')
    : false;

/** The proxying of one location (nginx's documented Upgrade/Connection pass-through). */
function proxyTo(backend: number): string {
  return `proxy_pass http://127.0.0.1:${backend};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Via nginx;
      proxy_read_timeout 60s;`;
}

/** A minimal WebSocket reverse proxy: `/takeover` to one backend, everything else to the other. */
function nginxConfig(dir: string, port: number, backends: Backends): string {
  return `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 64; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  server {
    listen 127.0.0.1:${port};
    location / {
      ${proxyTo(backends.main)}
    }
    location /takeover {
      ${proxyTo(backends.takeover)}
    }
  }
}
`;
}

/** Starts nginx in `dir` on a free port; retries when another process took the port first. */
async function startNginx(
  children: ChildProcesses,
  dir: string,
  backends: Backends,
): Promise<[ChildProcess, number]> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    writeFileSync(join(dir, 'nginx.conf'), nginxConfig(dir, port, backends));
    const child = children.spawn(NGINX!, [
      '-p',
      dir,
      '-c',
      join(dir, 'nginx.conf'),
      '-e',
      join(dir, 'error.log'),
    ]);
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`nginx exited with ${code}: ${errorLog(dir)}`))),
    );
    exited.catch(() => {});
    try {
      await Promise.race([waitForPort(port, 5000), exited]);
      return [child, port];
    } catch (error) {
      lastError = error;
      await stopChild(child);
    }
  }
  throw lastError;
}

function errorLog(dir: string): string {
  try {
    return readFileSync(join(dir, 'error.log'), 'utf8');
  } catch {
    return '(no error log)';
  }
}

describe('WebSocket client against a Conduit server behind nginx', { skip }, () => {
  const children = new ChildProcesses();
  let dir: string;
  let server: InteropServer;
  let takeover: InteropServer;
  let nginx: ChildProcess | undefined;
  let port: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'conduit-nginx-'));
    server = await InteropServer.start({ perMessageDeflate: true });
    takeover = await InteropServer.start({ perMessageDeflate: TAKEOVER });
    [nginx, port] = await startNginx(children, dir, { main: server.port, takeover: takeover.port });
  });
  after(async () => {
    await children.stopAll();
    await server?.stop();
    await takeover?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  // Permessage-deflate is negotiated when the client offers it (both servers accept it).
  whatwgTests(() => ({
    run: (mode: Mode, name) => {
      const options = { perMessageDeflate: mode !== 'plain' };
      const open = (url: string, protocols?: string[]) =>
        new WebSocket(url, protocols, options) as WebSocketLike;
      return runScenario(open, `ws://127.0.0.1:${port}/${mode}`, name);
    },
    server: (mode) => (mode === 'takeover' ? takeover : server),
    compressesSends: true,
  }));

  it('goes through nginx: the request carries the headers nginx adds', async () => {
    const { request } = await server.connection('/deflate?case=text');
    assert.equal(request.headers['x-via'], 'nginx');
    assert.equal(request.headers['x-forwarded-for'], '127.0.0.1');
    assert.match(request.headers['sec-websocket-extensions'] ?? '', /^permessage-deflate\b/);
    assert.equal(
      (await server.connection('/plain?case=text')).request.headers['sec-websocket-extensions'],
      undefined,
    );
  });

  it('carries client pings and their pongs (Node extras) through nginx', async () => {
    const ws = await openWebSocket(`ws://127.0.0.1:${port}/client-ping`, undefined, {
      perMessageDeflate: true,
    });
    const pongs = new Messages(ws, 'pong');
    assert.equal(ws.ping('through nginx'), true);
    assert.equal(String(await pongs.next()), 'through nginx');
    const record = await server.connection('/client-ping');
    assert.deepEqual(record.pings, ['through nginx']);
    const closed = await closeClient(ws, 1000, 'done');
    assert.equal(closed.wasClean, true);
    assert.deepEqual([(await server.closed('/client-ping')).code], [1000]);
  });

  it('leaves no errors in the nginx error log', async () => {
    assert.equal(nginx?.exitCode, null, 'nginx is still running');
    const problems = errorLog(dir)
      .split('\n')
      .filter((line) => /\[(error|crit|alert|emerg)\]/.test(line));
    assert.deepEqual(problems, []);
  });
});
