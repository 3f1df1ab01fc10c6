/**
 * Autobahn category 9 over TCP against `conduit echo`: large messages (up to the default 16 MiB limit)
 * in one frame, in many fragments and in many small writes come back intact; many messages in a row are
 * all echoed. A second server started with `--max-message 65536` checks the limit itself: a message over
 * it fails with 1009 (RFC 6455 §7.4.1), whether it arrives whole, fragmented or compressed.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { checkDeflateResponse, type DeflateAgreement, makeInflater } from './wire-deflate.js';
import {
  binary,
  deflateMessage,
  expectCleanClose,
  expectEvents,
  expectEventsThenClose,
  expectFailure,
  OP,
  RSV1,
  randomBytes,
  serverCase,
  text,
  useEchoServer,
  type WireEndpoint,
} from './wire-harness.js';

const echo = useEchoServer();

const KB = 1024;
const MB = 1024 * 1024;

function stars(n: number): Uint8Array {
  return new Uint8Array(n).fill(0x2a);
}

function sizeName(n: number): string {
  return n >= MB ? `${n / MB} MiB` : `${n / KB} KiB`;
}

/** A message as frames of `size` payload bytes each, in one buffer ready for one write. */
function fragmented(ep: WireEndpoint, opcode: number, payload: Uint8Array, size: number): Uint8Array[] {
  return ep.build.fragmented(opcode, payload, [size]);
}

const BIG = { timeout: 30_000 };
const WAIT = 20_000;

describe('9.1-9.2 one large frame', () => {
  const sizes = [64 * KB, 256 * KB, MB, 4 * MB, 16 * MB];
  for (const [i, n] of sizes.entries()) {
    serverCase(
      echo,
      `9.1.${i + 1}`,
      `text message of ${sizeName(n)} in one frame: echoed intact`,
      async (ep) => {
        const payload = stars(n);
        ep.write(ep.build.text(payload));
        await expectEventsThenClose(ep, [text(payload)], WAIT);
      },
      BIG,
    );
  }
  for (const [i, n] of sizes.entries()) {
    serverCase(
      echo,
      `9.2.${i + 1}`,
      `binary message of ${sizeName(n)} in one frame: echoed intact`,
      async (ep) => {
        const payload = randomBytes(n, 920 + i);
        ep.write(ep.build.binary(payload));
        await expectEventsThenClose(ep, [binary(payload)], WAIT);
      },
      BIG,
    );
  }
});

describe('9.3-9.4 large fragmented messages', () => {
  const cases: [number, number][] = [
    [MB, 64],
    [16 * MB, 64],
    [4 * MB, 64],
    [4 * MB, KB],
    [4 * MB, 64 * KB],
    [16 * MB, KB],
    [16 * MB, 64 * KB],
  ];
  for (const [i, [n, size]] of cases.entries()) {
    serverCase(
      echo,
      `9.3.${i + 1}`,
      `text message of ${sizeName(n)} in fragments of ${size} B: echoed intact`,
      async (ep) => {
        const payload = stars(n);
        ep.writeFrames(fragmented(ep, OP.TEXT, payload, size));
        await expectEventsThenClose(ep, [text(payload)], WAIT);
      },
      BIG,
    );
  }
  for (const [i, [n, size]] of cases.entries()) {
    serverCase(
      echo,
      `9.4.${i + 1}`,
      `binary message of ${sizeName(n)} in fragments of ${size} B: echoed intact`,
      async (ep) => {
        const payload = randomBytes(n, 940 + i);
        ep.writeFrames(fragmented(ep, OP.BINARY, payload, size));
        await expectEventsThenClose(ep, [binary(payload)], WAIT);
      },
      BIG,
    );
  }
});

describe('9.5-9.6 one frame written in many small writes', () => {
  for (const [i, chop] of [64, 256, 2048].entries()) {
    serverCase(
      echo,
      `9.5.${i + 1}`,
      `text message of 1 MiB written in chops of ${chop} B: echoed intact`,
      async (ep) => {
        const payload = stars(MB);
        await ep.writeChunked(ep.build.text(payload), chop);
        await expectEventsThenClose(ep, [text(payload)], WAIT);
      },
      BIG,
    );
    serverCase(
      echo,
      `9.6.${i + 1}`,
      `binary message of 1 MiB written in chops of ${chop} B: echoed intact`,
      async (ep) => {
        const payload = randomBytes(MB, 960 + i);
        await ep.writeChunked(ep.build.binary(payload), chop);
        await expectEventsThenClose(ep, [binary(payload)], WAIT);
      },
      BIG,
    );
  }
});

describe('9.7-9.8 many messages one after the other', () => {
  for (const [i, n] of [0, 16, 1024, 4096].entries()) {
    serverCase(
      echo,
      `9.7.${i + 1}`,
      `200 text messages of ${n} B, each sent after the previous echo`,
      async (ep) => {
        const payload = stars(n);
        for (let k = 0; k < 200; k++) {
          ep.write(ep.build.text(payload));
          await expectEvents(ep, [text(payload)]);
        }
        await expectCleanClose(ep);
      },
    );
    serverCase(
      echo,
      `9.8.${i + 1}`,
      `200 binary messages of ${n} B in one write: 200 echoes in order`,
      async (ep) => {
        const payloads = Array.from({ length: 200 }, (_, k) => randomBytes(n, k + 1));
        ep.write(...payloads.map((p) => ep.build.binary(p)));
        await expectEventsThenClose(
          ep,
          payloads.map((p) => binary(p)),
          5000,
        );
      },
    );
  }
});

describe('9.9 --max-message 65536: the limit fails the connection with 1009 (RFC 6455 §7.4.1)', () => {
  const handle = useEchoServer(['--deflate', '--max-message', '65536']);
  serverCase(handle, '9.9.1', 'a binary message of exactly 65536 bytes is echoed', async (ep) => {
    const payload = randomBytes(65536, 991);
    ep.write(ep.build.binary(payload));
    await expectEventsThenClose(ep, [binary(payload)]);
  });
  serverCase(handle, '9.9.2', 'a binary frame of 65537 bytes: 1009', async (ep) => {
    ep.write(ep.build.binary(randomBytes(65537, 992)));
    await expectFailure(ep, [1009]);
  });
  serverCase(
    handle,
    '9.9.3',
    'a frame header announcing 16 MiB: 1009 before the payload arrives',
    async (ep) => {
      ep.write(ep.build.binary(new Uint8Array(0), { length: 16 * MB }));
      await expectFailure(ep, [1009]);
    },
  );
  serverCase(handle, '9.9.4', 'a text message of 65537 bytes in fragments of 1000: 1009', async (ep) => {
    ep.writeFrames(fragmented(ep, OP.TEXT, stars(65537), 1000));
    await expectFailure(ep, [1009]);
  });
  serverCase(
    handle,
    '9.9.5',
    'a compressed message inflating past the limit (1 MiB of zeros): 1009',
    async (ep) => {
      const compressed = deflateMessage(new Uint8Array(MB));
      ep.write(ep.build.binary(compressed, { rsv: RSV1 }));
      await expectFailure(ep, [1009]);
    },
    { extensions: 'permessage-deflate' },
  );
  serverCase(
    handle,
    '9.9.6',
    'a compressed message inflating to exactly the limit is echoed',
    async (ep) => {
      ep.allowedRsv = RSV1;
      ep.inflate = makeInflater(15, false);
      const payload = new Uint8Array(65536).fill(0x41);
      ep.write(ep.build.text(deflateMessage(payload), { rsv: RSV1 }));
      await expectEventsThenClose(ep, [text(payload)]);
    },
    { extensions: 'permessage-deflate' },
  );
});

describe('9.10 pipelined compressed messages (beyond Autobahn; product robustness, not an RFC rule)', () => {
  const offer = 'permessage-deflate; server_max_window_bits=8';
  serverCase(
    echo,
    '9.10.1',
    '8 compressed 1 MiB messages in one write, echoes uncompressed (window 8): all 8 echoed',
    async (ep, response) => {
      const agreement = checkDeflateResponse(offer, response.headers.get('sec-websocket-extensions'));
      assert.equal(typeof agreement, 'object', `offer not accepted: ${String(agreement)}`);
      const { serverMaxWindowBits, serverNoContextTakeover } = agreement as DeflateAgreement;
      ep.allowedRsv = RSV1;
      ep.inflate = makeInflater(serverMaxWindowBits, !serverNoContextTakeover);
      const payload = new Uint8Array(MB);
      const compressed = deflateMessage(payload);
      ep.write(...Array.from({ length: 8 }, () => ep.build.binary(compressed, { rsv: RSV1 })));
      await expectEventsThenClose(
        ep,
        Array.from({ length: 8 }, () => binary(payload)),
        WAIT,
      );
    },
    { extensions: offer, timeout: 30_000 },
  );
});
