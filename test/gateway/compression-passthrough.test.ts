/**
 * `compression: passthrough` on a gateway built from a configuration: the backend is offered the
 * client's own permessage-deflate offer and the client gets exactly the backend's answer; compressed
 * payloads then cross the gateway byte for byte (raw peers on both sides prove it), with context
 * takeover on and off, window bits passed through, 1 MB messages both ways and uncompressed ones mixed
 * in. Fallbacks (the backend declines, or answers parameters the client did not offer), the size limit on
 * the compressed size (1009), wire-byte counters, the debug line of a fallback and the validation hook
 * that inflates only when asked to.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer as createH2cServer, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { constants } from 'node:zlib';
import type { WebSocketOptions } from '../../src/client/options.js';
import type { WebSocket as ConduitWebSocket } from '../../src/client/websocket.js';
import type { ProxyPair } from '../../src/gateway/proxy/pair.js';
import type { MessageValidator } from '../../src/gateway/proxy/policies.js';
import { proxyUpgrade } from '../../src/gateway/proxy/proxy-upgrade.js';
import { proxyServerOptions } from '../../src/gateway/proxy/server-options.js';
import { ProxySessions } from '../../src/gateway/proxy/session.js';
import { parseExtensions } from '../../src/protocol/extension-header.js';
import type { WebSocketConnection } from '../../src/server/connection.js';
import { WebSocketServer } from '../../src/server/server.js';
import { closeClient, Messages, openWebSocket } from '../client/helpers.js';
import { closeServer } from '../server/helpers.js';
import { type LogLine, memoryLogger, startTestGateway, type TestGateway, until } from './gateway-helpers.js';
import {
  clientClosed,
  nextMessage,
  openThrough,
  route,
  startGateway,
  startWsBackend,
  type WsBackend,
  waitFor,
} from './helpers.js';
import {
  deflatePayload,
  inflatePayload,
  openRawClient,
  type RawBackend,
  startRawBackend,
} from './raw-peers.js';

const TEXT = 1;
const BINARY = 2;

/** A gateway configuration: one route with `compression: passthrough` to `backend`. */
function config(backend: string, routeExtra: string[] = [], http2 = false): string {
  return [
    'listen:',
    `  - { port: 0, host: 127.0.0.1${http2 ? ', http2: true' : ''} }`,
    'upstreams:',
    '  app:',
    `    backends: [${backend}]`,
    ...(http2 ? ['    http2: true'] : []),
    'routes:',
    '  - name: pt',
    '    upstream: app',
    '    compression: passthrough',
    ...routeExtra.map((line) => `    ${line}`),
    '',
  ].join('\n');
}

/** About `size` bytes of JSON-ish lines: compressible, yet not one repeated string. */
function compressible(size: number, seed = 0): string {
  const lines: string[] = [];
  let length = 0;
  for (let i = 0; length < size; i++) {
    const line = `{"id":${i + seed},"user":"user-${(i * 7919 + seed) % 1000}","event":"moved","x":${i % 97}}\n`;
    lines.push(line);
    length += line.length;
  }
  return lines.join('').slice(0, size);
}

/** The parsed elements of an extensions header, for comparisons that ignore spacing and order of params. */
function extensionsOf(header: string | undefined): { name: string; params: Record<string, string | true> }[] {
  return parseExtensions(header ?? '').map(({ name, params }) => ({ name, params: { ...params } }));
}

/** The `Sec-WebSocket-Extensions` answers of a `ws` backend, in handshake order. */
function recordAnswers(backend: WsBackend): string[] {
  const answers: string[] = [];
  backend.server.on('headers', (headers: string[]) => {
    const line = headers.find((header) => header.toLowerCase().startsWith('sec-websocket-extensions:'));
    answers.push(line === undefined ? '' : line.slice(line.indexOf(':') + 1).trim());
  });
  return answers;
}

/** The live frame-aware session of a gateway (there is exactly one in these tests). */
function onlyPair(gateway: TestGateway): ProxyPair {
  const sessions = [...gateway.gateway.sessions.live];
  assert.equal(sessions.length, 1);
  return sessions[0] as ProxyPair;
}

/** Class names of the extensions a pair's backend side runs. */
function upstreamExtensions(pair: ProxyPair): string[] {
  return pair.upstream.protocol.extensions.map((extension) => extension.constructor.name);
}

/** A Conduit client with Buffers for binary messages. */
function openConduit(url: string, deflate: WebSocketOptions['perMessageDeflate']): Promise<ConduitWebSocket> {
  return openWebSocket(url, undefined, { perMessageDeflate: deflate, binaryType: 'nodebuffer' });
}

/** Closes `client` and waits for the gateway's access line of the connection. */
async function closeAndLog(gateway: TestGateway, client: ConduitWebSocket): Promise<LogLine> {
  await closeClient(client, 1000);
  const find = (): LogLine | undefined => gateway.log.find((line) => line.msg === 'connection closed');
  await until(() => find() !== undefined, 5000, 'access log line');
  return find()!;
}

describe('compression: passthrough', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  async function gatewayFor(backend: string, routeExtra: string[] = [], http2 = false): Promise<TestGateway> {
    const gateway = await startTestGateway(config(backend, routeExtra, http2));
    cleanups.push(() => gateway.close());
    return gateway;
  }

  async function wsBackend(options: Parameters<typeof startWsBackend>[0] = {}): Promise<WsBackend> {
    const backend = await startWsBackend(options);
    cleanups.push(() => backend.close());
    return backend;
  }

  it('gives both sides the same parameters and relays 1 MB messages with context takeover', async () => {
    const backend = await wsBackend({ perMessageDeflate: { threshold: 1024 }, maxPayload: 64 * 1024 * 1024 });
    const answers = recordAnswers(backend);
    const gateway = await gatewayFor(backend.url);
    const client = await openConduit(gateway.url(), {});
    const messages = new Messages(client);

    const { request } = await backend.nthConnection(1);
    assert.deepEqual(
      extensionsOf(request.headers['sec-websocket-extensions']),
      [{ name: 'permessage-deflate', params: { client_max_window_bits: true } }],
      'the backend gets the client offer as it is',
    );
    assert.notEqual(client.extensions, '');
    assert.deepEqual(extensionsOf(client.extensions), extensionsOf(answers[0]), 'the client gets the answer');
    assert.deepEqual(upstreamExtensions(onlyPair(gateway)), ['PassthroughDeflate'], 'no zlib in the gateway');

    const first = compressible(1024 * 1024);
    const second = compressible(1024 * 1024, 5);
    const binary = Buffer.from(compressible(1024 * 1024, 9));
    client.send(first);
    assert.equal(await messages.next(10_000), first);
    client.send('small and uncompressed');
    assert.equal(await messages.next(), 'small and uncompressed');
    client.send(binary);
    assert.deepEqual(await messages.next(10_000), binary);
    // With context takeover this one refers to the first: any change of bytes or order breaks it.
    client.send(second);
    assert.equal(await messages.next(10_000), second);

    const access = await closeAndLog(gateway, client);
    assert.equal(access.fields.messagesIn, 4);
    assert.equal(access.fields.messagesOut, 4);
    const sent = first.length + second.length + binary.length;
    // The text compresses about 8:1; uncompressed counting would report at least `sent`.
    assert.ok(
      (access.fields.bytesIn as number) < sent / 4,
      `bytesIn counts wire bytes: ${access.fields.bytesIn}`,
    );
    assert.ok(
      (access.fields.bytesOut as number) < sent / 4,
      `bytesOut counts wire bytes: ${access.fields.bytesOut}`,
    );
  });

  it('passes no_context_takeover and both window bits through', async () => {
    const backend = await wsBackend({ perMessageDeflate: { threshold: 1024 }, maxPayload: 64 * 1024 * 1024 });
    const answers = recordAnswers(backend);
    const gateway = await gatewayFor(backend.url);
    const client = await openConduit(gateway.url(), {
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 10,
      clientMaxWindowBits: 11,
    });
    const messages = new Messages(client);
    const { request } = await backend.nthConnection(1);
    assert.deepEqual(extensionsOf(request.headers['sec-websocket-extensions']), [
      {
        name: 'permessage-deflate',
        params: {
          server_no_context_takeover: true,
          client_no_context_takeover: true,
          server_max_window_bits: '10',
          client_max_window_bits: '11',
        },
      },
    ]);
    const [answer] = extensionsOf(answers[0]);
    assert.equal(answer?.params.server_no_context_takeover, true);
    assert.equal(answer?.params.server_max_window_bits, '10');
    assert.deepEqual(extensionsOf(client.extensions), extensionsOf(answers[0]));

    for (let i = 0; i < 3; i++) {
      const text = compressible(1024 * 1024, i);
      client.send(text);
      assert.equal(await messages.next(10_000), text);
      client.send(Buffer.from([i, 1, 2, 3]));
      assert.deepEqual(await messages.next(), Buffer.from([i, 1, 2, 3]));
    }
    await closeClient(client, 1000);
  });

  it('forwards the compressed bytes untouched both ways (raw peers)', async () => {
    const backend: RawBackend = await startRawBackend(
      () => 'permessage-deflate; server_max_window_bits=12; client_max_window_bits=10',
    );
    cleanups.push(() => backend.close());
    const gateway = await gatewayFor(backend.url);
    const offer = 'permessage-deflate; client_max_window_bits; server_max_window_bits=12';
    const client = await openRawClient(gateway.url(), offer);
    cleanups.push(async () => client.close());
    const upstream = await backend.nthConnection(1);
    assert.deepEqual(extensionsOf(upstream.offered), extensionsOf(offer));
    const answered = /^sec-websocket-extensions:(.*)$/im.exec(client.head)?.[1];
    assert.deepEqual(
      extensionsOf(answered),
      extensionsOf('permessage-deflate; server_max_window_bits=12; client_max_window_bits=10'),
    );

    // Compressed in a way the gateway's own deflate would never produce (level 9, fixed Huffman codes).
    const text = compressible(200_000);
    const compressed = deflatePayload(text, { level: 9, windowBits: 10, strategy: constants.Z_FIXED });
    const third = Math.floor(compressed.length / 3);
    client.send(TEXT, compressed.subarray(0, third), true, false);
    client.send(0, compressed.subarray(third, 2 * third), false, false);
    client.send(0, compressed.subarray(2 * third), false, true);
    const got = await upstream.inbox.nthMessage(1);
    assert.equal(got.opcode, TEXT);
    assert.equal(got.rsv1, true);
    assert.ok(got.payload.equals(compressed), 'the backend gets the very bytes the client compressed');
    assert.equal(inflatePayload(got.payload).toString(), text);

    const plain = randomBytes(3000);
    client.send(BINARY, plain);
    const second = await upstream.inbox.nthMessage(2);
    assert.equal(second.rsv1, false);
    assert.ok(second.payload.equals(plain));

    // The gateway cannot read compressed text: the endpoint that inflates checks its UTF-8.
    const notUtf8 = deflatePayload(Buffer.from([0x61, 0xff, 0xfe, 0x62]));
    client.send(TEXT, notUtf8, true);
    const third3 = await upstream.inbox.nthMessage(3);
    assert.ok(third3.rsv1 && third3.payload.equals(notUtf8));

    const large = deflatePayload(Buffer.from(compressible(1024 * 1024, 3)), {
      level: 9,
      windowBits: 12,
      strategy: constants.Z_HUFFMAN_ONLY,
    });
    assert.ok(large.length > 65_536, 'a 64-bit length frame');
    upstream.send(BINARY, large, true);
    upstream.send(TEXT, Buffer.from('plain reply'));
    const down = await client.inbox.nthMessage(1);
    assert.equal(down.opcode, BINARY);
    assert.equal(down.rsv1, true);
    assert.ok(down.payload.equals(large), 'the client gets the very bytes the backend compressed');
    const down2 = await client.inbox.nthMessage(2);
    assert.equal(down2.rsv1, false);
    assert.equal(down2.payload.toString(), 'plain reply');

    const pair = onlyPair(gateway);
    assert.equal(pair.stats.upstream.bytes, compressed.length + plain.length + notUtf8.length, 'wire bytes');
    assert.equal(pair.stats.downstream.bytes, large.length + 'plain reply'.length);
  });

  it('passes compression through over HTTP/2 on both sides (RFC 8441) to a Conduit backend', async () => {
    const h2 = createH2cServer({ settings: { enableConnectProtocol: true } });
    const h2Sessions = new Set<ServerHttp2Session>();
    h2.on('session', (session: ServerHttp2Session) => {
      h2Sessions.add(session);
      session.once('close', () => h2Sessions.delete(session));
    });
    h2.listen(0, '127.0.0.1');
    await waitFor(h2, 'listening');
    const wss = new WebSocketServer({ server: h2, perMessageDeflate: { serverMaxWindowBits: 12 } });
    const accepted: WebSocketConnection[] = [];
    wss.on('connection', (connection: WebSocketConnection) => {
      accepted.push(connection);
      connection.on('message', (data: Buffer, isBinary: boolean) =>
        connection.send(data, { binary: isBinary }),
      );
    });
    cleanups.push(async () => {
      await closeServer(wss);
      for (const session of h2Sessions) session.destroy();
      await new Promise((resolve) => h2.close(resolve));
    });
    const gateway = await gatewayFor(`ws://127.0.0.1:${(h2.address() as AddressInfo).port}`, [], true);
    const client = await openWebSocket(gateway.url(), undefined, {
      http2: true,
      perMessageDeflate: { clientNoContextTakeover: true },
      binaryType: 'nodebuffer',
    });
    const messages = new Messages(client);
    await until(() => accepted.length === 1, 5000, 'backend connection');
    assert.match(client.extensions, /server_max_window_bits=12/);
    assert.deepEqual(extensionsOf(client.extensions), extensionsOf(accepted[0]!.extensions));
    assert.deepEqual(upstreamExtensions(onlyPair(gateway)), ['PassthroughDeflate']);
    const text = compressible(1024 * 1024, 4);
    client.send(text);
    assert.equal(await messages.next(10_000), text);
    client.send(Buffer.from('tiny'));
    assert.deepEqual(await messages.next(), Buffer.from('tiny'));
    assert.ok(onlyPair(gateway).stats.upstream.bytes < text.length / 4, 'wire bytes');
    await closeClient(client, 1000);
  });

  it('gives neither side permessage-deflate when the backend declines it', async () => {
    const backend = await wsBackend({ perMessageDeflate: false });
    const gateway = await gatewayFor(backend.url);
    const client = await openThrough(gateway.url(), undefined, { perMessageDeflate: true });
    cleanups.push(async () => client.terminate());
    const { request } = await backend.nthConnection(1);
    assert.deepEqual(extensionsOf(request.headers['sec-websocket-extensions']), [
      { name: 'permessage-deflate', params: { client_max_window_bits: true } },
    ]);
    assert.equal(client.extensions, '');
    assert.deepEqual(upstreamExtensions(onlyPair(gateway)), []);
    // The configuration-built gateway passes its own logger to the upgrade: the reason is in its log.
    const reason = gateway.log.find((line) =>
      line.msg.startsWith('permessage-deflate passthrough impossible'),
    );
    assert.equal(reason?.level, 'debug');
    assert.match(reason?.msg ?? '', /the backend declined permessage-deflate/);
    const text = compressible(300_000);
    const reply = nextMessage(client);
    client.send(text);
    assert.equal((await reply).data.toString(), text);
    const closed = clientClosed(client);
    client.close(1000);
    assert.equal((await closed).code, 1000);
  });

  it('falls back to negotiate when the backend answers parameters the client did not offer', async () => {
    // The client offers no client_max_window_bits: this answer is valid for no offer of the client.
    const backend = await startRawBackend(() => 'permessage-deflate; client_max_window_bits=10');
    cleanups.push(() => backend.close());
    const gateway = await gatewayFor(backend.url);
    const client = await openRawClient(gateway.url(), 'permessage-deflate');
    cleanups.push(async () => client.close());
    const upstream = await backend.nthConnection(1);
    assert.deepEqual(extensionsOf(upstream.offered), extensionsOf('permessage-deflate'));
    const answered = /^sec-websocket-extensions:(.*)$/im.exec(client.head)?.[1];
    assert.deepEqual(
      extensionsOf(answered),
      extensionsOf('permessage-deflate; server_no_context_takeover; client_no_context_takeover'),
      "the client gets the gateway's own answer",
    );
    assert.deepEqual(upstreamExtensions(onlyPair(gateway)), ['PerMessageDeflate']);

    const text = compressible(100_000);
    const compressed = deflatePayload(text, { level: 9, strategy: constants.Z_FIXED });
    client.send(TEXT, compressed, true);
    const got = await upstream.inbox.nthMessage(1);
    assert.equal(got.rsv1, true);
    assert.equal(inflatePayload(got.payload).toString(), text, 're-compressed within the window of 10 bits');
    assert.ok(!got.payload.equals(compressed), 'inflated and deflated again by the gateway');

    const binary = Buffer.from(compressible(50_000, 1));
    upstream.send(BINARY, deflatePayload(binary), true);
    const down = await client.inbox.nthMessage(1);
    assert.equal(down.rsv1, true);
    assert.ok(inflatePayload(down.payload).equals(binary));
  });

  it('applies maxMessageSize to the compressed size and closes with 1009', async () => {
    const backend = await wsBackend({ perMessageDeflate: { threshold: 1024 }, maxPayload: 64 * 1024 * 1024 });
    const gateway = await gatewayFor(backend.url, ['maxMessageSize: 256KiB']);
    const client = await openThrough(gateway.url(), undefined, {
      perMessageDeflate: true,
      maxPayload: 64 * 1024 * 1024,
    });
    cleanups.push(async () => client.terminate());
    const { socket: upstream } = await backend.nthConnection(1);

    // 1 MB that compresses to about 130 KB passes both ways: the receiving endpoint enforces its own limit.
    const text = compressible(1024 * 1024);
    const reply = nextMessage(client, 10_000);
    client.send(text);
    assert.equal((await reply).data.toString(), text);

    const backendClosed = waitFor<[number]>(upstream, 'close');
    const closed = clientClosed(client);
    client.send(randomBytes(400_000), { compress: true });
    assert.equal((await closed).code, 1009);
    assert.equal((await backendClosed)[0], 1001);
  });
});

/** A gateway made of the proxy's parts with a logger of its own, to read its debug lines directly. */
async function loggedProxy(
  backend: string,
  lines: LogLine[],
): Promise<{ url: string; close(): Promise<void> }> {
  const theRoute = route('frames', { compression: 'passthrough' });
  const logger = memoryLogger(lines);
  const backends = [{ url: new URL(backend), weight: 1 }];
  const sessions = new ProxySessions();
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    clientTracking: false,
    ...proxyServerOptions(),
    upgrade: (request) =>
      proxyUpgrade(request, theRoute, (tried) => backends.find((b) => !tried.has(b)), {
        upstream: { maxAttempts: 1, connectTimeoutMs: 2000 },
        logger,
      }),
  });
  server.on('connection', (connection) => sessions.start(connection));
  await waitFor(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    close: async () => {
      sessions.closeAll();
      await closeServer(server);
    },
  };
}

describe('compression: passthrough fallbacks and hooks', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('says at debug level why a connection could not pass compression through', async () => {
    const declining = await startWsBackend({ perMessageDeflate: false });
    cleanups.push(() => declining.close());
    const odd = await startRawBackend(() => 'permessage-deflate; client_max_window_bits=10');
    cleanups.push(() => odd.close());
    const lines: LogLine[] = [];
    for (const backend of [declining.url, odd.url]) {
      const proxy = await loggedProxy(backend, lines);
      cleanups.push(() => proxy.close());
      // No client_max_window_bits in the offer: the odd backend's answer then fits none.
      const client = await openConduit(proxy.url, { clientMaxWindowBits: false });
      cleanups.push(async () => client.close());
    }
    const debug = lines.filter((line) => line.level === 'debug');
    assert.equal(debug.length, 2);
    assert.equal(
      debug[0]!.msg,
      'permessage-deflate passthrough impossible: the backend declined permessage-deflate; neither side compresses',
    );
    assert.equal(debug[0]!.fields.compression, 'off');
    assert.equal(
      debug[1]!.msg,
      'permessage-deflate passthrough impossible: the backend answered permessage-deflate parameters the client did not offer; each side negotiates with the gateway',
    );
    assert.equal(debug[1]!.fields.compression, 'negotiate');
    assert.equal(debug[1]!.fields.backendExtensions, 'permessage-deflate; client_max_window_bits=10');
  });

  it('gives the validation hook the compressed payload, or the real message with inflateForValidation', async () => {
    const backend = await startWsBackend({ perMessageDeflate: { threshold: 1024 } });
    cleanups.push(() => backend.close());
    for (const inflate of [false, true]) {
      const seen: { direction: string; compressed: boolean; message: Buffer }[] = [];
      const validate: MessageValidator = (message, direction, _isBinary, compressed) => {
        seen.push({ direction, compressed, message: Buffer.from(message) });
        return true;
      };
      const gateway = await startGateway([backend.url], {
        route: route('frames', { compression: 'passthrough' }),
        pair: { validate, inflateForValidation: inflate },
      });
      cleanups.push(() => gateway.close());
      const client = await openThrough(gateway.url, undefined, { perMessageDeflate: true });
      cleanups.push(async () => client.terminate());
      const texts = [compressible(100_000), compressible(100_000, 3)];
      for (const text of texts) {
        const reply = nextMessage(client);
        client.send(text);
        assert.equal((await reply).data.toString(), text);
      }
      assert.deepEqual(
        seen.map(({ direction, compressed }) => [direction, compressed]),
        [
          ['upstream', !inflate],
          ['downstream', !inflate],
          ['upstream', !inflate],
          ['downstream', !inflate],
        ],
      );
      if (inflate) {
        // Context takeover: the second message inflates only with the first one's window.
        assert.deepEqual(
          seen.map(({ message }) => message.toString()),
          [texts[0], texts[0], texts[1], texts[1]],
        );
      } else {
        assert.ok(
          seen.every(({ message }) => message.length < 20_000),
          'wire sizes',
        );
        assert.equal(
          inflatePayload(seen[0]!.message).toString(),
          texts[0],
          'the first message needs no window',
        );
      }
    }
  });
});
