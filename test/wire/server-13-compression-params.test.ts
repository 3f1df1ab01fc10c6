/**
 * Autobahn category 13 over TCP against `conduit echo --deflate`: the permessage-deflate parameters
 * (RFC 7692 §7.1). For each offer (Autobahn's seven, every window size, combinations, several offers in
 * one header) the 101 must accept one offer validly, and compressed traffic must work under exactly what
 * was agreed: our compressor keeps to the client window and takeover, the server's echoes must inflate
 * within the server window and takeover. Offers a server must decline (§7.1: unknown parameter, invalid
 * value, repeated parameter) must be declined, not accepted and not answered with an error status.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { type Batch, compressionCase } from './wire-compression-case.js';
import { checkDeflateResponse } from './wire-deflate.js';
import {
  expectCleanClose,
  expectEvents,
  expectFailure,
  RSV1,
  serverCase,
  text,
  upgrade,
  useEchoServer,
} from './wire-harness.js';

const echo = useEchoServer(['--deflate']);

const SIZES: [number, number][] = [
  [16, 0],
  [1024, 0],
  [16384, 0],
  [131072, 0],
  [65536, 256],
  [131072, 4096],
];

function batches(sizes: [number, number][], count = 8): Batch[] {
  return sizes.map(([size, fragment]) => ({ size, count, fragment, binary: false }));
}

/** Autobahn's 13.1–13.7 offers (server accept functions apply in its client mode only). */
const AUTOBAHN_OFFERS = [
  'permessage-deflate; client_no_context_takeover; client_max_window_bits',
  'permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover',
  'permessage-deflate; client_no_context_takeover; client_max_window_bits; server_max_window_bits=8',
  'permessage-deflate; client_no_context_takeover; client_max_window_bits; server_max_window_bits=15',
  'permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover; server_max_window_bits=8',
  'permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover; server_max_window_bits=15',
  'permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover; server_max_window_bits=8, ' +
    'permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover, ' +
    'permessage-deflate; client_no_context_takeover; client_max_window_bits',
];

for (const [j, offer] of AUTOBAHN_OFFERS.entries()) {
  describe(`13.${j + 1} offer: ${offer}`, () => {
    for (const [i, [size, fragment]] of SIZES.entries()) {
      const how = fragment > 0 ? `auto-fragmented to ${fragment} B` : 'one frame each';
      compressionCase(
        echo,
        `13.${j + 1}.${i + 1}`,
        `8 messages of ${size} B, ${how}`,
        offer,
        batches([[size, fragment]]),
      );
    }
  });
}

const MIXED: [number, number][] = [
  [300, 0],
  [4096, 0],
  [131072, 0],
  [65536, 1024],
];

describe('13.8 client_max_window_bits with every value, with and without context takeover', () => {
  for (const bits of [8, 9, 10, 11, 12, 13, 14, 15]) {
    const offer = `permessage-deflate; client_max_window_bits=${bits}`;
    compressionCase(echo, `13.8.${bits - 7}`, offer, offer, batches(MIXED, 4));
  }
  compressionCase(
    echo,
    '13.8.9',
    'bare client_max_window_bits alone',
    'permessage-deflate; client_max_window_bits',
    batches(MIXED, 4),
  );
});

describe('13.9 server_max_window_bits with every value (echoes must fit the window)', () => {
  for (const bits of [8, 9, 10, 11, 12, 13, 14, 15]) {
    const offer = `permessage-deflate; server_max_window_bits=${bits}`;
    compressionCase(echo, `13.9.${bits - 7}`, offer, offer, batches(MIXED, 4));
  }
});

describe('13.10 other parameter combinations', () => {
  const offers = [
    'permessage-deflate',
    'permessage-deflate; client_no_context_takeover',
    'permessage-deflate; server_no_context_takeover',
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9',
    'permessage-deflate; server_max_window_bits="12"; client_max_window_bits="11"',
    'permessage-deflate;client_max_window_bits;server_max_window_bits=9',
  ];
  for (const [i, offer] of offers.entries()) {
    compressionCase(echo, `13.10.${i + 1}`, offer, offer, batches(MIXED, 4));
  }
});

describe('13.11 several offers in one header: one valid offer is accepted (RFC 7692 §5, §7.1)', () => {
  const offers = [
    'permessage-deflate; server_max_window_bits=7, permessage-deflate; client_max_window_bits=10',
    'permessage-deflate; foo=1, permessage-deflate; server_no_context_takeover',
    'permessage-deflate; server_no_context_takeover; server_no_context_takeover, permessage-deflate',
    'x-webkit-deflate-frame, permessage-deflate; client_max_window_bits',
    'permessage-deflate; server_max_window_bits=10, permessage-deflate; server_max_window_bits=12',
    'permessage-deflate; client_max_window_bits=16, permessage-deflate; client_max_window_bits=12, permessage-deflate',
  ];
  for (const [i, offer] of offers.entries()) {
    compressionCase(echo, `13.11.${i + 1}`, offer, offer, batches(MIXED, 3));
  }
});

describe('13.12 offers a server must decline: 101 without the extension (RFC 7692 §7.1)', () => {
  const offers = [
    'permessage-deflate; server_max_window_bits=7',
    'permessage-deflate; server_max_window_bits=16',
    'permessage-deflate; server_max_window_bits=08',
    'permessage-deflate; client_max_window_bits=0',
    'permessage-deflate; server_max_window_bits',
    'permessage-deflate; foo',
    'permessage-deflate; server_no_context_takeover=1',
    'permessage-deflate; client_no_context_takeover; client_no_context_takeover',
    'permessage-deflate; server_max_window_bits=10; server_max_window_bits=10',
  ];
  for (const [i, offer] of offers.entries()) {
    serverCase(
      echo,
      `13.12.${i + 1}`,
      `${offer}: declined, and RSV1 then fails with 1002`,
      async (ep, response) => {
        const agreement = checkDeflateResponse(offer, response.headers.get('sec-websocket-extensions'));
        assert.equal(
          agreement,
          null,
          `the server accepted an offer it must decline: ${response.headers.get('sec-websocket-extensions')}`,
        );
        ep.write(ep.build.text('plain'));
        await expectEvents(ep, [text('plain')]);
        ep.write(ep.build.text('plain', { rsv: RSV1 }));
        await expectFailure(ep, [1002]);
      },
      { extensions: offer },
    );
  }
  malformedHeaderCase(
    '13.12.10',
    'a malformed extensions header is answered with 400 or the extension is declined',
    'permessage-deflate; =',
  );
});

/** A handshake whose header is malformed: either 400, or a 101 that accepts nothing. */
function malformedHeaderCase(id: string, title: string, header: string): void {
  serverCase(echo, `${id}`, `${title} (control connection still fine)`, async (ep) => {
    const { socket, head } = await upgrade(echo.port, header);
    socket.destroy();
    const status = head.line.split(' ')[1];
    assert.ok(status === '400' || status === '101', `unexpected status ${head.line}`);
    if (status === '101')
      assert.equal(head.headers.get('sec-websocket-extensions'), undefined, 'accepted a malformed offer');
    await expectCleanClose(ep);
  });
}
