/**
 * Holds 10 000 idle connections against a server in a child process (its descriptor limit raised to the
 * hard limit with `ulimit`), answers its heartbeats for two rounds, and checks that every connection stays
 * open, that the metrics saw them all, and that a final echo still works.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { clientClosed, openClient, upgradeRequest, waitFor, withTimeout } from '../server/helpers.js';

const WANTED = 10_000;
const HEARTBEAT_MS = 2000;
/** Descriptors a Node process needs besides the connections. */
const SPARE_FDS = 200;

function limit(flag: '-n' | '-Hn'): number {
  const text = execFileSync('bash', ['-c', `ulimit ${flag}`], { encoding: 'utf8' }).trim();
  return text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text);
}

/** Starts the server fixture with its soft descriptor limit raised to the hard limit. */
async function startChild(): Promise<{ child: ChildProcess; port: number }> {
  const script = join(import.meta.dirname, 'fixtures', 'idle-server.js');
  const child = spawn(
    'bash',
    ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$1"', process.execPath, script],
    { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, HEARTBEAT_MS: String(HEARTBEAT_MS) } },
  );
  let output = '';
  const port = await withTimeout(
    new Promise<number>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const line = output.split('\n')[0];
        if (output.includes('\n') && line) resolve((JSON.parse(line) as { port: number }).port);
      });
      child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
    }),
    10_000,
    'server start',
  );
  return { child, port };
}

/** An idle raw client: completes the handshake, then answers every ping with a masked pong. */
class IdleClient {
  upgraded = false;
  closed = false;
  pings = 0;
  unexpected = 0;
  private head = '';
  private carry: Buffer | null = null;

  constructor(
    readonly socket: Socket,
    private readonly onUpgrade: (client: IdleClient, ok: boolean) => void,
  ) {
    socket.on('data', (chunk: Buffer) => this.data(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      if (!this.upgraded) onUpgrade(this, false);
    });
    socket.on('connect', () => socket.write(upgradeRequest()));
  }

  private data(chunk: Buffer): void {
    if (!this.upgraded) {
      this.head += chunk.toString('latin1');
      const end = this.head.indexOf('\r\n\r\n');
      if (end === -1) return;
      this.upgraded = this.head.startsWith('HTTP/1.1 101');
      this.onUpgrade(this, this.upgraded);
      const rest = Buffer.from(this.head.slice(end + 4), 'latin1');
      if (rest.length === 0) return;
      chunk = rest;
    }
    this.frames(this.carry === null ? chunk : Buffer.concat([this.carry, chunk]));
  }

  /** Server frames to an idle client are pings (RFC 6455 §5.5.2: answer each with a pong). */
  private frames(bytes: Buffer): void {
    let offset = 0;
    while (offset + 2 <= bytes.length) {
      const length = bytes[offset + 1]! & 0x7f;
      if (offset + 2 + length > bytes.length) break;
      const payload = bytes.subarray(offset + 2, offset + 2 + length);
      if (bytes[offset] === 0x89) {
        this.pings++;
        // Masked with a zero key, so that the payload goes out as is.
        this.socket.write(Buffer.concat([Buffer.from([0x8a, 0x80 | length, 0, 0, 0, 0]), payload]));
      } else {
        this.unexpected++;
      }
      offset += 2 + length;
    }
    this.carry = offset < bytes.length ? Buffer.from(bytes.subarray(offset)) : null;
  }
}

/** Opens `count` idle clients, `parallel` handshakes at a time. */
async function openIdleClients(port: number, count: number, parallel: number): Promise<IdleClient[]> {
  const clients: IdleClient[] = [];
  let started = 0;
  let failed = 0;
  await new Promise<void>((resolve) => {
    let done = 0;
    const next = (): void => {
      if (started >= count) return;
      started++;
      clients.push(
        new IdleClient(connect(port, '127.0.0.1'), (_client, ok) => {
          if (!ok) failed++;
          done++;
          if (done === count) resolve();
          else next();
        }),
      );
    };
    for (let i = 0; i < parallel; i++) next();
  });
  assert.equal(failed, 0, `${failed} handshakes failed`);
  return clients;
}

test(`holds ${WANTED} idle connections open and still echoes`, { timeout: 30_000 }, async (t) => {
  const soft = limit('-n');
  const hard = limit('-Hn');
  // The clients live in this process (soft limit); the server in a child raised to the hard limit.
  const count = Math.min(WANTED, soft - SPARE_FDS, hard - SPARE_FDS);
  if (count < WANTED) {
    const note = `ulimit -n is ${soft} (hard ${hard}): SCALED DOWN to ${count} connections`;
    console.warn(`WARNING: ${note}`);
    t.diagnostic(note);
  }
  const { child, port } = await startChild();
  let clients: IdleClient[] = [];
  try {
    const began = performance.now();
    clients = await withTimeout(openIdleClients(port, count, 256), 15_000, 'opening connections');
    const openMs = performance.now() - began;
    t.diagnostic(`${count} handshakes in ${Math.round(openMs)} ms`);
    // Two heartbeat rounds: every connection must stay open and answer.
    await new Promise((resolve) => setTimeout(resolve, 2 * HEARTBEAT_MS + 500));
    assert.equal(clients.filter((c) => c.closed).length, 0, 'idle connections were closed');
    assert.equal(clients.filter((c) => c.unexpected > 0).length, 0, 'unexpected frames');
    assert.equal(clients.filter((c) => c.pings === 0).length, 0, 'connections without heartbeat');

    const probe = await openClient(`ws://127.0.0.1:${port}`);
    probe.send('still there?');
    const [echo] = await waitFor<[Buffer]>(probe, 'message');
    assert.equal(echo.toString(), 'still there?');
    probe.send('stats');
    const [text] = await waitFor<[Buffer]>(probe, 'message');
    const stats = JSON.parse(text.toString()) as {
      clients: number;
      values: Record<string, number>;
      heapUsed: number;
      rss: number;
    };
    assert.equal(stats.clients, count + 1);
    assert.equal(stats.values.conduit_connections_open, count + 1);
    assert.equal(stats.values.conduit_connections_total, count + 1);
    assert.ok(stats.values.conduit_heartbeat_rtt_seconds_count! >= count, 'rtt observations');
    assert.ok(stats.values.conduit_pings_sent_total! >= count);
    const closes = Object.keys(stats.values).filter((key) => key.startsWith('conduit_closes_total'));
    assert.deepEqual(closes, [], 'no connection closed');
    t.diagnostic(
      `server: heap ${Math.round(stats.heapUsed / 1048576)} MiB, rss ${Math.round(stats.rss / 1048576)} MiB ` +
        `for ${count + 1} connections`,
    );
    probe.close();
    await clientClosed(probe);
  } finally {
    for (const client of clients) client.socket.destroy();
    const exited = waitFor(child, 'exit', 5000).catch(() => child.kill('SIGKILL'));
    child.stdin!.end();
    await exited;
  }
});
