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
  byteFragments,
  clientCase,
  concat,
  cutPayload,
  expectClientFailure,
  expectCloseFrame,
  expectEvents,
  expectSilence,
  FAIL_FAST_TEXT,
  hex,
  ONE_FRAME_CUTS,
  PAUSE_MS,
  serverClosesCleanly,
  text,
  useFuzzServer,
  utf8,
} from './wire-harness.js';

const fuzz = useFuzzServer();

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
  for (const { id, title, offsets } of ONE_FRAME_CUTS) {
    clientCase(fuzz, id, title, async (s) => {
      await failFast(s, cutPayload(s.endpoint.build.text(FAIL_FAST_TEXT), FAIL_FAST_TEXT.length, offsets));
    });
  }
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
