/**
 * The native relay (native/relay.c through transport/native-relay.ts) on real loopback sockets: a peer
 * on each side, the two middle sockets handed to the relay thread, as the gateway's tunnels do.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { createServer as createTlsServer, connect as tlsConnect } from 'node:tls';
import {
  type NativeRelay,
  nativeRelayAvailable,
  RelayCounter,
  relayNatively,
} from '../../src/transport/native-relay.js';
import { makeTlsFixture } from '../server/tls-fixture.js';

// Optional for users, but CI builds it (`build-native.mjs --required`) and must test it.
const skip =
  !nativeRelayAvailable() && process.env.CI !== 'true'
    ? 'build/relay.node not built (needs Linux and a C compiler: apt-get install -y gcc)'
    : false;

/** A connected pair of loopback sockets: [the side that connected, the side the server accepted]. */
async function socketPair(server: Server): Promise<[Socket, Socket]> {
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const dialled = connect((server.address() as AddressInfo).port, '127.0.0.1');
  await once(dialled, 'connect');
  const [socket] = await accepted;
  return [dialled, socket];
}

interface Rig {
  /** The client's peer: writes reach `backend`. */
  client: Socket;
  /** The backend's peer. */
  backend: Socket;
  /** The middle sockets the relay holds. */
  middle: [Socket, Socket];
  relay: NativeRelay;
  /** Resolves with the errno the relay ended with. */
  done: Promise<number>;
}

/** Everything one socket receives until its end of stream, and whether it ended by FIN or by error. */
function collect(socket: Socket): Promise<{ bytes: Buffer; error: Error | null }> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve) => {
    socket.on('end', () => resolve({ bytes: Buffer.concat(chunks), error: null }));
    socket.on('error', (error) => resolve({ bytes: Buffer.concat(chunks), error }));
  });
}

function pattern(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

describe('native relay', { skip, timeout: 30_000 }, () => {
  let server: Server;
  before(async () => {
    server = createServer({ allowHalfOpen: true });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });
  after(() => server.close());

  // Whatever a test leaves open is cut, so that a failure cannot keep the run alive.
  const opened: Socket[] = [];
  const relays: NativeRelay[] = [];
  afterEach(() => {
    for (const relay of relays.splice(0)) relay.destroy();
    for (const socket of opened.splice(0)) socket.destroy();
  });

  /** Builds client ↔ middle[0] ⇄ relay ⇄ middle[1] ↔ backend; `beforeHandOver` runs before the relay. */
  async function rig(beforeHandOver?: (client: Socket, backend: Socket) => Promise<void>): Promise<Rig> {
    const [client, left] = await socketPair(server);
    const [right, backend] = await socketPair(server);
    for (const socket of [client, left, right, backend]) socket.on('error', () => {});
    opened.push(client, left, right, backend);
    await beforeHandOver?.(client, backend);
    let resolveDone!: (errno: number) => void;
    const done = new Promise<number>((resolve) => {
      resolveDone = resolve;
    });
    const relay = relayNatively(left, right, (errno) => {
      left.destroy();
      right.destroy();
      resolveDone(errno);
    });
    assert.ok(relay !== null, 'plain TCP sockets are taken over');
    relays.push(relay);
    return { client, backend, middle: [left, right], relay, done };
  }

  it('relays bytes both ways, in order, and counts them', async () => {
    const { client, backend, relay, done } = await rig();
    const atBackend = collect(backend);
    const atClient = collect(client);
    const up = pattern(3 * 1024 * 1024 + 17, 1);
    const down = pattern(2 * 1024 * 1024 + 5, 2);
    client.end(up);
    backend.end(down);
    assert.ok((await atBackend).bytes.equals(up), 'client to backend intact');
    assert.ok((await atClient).bytes.equals(down), 'backend to client intact');
    assert.equal(await done, 0, 'a clean end both ways');
    assert.equal(relay.counters[RelayCounter.FIRST_READ], up.length);
    assert.equal(relay.counters[RelayCounter.SECOND_WRITTEN], up.length);
    assert.equal(relay.counters[RelayCounter.SECOND_READ], down.length);
    assert.equal(relay.counters[RelayCounter.FIRST_WRITTEN], down.length);
  });

  it('writes the bytes Node had already read first', async () => {
    const early = Buffer.from('sent before the hand-over');
    const { client, backend, relay, done } = await rig(async (peer) => {
      peer.write(early);
      await new Promise((resolve) => setTimeout(resolve, 50));
    });
    // A socket a server accepted starts reading at once: Node holds the early bytes in its buffer.
    assert.equal(relay.handedOver.first, early.length, 'Node had read the early bytes');
    const atBackend = collect(backend);
    client.end('and after');
    backend.end();
    assert.equal((await atBackend).bytes.toString(), `${early}and after`);
    assert.equal(await done, 0);
    assert.equal(relay.counters[RelayCounter.FIRST_READ], 'and after'.length);
    assert.equal(relay.counters[RelayCounter.SECOND_WRITTEN], early.length + 'and after'.length);
  });

  it('passes a half-close on and keeps the other direction open', async () => {
    const { client, backend, done } = await rig();
    const atBackend = collect(backend);
    client.end('last words');
    assert.equal((await atBackend).bytes.toString(), 'last words', 'the backend saw the FIN');
    const atClient = collect(client);
    backend.write('still talking');
    backend.end(' and done');
    assert.equal((await atClient).bytes.toString(), 'still talking and done');
    assert.equal(await done, 0);
  });

  it('ends with an errno when a peer resets its connection', async () => {
    const { client, backend, done } = await rig();
    const atBackend = collect(backend);
    client.write('x');
    await new Promise((resolve) => setTimeout(resolve, 20));
    client.resetAndDestroy();
    assert.notEqual(await done, 0);
    const result = await atBackend;
    assert.equal(result.bytes.toString(), 'x');
  });

  it('end() sends FIN to both peers and finishes when they answer', async () => {
    const { client, backend, relay, done } = await rig();
    const atClient = collect(client);
    const atBackend = collect(backend);
    relay.end();
    await Promise.all([atClient, atBackend]);
    client.end();
    backend.end();
    assert.equal(await done, 0);
  });

  it('destroy() lets go at once: both peers see the connection close', async () => {
    const { client, backend, relay, done } = await rig();
    const closed = Promise.all([once(client, 'close'), once(backend, 'close')]);
    client.on('end', () => client.end());
    backend.on('end', () => backend.end());
    relay.destroy();
    await done;
    await closed;
  });

  it('holds back a fast sender while the receiver does not read (bounded memory)', async () => {
    const { client, backend, relay } = await rig();
    backend.pause();
    const sent = 64 * 1024 * 1024;
    client.write(Buffer.alloc(sent, 7));
    // Give the relay time to move what the kernel buffers allow.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const moved = relay.counters[RelayCounter.FIRST_READ] ?? 0;
    assert.ok(client.writableLength > 0, 'the sender is held back');
    assert.ok(moved < sent / 2, `only socket buffers and one chunk in between (${moved} bytes)`);
    const read = relay.counters[RelayCounter.FIRST_READ] ?? 0;
    const written = relay.counters[RelayCounter.SECOND_WRITTEN] ?? 0;
    assert.ok(read - written <= 256 * 1024, 'at most one chunk waits in the relay');
  });

  it('does not take a TLS socket (the caller splices it in JavaScript)', async () => {
    const fixture = makeTlsFixture();
    if (typeof fixture === 'string') throw new Error(fixture);
    const tlsServer = createTlsServer({ key: fixture.key, cert: fixture.cert });
    tlsServer.listen(0, '127.0.0.1');
    await once(tlsServer, 'listening');
    const accepted = once(tlsServer, 'secureConnection') as Promise<[Socket]>;
    const port = (tlsServer.address() as AddressInfo).port;
    const tlsClient = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false });
    const [tlsSide] = await accepted;
    const [plain, other] = await socketPair(server);
    try {
      assert.equal(
        relayNatively(tlsSide, plain, () => {}),
        null,
      );
    } finally {
      for (const socket of [tlsClient, tlsSide, plain, other]) socket.destroy();
      tlsServer.close();
    }
  });
});
