/**
 * Autobahn category 1 over TCP against `conduit echo`: text and binary messages of every length form
 * (RFC 6455 §5.2: 7-bit, 16-bit and 64-bit lengths), written in one TCP write and in chops, echoed with
 * the same type and payload, then a clean close.
 */
import { describe } from 'node:test';
import {
  binary,
  expectEventsThenClose,
  expectFailure,
  fromClient,
  joinBytes,
  randomBytes,
  serverCase,
  text,
  useEchoServer,
} from './wire-harness.js';

const echo = useEchoServer();

/** ASCII text of exactly `n` bytes ('*' as Autobahn uses). */
function stars(n: number): string {
  return '*'.repeat(n);
}

const LENGTHS = [0, 125, 126, 127, 128, 65535, 65536];

describe('1.1 text messages', () => {
  for (const [i, n] of LENGTHS.entries()) {
    serverCase(
      echo,
      `1.1.${i + 1}`,
      `text message of ${n} bytes is echoed (RFC 6455 §5.2, §5.6)`,
      async (ep) => {
        ep.write(ep.build.text(stars(n)));
        await expectEventsThenClose(ep, [text(stars(n))]);
      },
    );
  }
  serverCase(
    echo,
    '1.1.8',
    'text message of 65536 bytes written in chops of 997 bytes is echoed',
    async (ep) => {
      await ep.writeChunked(ep.build.text(stars(65536)), 997);
      await expectEventsThenClose(ep, [text(stars(65536))]);
    },
  );
});

describe('1.2 binary messages', () => {
  for (const [i, n] of LENGTHS.entries()) {
    serverCase(
      echo,
      `1.2.${i + 1}`,
      `binary message of ${n} bytes is echoed (RFC 6455 §5.2, §5.6)`,
      async (ep) => {
        const payload = randomBytes(n, 100 + i);
        ep.write(ep.build.binary(payload));
        await expectEventsThenClose(ep, [binary(payload)]);
      },
    );
  }
  serverCase(
    echo,
    '1.2.8',
    'binary message of 65536 bytes written in chops of 997 bytes is echoed',
    async (ep) => {
      const payload = randomBytes(65536, 9);
      await ep.writeChunked(ep.build.binary(payload), 997);
      await expectEventsThenClose(ep, [binary(payload)]);
    },
  );
});

describe('1.3 larger messages and odd write patterns (beyond Autobahn)', () => {
  serverCase(echo, '1.3.1', 'binary message of 2^20 bytes in one write is echoed', async (ep) => {
    const payload = randomBytes(1 << 20, 31);
    ep.write(ep.build.binary(payload));
    await expectEventsThenClose(ep, [binary(payload)], 5000);
  });
  serverCase(
    echo,
    '1.3.2',
    'text message of 2^20 bytes written in chops of 65536 bytes is echoed',
    async (ep) => {
      await ep.writeChunked(ep.build.text(stars(1 << 20)), 65536);
      await expectEventsThenClose(ep, [text(stars(1 << 20))], 5000);
    },
  );
  serverCase(
    echo,
    '1.3.3',
    'frames written one byte at a time: header and payload split everywhere',
    async (ep) => {
      const payload = randomBytes(300, 33);
      await ep.writeChunked(ep.build.binary(payload), 1);
      await expectEventsThenClose(ep, [binary(payload)]);
    },
  );
  serverCase(
    echo,
    '1.3.4',
    '100 messages of all three length forms in one write are echoed in order',
    async (ep) => {
      const sizes = Array.from({ length: 100 }, (_, i) => [3, 200, 70_000][i % 3]!);
      const payloads = sizes.map((n, i) => randomBytes(n, 1000 + i));
      ep.write(...payloads.map((p) => ep.build.binary(p)));
      await expectEventsThenClose(
        ep,
        payloads.map((p) => binary(p)),
        5000,
      );
    },
  );
  serverCase(
    echo,
    '1.3.5',
    'a 64-bit length with its most significant bit set fails with 1002 (RFC 6455 §5.2)',
    async (ep) => {
      ep.write(ep.build.binary(new Uint8Array(0), { lengthForm: 64, length: 0, lengthHigh: 0x80000000 }));
      await expectFailure(ep, [1002]);
    },
  );
  serverCase(echo, '1.3.6', 'an unmasked client frame fails with 1002 (RFC 6455 §5.1)', async (ep) => {
    ep.write(ep.build.text('unmasked', { mask: false }));
    await expectFailure(ep, [1002]);
  });
});

describe('1.4 frames in the same TCP write as the upgrade request', () => {
  serverCase(
    echo,
    '1.4.1',
    'a text frame and a ping sent with the request are handled after the 101: echo, pong',
    async (ep) => {
      await expectEventsThenClose(ep, [text('early bird'), { type: 'pong', payload: 'early ping' }]);
    },
    { early: joinBytes([fromClient.text('early bird'), fromClient.ping('early ping')]) },
  );
});
