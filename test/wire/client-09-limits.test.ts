/**
 * Autobahn category 9 in "fuzzing server" mode: the product's client receives and echoes large
 * messages (up to its 16 MiB default limit) in one frame, in many fragments and in small writes, intact;
 * a message over its `maxPayload` fails the connection with 1009 (RFC 6455 §7.4.1).
 */
import { describe } from 'node:test';
import {
  binary,
  clientCase,
  expectClientFailure,
  expectEvents,
  OP,
  randomBytes,
  serverClosesCleanly,
  text,
  useFuzzServer,
} from './wire-harness.js';

const fuzz = useFuzzServer();

const MB = 1024 * 1024;
const BIG = { timeout: 30_000 };
const WAIT = 20_000;

describe('9.1-9.6 large messages echoed by the client', () => {
  for (const [i, n] of [MB, 4 * MB, 16 * MB].entries()) {
    clientCase(
      fuzz,
      `9.1.${i + 3}`,
      `text of ${n / MB} MiB in one frame: echoed intact`,
      async (s) => {
        const payload = new Uint8Array(n).fill(0x2a);
        s.endpoint.write(s.endpoint.build.text(payload));
        await expectEvents(s.endpoint, [text(payload)], WAIT);
        await serverClosesCleanly(s);
      },
      BIG,
    );
    clientCase(
      fuzz,
      `9.2.${i + 3}`,
      `binary of ${n / MB} MiB in one frame: echoed intact`,
      async (s) => {
        const payload = randomBytes(n, 290 + i);
        s.endpoint.write(s.endpoint.build.binary(payload));
        await expectEvents(s.endpoint, [binary(payload)], WAIT);
        await serverClosesCleanly(s);
      },
      BIG,
    );
  }
  for (const [i, size] of [64, 1024, 65536].entries()) {
    clientCase(
      fuzz,
      `9.3.${i + 1}`,
      `text of 4 MiB in fragments of ${size} B: echoed intact`,
      async (s) => {
        const payload = new Uint8Array(4 * MB).fill(0x2a);
        s.endpoint.writeFrames(s.endpoint.build.fragmented(OP.TEXT, payload, [size]));
        await expectEvents(s.endpoint, [text(payload)], WAIT);
        await serverClosesCleanly(s);
      },
      BIG,
    );
  }
  clientCase(
    fuzz,
    '9.4.1',
    'binary of 16 MiB in fragments of 64 KiB: echoed intact',
    async (s) => {
      const payload = randomBytes(16 * MB, 941);
      s.endpoint.writeFrames(s.endpoint.build.fragmented(OP.BINARY, payload, [65536]));
      await expectEvents(s.endpoint, [binary(payload)], WAIT);
      await serverClosesCleanly(s);
    },
    BIG,
  );
  clientCase(
    fuzz,
    '9.5.1',
    'text of 1 MiB written in chops of 128 B: echoed intact',
    async (s) => {
      const payload = new Uint8Array(MB).fill(0x2a);
      await s.endpoint.writeChunked(s.endpoint.build.text(payload), 128);
      await expectEvents(s.endpoint, [text(payload)], WAIT);
      await serverClosesCleanly(s);
    },
    BIG,
  );
  clientCase(fuzz, '9.8.1', '200 binary messages of 4 KiB in one write: 200 echoes in order', async (s) => {
    const payloads = Array.from({ length: 200 }, (_, k) => randomBytes(4096, k + 1));
    s.endpoint.write(...payloads.map((p) => s.endpoint.build.binary(p)));
    await expectEvents(
      s.endpoint,
      payloads.map((p) => binary(p)),
      5000,
    );
    await serverClosesCleanly(s);
  });
});

describe('9.9 the client limit fails with 1009 (RFC 6455 §7.4.1)', () => {
  const limited = { client: { maxPayload: 65536 } };
  clientCase(
    fuzz,
    '9.9.1',
    'maxPayload 65536: a message of exactly 65536 bytes is echoed',
    async (s) => {
      const payload = randomBytes(65536, 991);
      s.endpoint.write(s.endpoint.build.binary(payload));
      await expectEvents(s.endpoint, [binary(payload)]);
      await serverClosesCleanly(s);
    },
    limited,
  );
  clientCase(
    fuzz,
    '9.9.2',
    'maxPayload 65536: a frame of 65537 bytes: 1009',
    async (s) => {
      s.endpoint.write(s.endpoint.build.binary(randomBytes(65537, 992)));
      await expectClientFailure(s, [1009]);
    },
    limited,
  );
  clientCase(
    fuzz,
    '9.9.3',
    'maxPayload 65536: 65537 bytes in fragments of 1000: 1009',
    async (s) => {
      s.endpoint.writeFrames(s.endpoint.build.fragmented(OP.TEXT, new Uint8Array(65537).fill(0x2a), [1000]));
      await expectClientFailure(s, [1009]);
    },
    limited,
  );
  clientCase(
    fuzz,
    '9.9.4',
    'default limit: a frame header announcing 16 MiB + 1 fails with 1009 at once',
    async (s) => {
      s.endpoint.write(s.endpoint.build.binary(new Uint8Array(0), { length: 16 * MB + 1 }));
      await expectClientFailure(s, [1009]);
    },
  );
});
