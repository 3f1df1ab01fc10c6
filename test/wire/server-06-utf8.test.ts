/**
 * Autobahn category 6 over TCP against `conduit echo`: valid UTF-8 text is echoed however it is
 * fragmented, invalid UTF-8 fails the connection with 1007 (RFC 6455 §8.1), and it fails fast: the close
 * arrives right after the write that made the text invalid, while the rest is still held back (6.4.x).
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KOSME, UTF8_VECTORS } from '../conformance/utf8-vectors.js';
import {
  byteFragments,
  concat,
  cutPayload,
  expectCleanClose,
  expectCloseFrame,
  expectEvents,
  expectEventsThenClose,
  expectFailure,
  expectSilence,
  FAIL_FAST_TEXT,
  finishClose,
  hex,
  ONE_FRAME_CUTS,
  PAUSE_MS,
  serverCase,
  text,
  useEchoServer,
  utf8,
  type WireEndpoint,
} from './wire-harness.js';

const echo = useEchoServer();

describe('6.1-6.3 empty, valid and invalid text', () => {
  serverCase(echo, '6.1.1', 'empty text frame: empty text echoed', async (ep) => {
    ep.write(ep.build.text(''));
    await expectEventsThenClose(ep, [text('')]);
  });
  serverCase(echo, '6.1.2', 'three empty fragments: one empty text echoed (RFC 6455 §5.4)', async (ep) => {
    ep.write(ep.build.text('', { fin: false }), ep.build.cont('', { fin: false }), ep.build.cont(''));
    await expectEventsThenClose(ep, [text('')]);
  });
  serverCase(echo, '6.1.3', 'empty, "middle frame payload", empty fragments: echoed', async (ep) => {
    ep.write(
      ep.build.text('', { fin: false }),
      ep.build.cont('middle frame payload', { fin: false }),
      ep.build.cont(''),
    );
    await expectEventsThenClose(ep, [text('middle frame payload')]);
  });
  const hello = 'Hello-µ@ßöäüàá-UTF-8!!';
  serverCase(echo, '6.2.1', `"${hello}" in one frame: echoed`, async (ep) => {
    ep.write(ep.build.text(hello));
    await expectEventsThenClose(ep, [text(hello)]);
  });
  serverCase(echo, '6.2.2', 'the same in 2 fragments split on a code point boundary', async (ep) => {
    const bytes = utf8(hello);
    ep.write(ep.build.text(bytes.subarray(0, 12), { fin: false }), ep.build.cont(bytes.subarray(12)));
    await expectEventsThenClose(ep, [text(hello)]);
  });
  serverCase(echo, '6.2.3', 'the same in 1-byte fragments (cuts inside characters)', async (ep) => {
    ep.write(...byteFragments(ep, utf8(hello)));
    await expectEventsThenClose(ep, [text(hello)]);
  });
  serverCase(echo, '6.2.4', 'κόσμε in 1-byte fragments', async (ep) => {
    ep.write(...byteFragments(ep, KOSME));
    await expectEventsThenClose(ep, [text(KOSME)]);
  });
  const invalid = concat(KOSME, hex('ed a0 80'), utf8('edited'));
  serverCase(
    echo,
    '6.3.1',
    'κόσμε + a surrogate (ed a0 80) + "edited" in one frame: 1007 (RFC 6455 §8.1)',
    async (ep) => {
      ep.write(ep.build.text(invalid));
      await expectFailure(ep, [1007]);
    },
  );
  serverCase(echo, '6.3.2', 'the same in 1-byte fragments: 1007', async (ep) => {
    ep.write(...byteFragments(ep, invalid));
    await expectFailure(ep, [1007]);
  });
});

/**
 * Writes three parts with pauses, the way Autobahn's 6.4.x cases do: nothing may come back after the
 * valid first part; the 1007 close must come after the second part and before the third is written.
 */
async function failFast(ep: WireEndpoint, parts: Uint8Array[]): Promise<void> {
  ep.write(parts[0]!);
  await expectSilence(ep, PAUSE_MS, 'after the valid first part');
  ep.write(parts[1]!);
  let code: number;
  try {
    code = await expectCloseFrame(ep, [1007], PAUSE_MS);
  } catch (error) {
    // Autobahn's NON-STRICT: the close came late (or never); tell which, then fail the case.
    ep.write(parts[2]!);
    const late = await expectCloseFrame(ep, [1007], 1000).then(
      () => 'the 1007 close came only after the rest of the message (not fail-fast)',
      () => 'no 1007 close even after the rest of the message',
    );
    assert.fail(`${late}: ${(error as Error).message}`);
  }
  await finishClose(ep, code);
}

describe('6.4 fail fast on invalid UTF-8 (writes with pauses between them)', () => {
  const part1 = KOSME;
  const part2 = hex('f4 90 80 80'); // U+110000 in the UTF-8 scheme: out of range
  const part3 = utf8('edited');
  serverCase(echo, '6.4.1', '3 frames, the 2nd holds f4 90 80 80: 1007 right after frame 2', async (ep) => {
    await failFast(ep, [
      ep.build.text(part1, { fin: false }),
      ep.build.cont(part2, { fin: false }),
      ep.build.cont(part3),
    ]);
  });
  serverCase(
    echo,
    '6.4.2',
    '3 frames, the 2nd holds only the byte 90 (after f4): 1007 right after frame 2',
    async (ep) => {
      const whole = concat(part1, part2, part3);
      const frames = [
        ep.build.text(whole.subarray(0, 12), { fin: false }),
        ep.build.cont(whole.subarray(12, 13), { fin: false }),
        ep.build.cont(whole.subarray(13)),
      ];
      await failFast(ep, frames);
    },
  );
  for (const { id, title, offsets } of ONE_FRAME_CUTS) {
    serverCase(echo, id, title, async (ep) => {
      await failFast(ep, cutPayload(ep.build.text(FAIL_FAST_TEXT), FAIL_FAST_TEXT.length, offsets));
    });
  }
  serverCase(
    echo,
    '6.4.5',
    'a 1 MiB text frame with ff at byte 500 fails on the write holding it, long before the end',
    async (ep) => {
      const payload = new Uint8Array(1 << 20).fill(0x61);
      payload[500] = 0xff;
      await failFast(ep, cutPayload(ep.build.text(payload), payload.length, [400, 1400]));
    },
  );
  serverCase(
    echo,
    '6.4.6',
    'text whose last fragment ends inside a character fails when that fragment arrives',
    async (ep) => {
      ep.write(ep.build.text(KOSME, { fin: false }));
      await expectSilence(ep, 100, 'after the valid first fragment');
      ep.write(ep.build.cont(hex('e2 82')));
      await expectFailure(ep, [1007]);
    },
  );
  serverCase(
    echo,
    '6.4.7',
    'a text fragment ending inside a character is still fine before the last one',
    async (ep) => {
      ep.write(ep.build.text(hex('e2 82'), { fin: false }));
      await expectSilence(ep, 100, 'after a fragment ending inside a character');
      ep.write(ep.build.cont(hex('ac')));
      await expectEventsThenClose(ep, [text('€')]);
    },
  );
});

describe('6.5-6.23 UTF-8 decoder stress vectors, one frame and 1-byte fragments', () => {
  for (const vector of UTF8_VECTORS) {
    const outcome = vector.valid ? 'echoed' : '1007';
    serverCase(echo, `${vector.id}a`, `${vector.name} in one frame: ${outcome}`, async (ep) => {
      ep.write(ep.build.text(vector.bytes));
      if (!vector.valid) return expectFailure(ep, [1007]);
      await expectEventsThenClose(ep, [text(vector.bytes)]);
    });
    serverCase(echo, `${vector.id}b`, `${vector.name} in 1-byte fragments: ${outcome}`, async (ep) => {
      ep.write(...byteFragments(ep, vector.bytes));
      if (!vector.valid) return expectFailure(ep, [1007]);
      await expectEventsThenClose(ep, [text(vector.bytes)]);
    });
  }
});

describe('6.x binary is not UTF-8', () => {
  serverCase(
    echo,
    '6.24.1',
    'invalid UTF-8 sent as binary is echoed as it is (RFC 6455 §5.6)',
    async (ep) => {
      const bytes = hex('ff fe c0 80 ed a0 80 f4 90 80 80');
      ep.write(ep.build.binary(bytes));
      await expectEvents(ep, [{ type: 'binary', payload: bytes }]);
      await sleep(0);
      await expectCleanClose(ep);
    },
  );
});
