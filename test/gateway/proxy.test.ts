/**
 * The proxy core end to end: a minimal gateway built from its pieces on a real WebSocketServer, in
 * front of real backends (a `conduit echo` child process, `ws` servers), with `ws` clients.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ProxyPair } from '../../src/gateway/proxy/pair.js';
import { ProxyTunnel } from '../../src/gateway/proxy/tunnel.js';
import { nativeRelayAvailable } from '../../src/transport/native-relay.js';
import { openWebSocket } from '../client/helpers.js';
import {
  clientClosed,
  type EchoChild,
  nextMessage,
  openThrough,
  refusedPort,
  route,
  startConduitEcho,
  startGateway,
  startWsBackend,
  waitFor,
} from './helpers.js';

describe('proxy in front of a conduit echo child process', () => {
  let echo: EchoChild;
  before(async () => {
    echo = await startConduitEcho();
  });
  after(async () => {
    await echo.kill();
  });

  it('echoes text, binary, UTF-8, fragmented and 1 MiB messages', async () => {
    const gateway = await startGateway([echo.url]);
    try {
      const client = await openThrough(`${gateway.url}/any/path`);
      client.send('hello');
      assert.deepEqual(await nextMessage(client).then((m) => [m.data.toString(), m.isBinary]), [
        'hello',
        false,
      ]);
      client.send(Buffer.from([0, 1, 2, 255]));
      const binary = await nextMessage(client);
      assert.deepEqual([...binary.data], [0, 1, 2, 255]);
      assert.equal(binary.isBinary, true);
      const utf8 = 'héllo wörld — 日本語 🎉';
      client.send(utf8);
      assert.equal((await nextMessage(client)).data.toString('utf8'), utf8);
      client.send('frag-', { fin: false });
      client.send('ment-', { fin: false });
      client.send('ed', { fin: true });
      const fragmented = await nextMessage(client);
      assert.equal(fragmented.data.toString(), 'frag-ment-ed');
      assert.equal(fragmented.isBinary, false);
      const big = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
      client.send(big);
      const echoed = await nextMessage(client, 10_000);
      assert.equal(echoed.data.length, big.length);
      assert.ok(echoed.data.equals(big), '1 MiB payload intact');

      const closed = clientClosed(client);
      client.close(1000, 'done');
      assert.equal((await closed).code, 1000);
      const stats = await gateway.nthEnd(1);
      assert.equal(stats.upstream.messages, 5);
      assert.equal(stats.downstream.messages, 5);
      assert.equal(stats.upstream.bytes, 5 + 4 + Buffer.byteLength(utf8) + 12 + big.length);
      assert.ok(stats.upstream.wireBytesOut > big.length, 'wire bytes counted');
      assert.equal(stats.clientCloseCode, 1000);
      assert.equal(stats.upstreamCloseCode, 1000);
      assert.equal(stats.endReason, 'closed');
      assert.ok(gateway.started[0] instanceof ProxyPair);
    } finally {
      await gateway.close();
    }
  });

  it('tunnel mode splices the bytes and echoes', async () => {
    const gateway = await startGateway([echo.url], { route: route('tunnel') });
    try {
      const client = await openThrough(gateway.url, undefined, { perMessageDeflate: true });
      assert.equal(client.extensions, '', 'a tunnel negotiates no extension');
      client.send('through the tunnel');
      assert.equal((await nextMessage(client)).data.toString(), 'through the tunnel');
      const big = Buffer.alloc(256 * 1024, 9);
      client.send(big);
      assert.ok((await nextMessage(client)).data.equals(big));
      const closed = clientClosed(client);
      client.close(4000, 'bye');
      // The close handshake itself passes through: the echo server answers it.
      assert.equal((await closed).code, 4000);
      const stats = await gateway.nthEnd(1);
      assert.equal(stats.mode, 'tunnel');
      assert.ok(stats.upstream.bytes > big.length, 'client bytes counted');
      assert.ok(stats.downstream.bytes > big.length, 'backend bytes counted');
      assert.ok(gateway.started[0] instanceof ProxyTunnel);
      assert.equal(gateway.started[0].native, nativeRelayAvailable(), 'plain TCP: the native relay');
      assert.equal(stats.upstream.wireBytesIn, stats.upstream.bytes, 'every byte read was relayed');
      assert.equal(stats.upstream.wireBytesOut, stats.upstream.bytes);
      assert.equal(stats.downstream.wireBytesOut, stats.downstream.bytes);
    } finally {
      await gateway.close();
    }
  });

  it('a draining gateway ends live tunnels: the client sees the connection end', async () => {
    const gateway = await startGateway([echo.url], { route: route('tunnel') });
    try {
      const client = await openThrough(gateway.url);
      client.send('alive');
      assert.equal((await nextMessage(client)).data.toString(), 'alive');
      const closed = waitFor<[number, Buffer]>(client, 'close', 6000);
      gateway.sessions.closeAll();
      const [code] = await closed;
      assert.equal(code, 1006, 'a tunnel cannot send a close frame mid-stream');
      const stats = await gateway.nthEnd(1);
      assert.equal(stats.endReason, 'drain');
    } finally {
      await gateway.close();
    }
  });

  it('kill -9 of the backend mid-stream closes the client with 1011 within 1 s', async () => {
    const victim = await startConduitEcho();
    const gateway = await startGateway([victim.url]);
    try {
      const client = await openThrough(gateway.url);
      client.send('before');
      await nextMessage(client);
      const closed = waitFor<[number, Buffer]>(client, 'close', 1000);
      victim.child.kill('SIGKILL');
      const [code] = await closed;
      assert.equal(code, 1011);
      const stats = await gateway.nthEnd(1);
      assert.equal(stats.endReason, 'upstream_lost');
      assert.equal(stats.upstreamCloseCode, 1006);
    } finally {
      await victim.kill();
      await gateway.close();
    }
  });
});

describe('proxy in front of ws backends', () => {
  it('passes the subprotocol through, filtered by the allow list', async () => {
    const backend = await startWsBackend({
      handleProtocols: (offered) => (offered.has('v2') ? 'v2' : false),
    });
    const gateway = await startGateway([backend.url], {
      route: route('frames', { subprotocols: ['v2', 'v3'] }),
    });
    try {
      const client = await openThrough(gateway.url, ['v1', 'v2']);
      assert.equal(client.protocol, 'v2');
      const { request } = await backend.nthConnection(1);
      assert.equal(request.headers['sec-websocket-protocol'], 'v2', 'v1 is not allowed by the route');
      // Conduit's WHATWG client: a response without a subprotocol is valid (ws's client refuses it).
      const other = await openWebSocket(gateway.url, ['v1']);
      assert.equal(other.protocol, '', 'nothing allowed: nothing offered, nothing chosen');
      assert.equal((await backend.nthConnection(2)).request.headers['sec-websocket-protocol'], undefined);
      client.terminate();
      other.close();
    } finally {
      await gateway.close();
      await backend.close();
    }
  });

  it('forwards X-Forwarded-*, traceparent and the selected headers', async () => {
    const backend = await startWsBackend();
    const gateway = await startGateway([backend.url]);
    try {
      const trace = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      const client = await openThrough(`${gateway.url}/room?id=7`, undefined, {
        headers: { cookie: 'session=abc', authorization: 'Bearer t0k', traceparent: trace, 'x-secret': 'no' },
        origin: 'https://app.example',
      });
      const { request } = await backend.nthConnection(1);
      assert.equal(request.url, '/room?id=7');
      assert.equal(request.headers['x-forwarded-for'], '127.0.0.1');
      assert.equal(request.headers['x-forwarded-proto'], 'http');
      assert.equal(request.headers['x-forwarded-host'], new URL(gateway.url).host);
      assert.equal(request.headers.cookie, 'session=abc');
      assert.equal(request.headers.authorization, 'Bearer t0k');
      assert.equal(request.headers.origin, 'https://app.example');
      assert.equal(request.headers['x-secret'], undefined, 'only selected headers travel');
      const forwarded = String(request.headers.traceparent);
      assert.match(forwarded, /^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
      assert.notEqual(forwarded, trace, 'the gateway is a new span of the same trace');
      client.terminate();
    } finally {
      await gateway.close();
      await backend.close();
    }
  });

  it('relays close codes and reasons both ways, 1012 included', async () => {
    const backend = await startWsBackend({}, (socket) => {
      socket.on('message', (data) => {
        const [command, code, reason] = data.toString().split(':');
        if (command === 'close') socket.close(Number(code), reason);
      });
    });
    const gateway = await startGateway([backend.url]);
    try {
      const first = await openThrough(gateway.url);
      const backendSide = (await backend.nthConnection(1)).socket;
      const seen = waitFor<[number, Buffer]>(backendSide, 'close');
      const firstClosed = clientClosed(first);
      first.close(4001, 'client says bye');
      const [code, reason] = await seen;
      assert.equal(code, 4001);
      assert.equal(reason.toString(), 'client says bye');
      assert.equal((await firstClosed).code, 4001);

      const second = await openThrough(gateway.url);
      const closed = clientClosed(second);
      second.send('close:4002:server says bye');
      assert.deepEqual(await closed, { code: 4002, reason: 'server says bye' });

      const third = await openThrough(gateway.url);
      const restarted = clientClosed(third);
      third.send('close:1012:restarting');
      assert.deepEqual(await restarted, { code: 1012, reason: 'restarting' });
      const stats = await gateway.nthEnd(3);
      assert.equal(stats.upstreamCloseCode, 1012);
      assert.equal(stats.endReason, 'closed');
    } finally {
      await gateway.close();
      await backend.close();
    }
  });

  it('a client that dies makes the backend see 1001', async () => {
    const backend = await startWsBackend();
    const gateway = await startGateway([backend.url]);
    try {
      const client = await openThrough(gateway.url);
      const backendSide = (await backend.nthConnection(1)).socket;
      const seen = waitFor<[number, Buffer]>(backendSide, 'close');
      client.terminate();
      assert.equal((await seen)[0], 1001);
      assert.equal((await gateway.nthEnd(1)).endReason, 'client_lost');
    } finally {
      await gateway.close();
      await backend.close();
    }
  });

  it('retries on a second backend when the first refuses connections', async () => {
    const backend = await startWsBackend();
    const dead = `ws://127.0.0.1:${await refusedPort()}`;
    const gateway = await startGateway([dead, backend.url]);
    try {
      const client = await openThrough(gateway.url);
      client.send('via the second');
      assert.equal((await nextMessage(client)).data.toString(), 'via the second');
      assert.deepEqual(
        gateway.attempts.map((a) => a.code),
        ['ERR_UPSTREAM_CONNECT', ''],
      );
      client.terminate();
    } finally {
      await gateway.close();
      await backend.close();
    }
  });

  it('passes a 4xx through without retrying, turns a 5xx into 502', async () => {
    const forbidding = await startWsBackend({ verifyClient: (_info, done) => done(false, 403) });
    const failing = await startWsBackend({ verifyClient: (_info, done) => done(false, 500) });
    const healthy = await startWsBackend();
    const gateway403 = await startGateway([forbidding.url, healthy.url]);
    const gateway500 = await startGateway([failing.url]);
    try {
      await assert.rejects(openThrough(gateway403.url), { status: 403 });
      assert.deepEqual(
        gateway403.attempts.map((a) => a.code),
        ['ERR_UPSTREAM_STATUS'],
      );
      assert.equal(healthy.connections.length, 0, 'a 4xx is an answer, not a failure to retry');
      await assert.rejects(openThrough(gateway500.url), { status: 502 });
      const allDead = await startGateway([`ws://127.0.0.1:${await refusedPort()}`]);
      try {
        await assert.rejects(openThrough(allDead.url), { status: 502 });
      } finally {
        await allDead.close();
      }
    } finally {
      await gateway403.close();
      await gateway500.close();
      await forbidding.close();
      await failing.close();
      await healthy.close();
    }
  });

  it('closes a client that sends a message over maxMessageBytes with 1009', async () => {
    const backend = await startWsBackend();
    const gateway = await startGateway([backend.url], { route: route('frames', { maxMessageBytes: 1000 }) });
    try {
      const client = await openThrough(gateway.url);
      client.send(Buffer.alloc(1000, 1));
      assert.equal((await nextMessage(client)).data.length, 1000, 'at the limit is fine');
      const backendSide = (await backend.nthConnection(1)).socket;
      const backendSaw = waitFor<[number, Buffer]>(backendSide, 'close');
      const closed = clientClosed(client);
      client.send(Buffer.alloc(1001, 1));
      assert.equal((await closed).code, 1009);
      assert.equal((await backendSaw)[0], 1001);
      assert.equal((await gateway.nthEnd(1)).endReason, 'too_big');
    } finally {
      await gateway.close();
      await backend.close();
    }
  });

  it('closes a client over maxMessagesPerSecond with 1008', async () => {
    const backend = await startWsBackend();
    const gateway = await startGateway([backend.url], {
      route: route('frames', { maxMessagesPerSecond: 5 }),
    });
    try {
      const client = await openThrough(gateway.url);
      const closed = clientClosed(client);
      for (let i = 0; i < 50; i++) client.send(`m${i}`);
      assert.equal((await closed).code, 1008);
      const stats = await gateway.nthEnd(1);
      assert.equal(stats.endReason, 'rate');
      assert.ok(
        stats.upstream.messages >= 5 && stats.upstream.messages < 50,
        `${stats.upstream.messages} forwarded`,
      );
    } finally {
      await gateway.close();
      await backend.close();
    }
  });

  it('runs the validation hook: drop, or close the sender with its code', async () => {
    const backend = await startWsBackend();
    const gateway = await startGateway([backend.url], {
      pair: {
        validate: (message, direction) => {
          const text = message.toString();
          if (direction === 'upstream' && text === 'drop me') return false;
          if (direction === 'upstream' && text === 'forbidden') return { close: 4003, reason: 'no' };
          return true;
        },
      },
    });
    try {
      const client = await openThrough(gateway.url);
      client.send('drop me');
      client.send('kept');
      assert.equal((await nextMessage(client)).data.toString(), 'kept', 'the dropped one never came back');
      const closed = clientClosed(client);
      client.send('forbidden');
      assert.deepEqual(await closed, { code: 4003, reason: 'no' });
      const stats = await gateway.nthEnd(1);
      assert.equal(stats.dropped, 1);
      assert.equal(stats.endReason, 'validation');
    } finally {
      await gateway.close();
      await backend.close();
    }
  });

  it('negotiates permessage-deflate per side (client only, backend only, off)', async () => {
    const plainBackend = await startWsBackend({ perMessageDeflate: false });
    const deflateBackend = await startWsBackend({ perMessageDeflate: true });
    const toPlain = await startGateway([plainBackend.url]);
    const toDeflate = await startGateway([deflateBackend.url]);
    const off = await startGateway([deflateBackend.url], { route: route('frames', { compression: 'off' }) });
    const text = 'compressible '.repeat(2000);
    try {
      const compressedClient = await openThrough(toPlain.url, undefined, { perMessageDeflate: true });
      assert.match(compressedClient.extensions, /permessage-deflate/);
      const plainSide = await plainBackend.nthConnection(1);
      assert.equal(plainSide.socket.extensions, '');
      compressedClient.send(text);
      assert.equal((await nextMessage(compressedClient)).data.toString(), text);

      const plainClient = await openThrough(toDeflate.url, undefined, { perMessageDeflate: false });
      assert.equal(plainClient.extensions, '');
      const deflateSide = await deflateBackend.nthConnection(1);
      assert.match(deflateSide.socket.extensions, /permessage-deflate/);
      plainClient.send(text);
      assert.equal((await nextMessage(plainClient)).data.toString(), text);
      const stats = toDeflate.started[0]!.stats;
      assert.equal(stats.downstream.bytes, text.length);
      assert.ok(stats.upstream.wireBytesOut === 0, 'wire counts are taken at the end');

      const offClient = await openThrough(off.url, undefined, { perMessageDeflate: true });
      assert.equal(offClient.extensions, '', 'compression off: the client side declines');
      const offSide = await deflateBackend.nthConnection(2);
      assert.equal(
        offSide.request.headers['sec-websocket-extensions'],
        undefined,
        'and nothing is offered upstream',
      );
      offClient.send(text);
      assert.equal((await nextMessage(offClient)).data.toString(), text);
      compressedClient.terminate();
      plainClient.terminate();
      offClient.terminate();
    } finally {
      await toPlain.close();
      await toDeflate.close();
      await off.close();
      await plainBackend.close();
      await deflateBackend.close();
    }
  });

  it('drain closes clients and backends with 1001', async () => {
    const backend = await startWsBackend();
    const gateway = await startGateway([backend.url]);
    try {
      const client = await openThrough(gateway.url);
      const backendSide = (await backend.nthConnection(1)).socket;
      const backendSaw = waitFor<[number, Buffer]>(backendSide, 'close');
      const closed = clientClosed(client);
      gateway.sessions.closeAll();
      assert.equal((await closed).code, 1001);
      assert.equal((await backendSaw)[0], 1001);
      assert.equal((await gateway.nthEnd(1)).endReason, 'drain');
      await gateway.sessions.whenIdle();
    } finally {
      await gateway.close();
      await backend.close();
    }
  });

  it('closes both sides with 1001 after idleTimeoutMs without messages', async () => {
    const backend = await startWsBackend();
    const gateway = await startGateway([backend.url], { route: route('frames', { idleTimeoutMs: 300 }) });
    try {
      const client = await openThrough(gateway.url);
      const backendSide = (await backend.nthConnection(1)).socket;
      const backendSaw = waitFor<[number, Buffer]>(backendSide, 'close');
      const closed = clientClosed(client);
      assert.equal((await closed).code, 1001);
      assert.equal((await backendSaw)[0], 1001);
      assert.equal((await gateway.nthEnd(1)).endReason, 'idle');
    } finally {
      await gateway.close();
      await backend.close();
    }
  });

  it('pings each side itself and never forwards pings', async () => {
    const backend = await startWsBackend();
    const gateway = await startGateway([backend.url], { route: route('frames', { pingIntervalMs: 200 }) });
    try {
      const client = await openThrough(gateway.url);
      const backendSide = (await backend.nthConnection(1)).socket;
      const backendPinged = waitFor(backendSide, 'ping', 3000);
      await waitFor(client, 'ping', 3000);
      await backendPinged;
      const leaked: string[] = [];
      client.on('ping', (payload: Buffer) => leaked.push(`client got ping ${payload}`));
      backendSide.on('ping', (payload: Buffer) => leaked.push(`backend got ping ${payload}`));
      const backendPong = waitFor<[Buffer]>(backendSide, 'pong');
      backendSide.ping('from backend');
      const [answer] = await backendPong;
      assert.equal(answer.toString(), 'from backend', "the gateway answers the backend's ping itself");
      const clientPong = waitFor<[Buffer]>(client, 'pong');
      client.ping('from client');
      const [pong] = await clientPong;
      assert.equal(pong.toString(), 'from client', "the gateway answers the client's ping itself");
      // A round trip each way: a forwarded ping would have arrived before these messages.
      client.send('sync');
      await nextMessage(client);
      assert.deepEqual(
        leaked.filter((line) => line.includes('from')),
        [],
        'no ping crossed the gateway',
      );
      const pair = gateway.started[0] as ProxyPair;
      assert.ok(pair.clientRtt >= 0, 'the client answered the heartbeat');
      client.terminate();
    } finally {
      await gateway.close();
      await backend.close();
    }
  });

  it('a slow client does not make the gateway buffer what a flooding backend sends', async () => {
    const chunk = Buffer.alloc(64 * 1024, 7);
    const target = 32 * 1024 * 1024;
    let flooding = true;
    const backend = await startWsBackend({}, (socket) => {
      const flood = (): void => {
        // Send until our own buffer holds `target` bytes: the gateway stopped reading by then.
        while (flooding && socket.readyState === socket.OPEN && socket.bufferedAmount < target) {
          socket.send(chunk);
          if (socket.bufferedAmount > 0) break;
        }
        if (flooding && socket.readyState === socket.OPEN && socket.bufferedAmount < target)
          setImmediate(flood);
      };
      flood();
    });
    const gateway = await startGateway([backend.url]);
    try {
      const client = await openThrough(gateway.url);
      // The client stops reading at once: only kernel buffers take the flood.
      (client as unknown as { _socket: { pause(): void } })._socket.pause();
      const backendSide = (await backend.nthConnection(1)).socket;
      const deadline = Date.now() + 20_000;
      while (backendSide.bufferedAmount < target && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(
        backendSide.bufferedAmount >= target,
        'the backend had to keep its flood (the gateway stopped reading)',
      );
      const pair = gateway.started[0] as ProxyPair;
      assert.ok(
        pair.client.bufferedAmount < 2 * 1024 * 1024,
        `gateway holds ${pair.client.bufferedAmount} B for the client`,
      );
      assert.ok(pair.upstream.socket.isPaused(), 'the gateway stopped reading the backend');
      assert.ok(pair.stats.downstream.bytes < target / 2, `forwarded ${pair.stats.downstream.bytes} B`);
      flooding = false;
      client.terminate();
    } finally {
      flooding = false;
      await gateway.close();
      await backend.close();
    }
  });
});
