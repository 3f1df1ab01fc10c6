/**
 * Autobahn category 12 over TCP against `conduit echo --deflate`: with Autobahn's default offer
 * (`permessage-deflate; client_no_context_takeover; client_max_window_bits`), compressed messages of
 * 16 B to 128 KiB, whole or auto-fragmented, text and binary, are echoed intact, and the echoes inflate
 * under the negotiated server parameters (RFC 7692 §7.2). Also: uncompressed messages in a compressed
 * session, and what must fail (RSV1 on a continuation or a control frame, corrupt deflate data).
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { type Batch, compressionCase, deflatedCase, MESSAGE_SIZES } from './wire-compression-case.js';
import { sampleJson } from './wire-deflate.js';
import {
  binary,
  deflateMessage,
  expectCleanClose,
  expectCloseFrame,
  expectEventsThenClose,
  expectFailure,
  hex,
  OP,
  RSV1,
  randomBytes,
  text,
  useEchoServer,
} from './wire-harness.js';

const echo = useEchoServer(['--deflate']);

const AUTOBAHN_OFFER = 'permessage-deflate; client_no_context_takeover; client_max_window_bits';
const COUNT = 10;

for (const [j, isBinary] of [false, true].entries()) {
  describe(`12.${j + 1} ${isBinary ? 'binary' : 'JSON text'} messages, Autobahn's default offer`, () => {
    for (const [i, [size, fragment]] of MESSAGE_SIZES.entries()) {
      const batch: Batch = { size, count: COUNT, fragment, binary: isBinary };
      const how = fragment > 0 ? `auto-fragmented to ${fragment} B` : 'one frame each';
      compressionCase(
        echo,
        `12.${j + 1}.${i + 1}`,
        `${COUNT} compressed messages of ${size} B, ${how}`,
        AUTOBAHN_OFFER,
        [batch],
      );
    }
  });
}

describe('12.3 other messages in a compressed session (RFC 7692 §6, §7.2)', () => {
  deflatedCase(
    echo,
    '12.3.1',
    'uncompressed messages (RSV1 clear) are echoed too',
    AUTOBAHN_OFFER,
    async (ep) => {
      const payload = sampleJson(4096, 7);
      ep.write(ep.build.text(payload), ep.build.binary(randomBytes(3000, 8)));
      await expectEventsThenClose(ep, [text(payload), binary(randomBytes(3000, 8))]);
    },
  );
  deflatedCase(
    echo,
    '12.3.2',
    'an empty compressed message (00) and a BFINAL one (RFC 7692 §7.2.3.4) are echoed',
    AUTOBAHN_OFFER,
    async (ep) => {
      const payload = sampleJson(2000, 9);
      ep.write(
        ep.build.text(hex('00'), { rsv: RSV1 }),
        ep.build.text(deflateMessage(payload, 15, true), { rsv: RSV1 }),
      );
      await expectEventsThenClose(ep, [text(''), text(payload)]);
    },
  );
  deflatedCase(
    echo,
    '12.3.3',
    'RSV1 on a continuation frame fails with 1002 (RFC 7692 §6.1)',
    AUTOBAHN_OFFER,
    async (ep) => {
      const compressed = deflateMessage(sampleJson(3000, 10));
      const cut = compressed.length >> 1;
      ep.write(
        ep.build.text(compressed.subarray(0, cut), { rsv: RSV1, fin: false }),
        ep.build.raw({ opcode: OP.CONT, payload: compressed.subarray(cut), rsv: RSV1 }),
      );
      await expectFailure(ep, [1002]);
    },
  );
  deflatedCase(
    echo,
    '12.3.4',
    'RSV1 on a ping fails with 1002 (RFC 7692 §6.1: control frames are not compressed)',
    AUTOBAHN_OFFER,
    async (ep) => {
      ep.write(ep.build.ping(deflateMessage(hex('01 02 03')), { rsv: RSV1 }));
      await expectFailure(ep, [1002]);
    },
  );
  deflatedCase(
    echo,
    '12.3.5',
    'corrupt deflate data fails the connection (1007, or 1002)',
    AUTOBAHN_OFFER,
    async (ep) => {
      ep.write(ep.build.binary(hex('ff ff ff ff ff ff'), { rsv: RSV1 }));
      await expectFailure(ep, [1007, 1002]);
    },
  );
  deflatedCase(
    echo,
    '12.3.6',
    'compressed text that inflates to invalid UTF-8 fails with 1007',
    AUTOBAHN_OFFER,
    async (ep) => {
      ep.write(ep.build.text(deflateMessage(hex('ce ba e1 bd ed a0 80 65')), { rsv: RSV1 }));
      await expectFailure(ep, [1007]);
    },
  );
  deflatedCase(
    echo,
    '12.3.7',
    'a compressed message with a ping between its fragments: pong, then echo',
    AUTOBAHN_OFFER,
    async (ep) => {
      const payload = sampleJson(5000, 11);
      const compressed = deflateMessage(payload);
      const cut = compressed.length >> 1;
      ep.write(
        ep.build.text(compressed.subarray(0, cut), { rsv: RSV1, fin: false }),
        ep.build.ping('between'),
        ep.build.cont(compressed.subarray(cut)),
      );
      await expectEventsThenClose(ep, [{ type: 'pong', payload: 'between' }, text(payload)]);
    },
  );
  deflatedCase(
    echo,
    '12.3.8',
    'a compressible 8 KiB echo comes back compressed (RSV1 set; product expectation, not an RFC rule)',
    AUTOBAHN_OFFER,
    async (ep) => {
      const payload = sampleJson(8192, 12);
      ep.write(ep.build.text(deflateMessage(payload), { rsv: RSV1 }));
      const event = await ep.nextEvent();
      assert.equal(event.type, 'message');
      assert.ok(
        event.type === 'message' && event.compressed,
        'a compressible 8 KiB echo went out uncompressed',
      );
      await expectCleanClose(ep);
    },
  );
});

describe('12.4 odd fragmentations of compressed messages', () => {
  deflatedCase(
    echo,
    '12.4.1',
    'compressed message whose first frame is empty (RSV1, no payload): echoed',
    AUTOBAHN_OFFER,
    async (ep) => {
      const payload = sampleJson(6000, 13);
      ep.write(
        ep.build.text(new Uint8Array(0), { rsv: RSV1, fin: false }),
        ep.build.cont(deflateMessage(payload)),
      );
      await expectEventsThenClose(ep, [text(payload)]);
    },
  );
  deflatedCase(
    echo,
    '12.4.2',
    'compressed 64 KiB message in 1-byte fragments: echoed',
    AUTOBAHN_OFFER,
    async (ep) => {
      const payload = sampleJson(65536, 14);
      ep.writeFrames(ep.build.fragmented(OP.TEXT, deflateMessage(payload), [1], { rsv: RSV1 }));
      await expectEventsThenClose(ep, [text(payload)], 5000);
    },
  );
  deflatedCase(
    echo,
    '12.4.3',
    'close between the fragments of a compressed message: close echoed, no message',
    AUTOBAHN_OFFER,
    async (ep) => {
      const compressed = deflateMessage(sampleJson(6000, 15));
      ep.write(
        ep.build.text(compressed.subarray(0, 100), { rsv: RSV1, fin: false }),
        ep.build.close(1000),
        ep.build.cont(compressed.subarray(100)),
      );
      await expectCloseFrame(ep, [1000]);
      assert.ok(await ep.waitTcpClosed(), 'TCP closed after the handshake');
    },
  );
});
