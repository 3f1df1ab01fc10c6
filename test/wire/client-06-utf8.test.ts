/**
 * Autobahn category 6 in "fuzzing server" mode: the product's client echoes valid UTF-8 text however
 * it is fragmented, fails the connection with 1007 on invalid UTF-8 (RFC 6455 §8.1), and fails fast:
 * the close arrives right after the frame or write that made the text invalid (6.4.x).
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { KOSME, UTF8_VECTORS } from '../conformance/utf8-vectors.js';
import type { FuzzSession } from './wire-harness.js';
import {
  clientCase,
  concat,
  expectClientFailure,
  expectCloseFrame,
  expectEvents,
  expectSilence,
  hex,
  OP,
  serverClosesCleanly,
  text,
  useFuzzServer,
  utf8,
  type WireEndpoint,
} from './wire-harness.js';

const fuzz = useFuzzServer();

const PAUSE_MS = 300;

function byteFragments(ep: WireEndpoint, bytes: Uint8Array): Uint8Array[] {
  if (bytes.length === 0) return [ep.build.text(bytes)];
  return Array.from(bytes, (_, i) =>
    ep.build.raw({
      opcode: i === 0 ? OP.TEXT : OP.CONT,
      payload: bytes.subarray(i, i + 1),
      fin: i === bytes.length - 1,
    }),
  );
}

/** Three parts with pauses: silence after the first, the 1007 close after the second, before the third. */
async function failFast(s: FuzzSession, parts: Uint8Array[]): Promise<void> {
  const ep = s.endpoint;
  ep.write(parts[0]!);
  await expectSilence(ep, PAUSE_MS, 'after the valid first part');
  ep.write(parts[1]!);
  try {
    await expectCloseFrame(ep, [1007], PAUSE_MS);
  } catch (error) {
    ep.write(parts[2]!);
    assert.fail(`not fail-fast: ${(error as Error).message}`);
  }
  ep.write(ep.build.close(1007));
  ep.end();
  const event = await s.app.waitClosed();
  assert.equal(event.code, 1006, 'a failed connection reports 1006');
}

describe('6.1-6.4 text validity and fail-fast', () => {
  const hello = 'Hello-µ@ßöäüàá-UTF-8!!';
  clientCase(fuzz, '6.1.2', 'three empty fragments: one empty text echoed', async (s) => {
    const b = s.endpoint.build;
    s.endpoint.write(b.text('', { fin: false }), b.cont('', { fin: false }), b.cont(''));
    await expectEvents(s.endpoint, [text('')]);
    await serverClosesCleanly(s);
  });
  clientCase(fuzz, '6.2.3', `"${hello}" in 1-byte fragments: echoed`, async (s) => {
    s.endpoint.write(...byteFragments(s.endpoint, utf8(hello)));
    await expectEvents(s.endpoint, [text(hello)]);
    await serverClosesCleanly(s);
  });
  clientCase(fuzz, '6.3.1', 'κόσμε + a surrogate + "edited" in one frame: 1007', async (s) => {
    s.endpoint.write(s.endpoint.build.text(concat(KOSME, hex('ed a0 80'), utf8('edited'))));
    await expectClientFailure(s, [1007]);
  });
  const part2 = hex('f4 90 80 80');
  clientCase(fuzz, '6.4.1', '3 frames, the 2nd holds f4 90 80 80: 1007 right after frame 2', async (s) => {
    const b = s.endpoint.build;
    await failFast(s, [b.text(KOSME, { fin: false }), b.cont(part2, { fin: false }), b.cont('edited')]);
  });
  clientCase(
    fuzz,
    '6.4.3',
    '1 frame in 3 writes, the 2nd holds f4 90 80 80: 1007 right after write 2',
    async (s) => {
      const payload = concat(KOSME, part2, utf8('edited'));
      const frame = s.endpoint.build.text(payload);
      const cut1 = frame.length - payload.length + KOSME.length;
      await failFast(s, [frame.subarray(0, cut1), frame.subarray(cut1, cut1 + 4), frame.subarray(cut1 + 4)]);
    },
  );
  clientCase(
    fuzz,
    '6.4.4',
    '1 frame in 3 writes, the 2nd holds only the byte 90: 1007 right after write 2',
    async (s) => {
      const payload = concat(KOSME, part2, utf8('edited'));
      const frame = s.endpoint.build.text(payload);
      const cut = frame.length - payload.length + 12;
      await failFast(s, [frame.subarray(0, cut), frame.subarray(cut, cut + 1), frame.subarray(cut + 1)]);
    },
  );
});

describe('6.5-6.23 UTF-8 decoder stress vectors in one frame', () => {
  for (const vector of UTF8_VECTORS) {
    clientCase(fuzz, vector.id, `${vector.name}: ${vector.valid ? 'echoed' : '1007'}`, async (s) => {
      s.endpoint.write(s.endpoint.build.text(vector.bytes));
      if (!vector.valid) return expectClientFailure(s, [1007]);
      await expectEvents(s.endpoint, [text(vector.bytes)]);
      await serverClosesCleanly(s);
    });
  }
});
