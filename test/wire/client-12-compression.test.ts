/**
 * Autobahn categories 12–13 in "fuzzing server" mode: our raw server answers the client's
 * permessage-deflate offer with parameters of its choosing (RFC 7692 §7.1), sends messages compressed
 * under them, and checks that the client echoes them intact, compressing within the client window and
 * context takeover we set (our inflater refuses anything larger). Responses a client must refuse
 * (unknown parameters, invalid values, an extension never offered) must fail the connection (RFC 6455
 * §4.1 item 6 of the response checks, RFC 7692 §7.1).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkDeflateResponse,
  type DeflateAgreement,
  makeDeflater,
  makeInflater,
  offerSyntaxProblem,
  parseExtensionHeader,
  sampleBinary,
  sampleJson,
} from './wire-deflate.js';
import type { FuzzSession } from './wire-harness.js';
import {
  acceptFor,
  clientCase,
  expectClientFailure,
  expectEvents,
  RSV1,
  serverClosesCleanly,
  useFuzzServer,
} from './wire-harness.js';

const fuzz = useFuzzServer();

/** Checks the client's offer, and reads what our response settles. */
function agreementFor(s: FuzzSession, response: string): DeflateAgreement {
  const offer = s.request.headers.get('sec-websocket-extensions') ?? '';
  const elements = parseExtensionHeader(offer);
  assert.ok(elements !== null && elements.length > 0, `malformed offer: ${offer}`);
  for (const element of elements)
    assert.equal(offerSyntaxProblem(element.params), null, `invalid offer: ${offer}`);
  const agreement = checkDeflateResponse(offer, response);
  assert.equal(typeof agreement, 'object', `our response does not fit the offer: ${String(agreement)}`);
  assert.equal(s.app.ws.extensions, response, 'ws.extensions reports the accepted extensions');
  return agreement as DeflateAgreement;
}

/** Sends compressed messages of the given sizes; each must come back intact (as the client's echo). */
async function compressedTraffic(
  s: FuzzSession,
  response: string,
  sizes: number[],
  fragment = 0,
): Promise<void> {
  const agreement = agreementFor(s, response);
  const ep = s.endpoint;
  ep.allowedRsv = RSV1;
  // The client's messages: its window and context takeover as our response settled them.
  ep.inflate = makeInflater(agreement.clientMaxWindowBits, !agreement.clientNoContextTakeover);
  const deflate = makeDeflater(agreement.serverMaxWindowBits, !agreement.serverNoContextTakeover);
  for (const [k, size] of sizes.entries()) {
    const isBinary = k % 2 === 1;
    const payload = isBinary ? sampleBinary(size, k + 1) : sampleJson(size, k + 1);
    const compressed = await deflate(payload);
    const pieces = [fragment > 0 ? fragment : Math.max(1, compressed.length)];
    ep.writeFrames(ep.build.fragmented(isBinary ? 0x2 : 0x1, compressed, pieces, { rsv: RSV1 }));
    await expectEvents(ep, [{ type: isBinary ? 'binary' : 'text', payload }], 5000);
  }
  await serverClosesCleanly(s);
}

const SIZES = [16, 300, 1024, 4096, 16384, 65536, 131072, 2000, 50000, 131072];

const RESPONSES = [
  'permessage-deflate',
  'permessage-deflate; server_no_context_takeover',
  'permessage-deflate; client_no_context_takeover',
  'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
  ...[8, 9, 10, 11, 12, 13, 14, 15].map((bits) => `permessage-deflate; client_max_window_bits=${bits}`),
  ...[8, 9, 10, 11, 12, 13, 14, 15].map((bits) => `permessage-deflate; server_max_window_bits=${bits}`),
  'permessage-deflate; client_no_context_takeover; client_max_window_bits=9; server_max_window_bits=10',
  'permessage-deflate; server_max_window_bits="11"; client_max_window_bits="12"',
];

describe('12-13 the server chooses the parameters: compressed echoes through the client', () => {
  for (const [i, response] of RESPONSES.entries()) {
    clientCase(
      fuzz,
      `12.${i + 1}`,
      `response "${response}": 10 messages of 16 B-128 KiB`,
      async (s) => {
        await compressedTraffic(s, response, SIZES);
      },
      { respond: () => response, timeout: 20_000 },
    );
  }
  clientCase(
    fuzz,
    '13.1',
    'bare permessage-deflate, messages auto-fragmented to 256 B',
    async (s) => {
      await compressedTraffic(s, 'permessage-deflate', [8192, 65536, 131072], 256);
    },
    { respond: () => 'permessage-deflate', timeout: 20_000 },
  );
  const accepted = 'permessage-deflate; client_max_window_bits=10';
  clientCase(
    fuzz,
    '13.2',
    'RSV1 on a continuation frame: 1002 (RFC 7692 §6.1)',
    async (s) => {
      agreementFor(s, accepted);
      const compressed = await makeDeflater(15, false)(sampleJson(3000, 3));
      const cut = compressed.length >> 1;
      s.endpoint.write(
        s.endpoint.build.text(compressed.subarray(0, cut), { rsv: RSV1, fin: false }),
        s.endpoint.build.raw({ opcode: 0, payload: compressed.subarray(cut), rsv: RSV1 }),
      );
      await expectClientFailure(s, [1002]);
    },
    { respond: () => accepted },
  );
  clientCase(
    fuzz,
    '13.3',
    'compressed text inflating to invalid UTF-8: 1007',
    async (s) => {
      agreementFor(s, accepted);
      const compressed = await makeDeflater(15, false)(Uint8Array.of(0xce, 0xba, 0xed, 0xa0, 0x80));
      s.endpoint.write(s.endpoint.build.text(compressed, { rsv: RSV1 }));
      await expectClientFailure(s, [1007]);
    },
    { respond: () => accepted },
  );
  clientCase(
    fuzz,
    '13.4',
    'a compressed message inflating past maxPayload: 1009',
    async (s) => {
      agreementFor(s, accepted);
      const compressed = await makeDeflater(15, false)(new Uint8Array(1 << 20));
      s.endpoint.write(s.endpoint.build.binary(compressed, { rsv: RSV1 }));
      await expectClientFailure(s, [1009]);
    },
    { respond: () => accepted, client: { maxPayload: 65536 } },
  );
});

/** Responses a client must refuse, and the client option that makes them invalid. */
const INVALID: [string, object][] = [
  ['x-unknown-extension', {}],
  ['permessage-deflate; foo', {}],
  ['permessage-deflate; server_max_window_bits=7', {}],
  ['permessage-deflate; server_max_window_bits=16', {}],
  ['permessage-deflate; server_max_window_bits', {}],
  ['permessage-deflate; client_max_window_bits', {}],
  ['permessage-deflate; client_max_window_bits=10', { perMessageDeflate: { clientMaxWindowBits: false } }],
  ['permessage-deflate; server_no_context_takeover=1', {}],
  ['permessage-deflate; server_no_context_takeover; server_no_context_takeover', {}],
  ['permessage-deflate, permessage-deflate', {}],
  ['permessage-deflate; server_max_window_bits=12', { perMessageDeflate: { serverMaxWindowBits: 10 } }],
  ['permessage-deflate', { perMessageDeflate: { serverNoContextTakeover: true } }],
];

describe('13.5 responses the client must refuse: the connection fails, nothing is sent', () => {
  for (const [i, [response, client]] of INVALID.entries()) {
    it(`13.5.${i + 1} "${response}" with ${JSON.stringify(client)}: handshake fails`, {
      timeout: 10_000,
    }, async () => {
      const { socket, request, app } = await fuzz.server.accept(client);
      const sent: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => sent.push(chunk));
      const ended = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 2000);
        socket.once('end', () => resolve(true));
        socket.once('close', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      socket.resume();
      const accept = acceptFor(request.headers.get('sec-websocket-key') ?? '');
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Extensions: ${response}\r\n\r\n`,
      );
      const event = await app.waitClosed();
      assert.equal(event.code, 1006, 'the handshake failed: close 1006');
      assert.equal(app.errors.length, 1, 'one error event');
      assert.equal(Buffer.concat(sent).length, 0, 'no frame is sent on a failed handshake');
      assert.ok(await ended, 'the client closed TCP after failing the handshake');
      socket.destroy();
    });
  }
});
