/**
 * Autobahn category 7 in "fuzzing server" mode: the closing handshake seen from the product's client.
 * It echoes a valid close code (RFC 6455 §5.5.1) and never sends 1005, 1006 or 1015 (§7.4.1); it
 * processes nothing after a close; it waits for the server to close TCP (§7.1.1) but closes it itself
 * after its close timeout; malformed closes fail with 1002 or 1007; its close event says what happened.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FuzzSession } from './wire-harness.js';
import {
  assertNoViolations,
  clientCase,
  expectClientFailure,
  expectCloseFrame,
  expectEvents,
  hex,
  INVALID_CLOSE_CODES,
  serverClosesCleanly,
  text,
  useFuzzServer,
  VALID_CLOSE_CODES,
} from './wire-harness.js';

const fuzz = useFuzzServer();

/** The client answered our close: it must send nothing more; we close TCP; the event reports `code`. */
async function expectAnsweredClose(
  s: FuzzSession,
  echoed: number[],
  reported: number,
  reason = '',
): Promise<void> {
  await expectCloseFrame(s.endpoint, echoed);
  const extra = await s.endpoint.framesWithin(50);
  assert.deepEqual(
    extra.map((f) => f.opcode),
    [],
    'nothing after the close frame (RFC 6455 §5.5.1)',
  );
  assert.ok(!s.endpoint.tcpClosed, 'the client closed TCP before the server did (RFC 6455 §7.1.1)');
  s.endpoint.end();
  const event = await s.app.waitClosed();
  assert.deepEqual(
    { code: event.code, reason: event.reason, wasClean: event.wasClean },
    { code: reported, reason, wasClean: true },
  );
  assertNoViolations(s.endpoint);
}

describe('7.1 basic closing handshake', () => {
  clientCase(fuzz, '7.1.1', 'text, then close 1000: echo, then close 1000 echoed, clean', async (s) => {
    s.endpoint.write(s.endpoint.build.text('Hello World!'));
    await expectEvents(s.endpoint, [text('Hello World!')]);
    await serverClosesCleanly(s);
  });
  clientCase(fuzz, '7.1.2', 'two close frames: one close answered', async (s) => {
    s.endpoint.write(s.endpoint.build.close(1000), s.endpoint.build.close(1000));
    await expectAnsweredClose(s, [1000], 1000);
  });
  clientCase(fuzz, '7.1.3', 'close, then ping: no pong', async (s) => {
    s.endpoint.write(s.endpoint.build.close(1000), s.endpoint.build.ping('Hello World!'));
    await expectAnsweredClose(s, [1000], 1000);
  });
  clientCase(fuzz, '7.1.4', 'close, then text: not echoed', async (s) => {
    s.endpoint.write(s.endpoint.build.close(1000), s.endpoint.build.text('Hello World!'));
    await expectAnsweredClose(s, [1000], 1000);
    assert.deepEqual(s.app.received, [], 'no message event after the close');
  });
  clientCase(fuzz, '7.1.5', 'first fragment, close, last fragment: only the close answered', async (s) => {
    const b = s.endpoint.build;
    s.endpoint.write(b.text('fragment1', { fin: false }), b.close(1000), b.cont('fragment2'));
    await expectAnsweredClose(s, [1000], 1000);
  });
});

describe('7.3-7.5 close payloads', () => {
  clientCase(
    fuzz,
    '7.3.1',
    'empty close: answered empty (or 1000), never 1005; event reports 1005',
    async (s) => {
      s.endpoint.write(s.endpoint.build.close());
      await expectAnsweredClose(s, [1005, 1000], 1005);
    },
  );
  clientCase(fuzz, '7.3.2', 'close with a 1-byte payload: 1002', async (s) => {
    s.endpoint.write(s.endpoint.build.raw({ opcode: 0x8, payload: hex('03') }));
    await expectClientFailure(s, [1002]);
  });
  clientCase(fuzz, '7.3.4', 'close 1000 "Hello World!": 1000 echoed, reason reported', async (s) => {
    s.endpoint.write(s.endpoint.build.close(1000, 'Hello World!'));
    await expectAnsweredClose(s, [1000], 1000, 'Hello World!');
  });
  clientCase(fuzz, '7.3.5', 'close 1000 with a 123-byte reason: 1000 echoed', async (s) => {
    s.endpoint.write(s.endpoint.build.close(1000, '*'.repeat(123)));
    await expectAnsweredClose(s, [1000], 1000, '*'.repeat(123));
  });
  clientCase(fuzz, '7.3.6', 'close with a 124-byte reason: 1002', async (s) => {
    s.endpoint.write(s.endpoint.build.close(1000, '*'.repeat(124)));
    await expectClientFailure(s, [1002]);
  });
  clientCase(fuzz, '7.5.1', 'close reason that is not UTF-8: 1007', async (s) => {
    s.endpoint.write(
      s.endpoint.build.close(1000, hex('ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80 65 64 69 74 65 64')),
    );
    await expectClientFailure(s, [1007]);
  });
});

describe('7.7 / 7.9 close codes', () => {
  for (const [i, code] of VALID_CLOSE_CODES.entries()) {
    clientCase(fuzz, `7.7.${i + 1}`, `close ${code}: echoed, reported`, async (s) => {
      s.endpoint.write(s.endpoint.build.close(code));
      await expectAnsweredClose(s, [code], code);
    });
  }
  for (const [i, code] of INVALID_CLOSE_CODES.entries()) {
    clientCase(fuzz, `7.9.${i + 1}`, `close ${code}: 1002`, async (s) => {
      s.endpoint.write(s.endpoint.build.close(code));
      await expectClientFailure(s, [1002]);
    });
  }
});

describe('7.10-7.13 who closes, and timeouts', () => {
  clientCase(
    fuzz,
    '7.10.1',
    'ws.close(3000, "bye"): close 3000 "bye" sent; after our echo and TCP close, clean 3000',
    async (s) => {
      s.app.ws.close(3000, 'bye');
      const frame = await s.endpoint.nextFrame();
      assert.equal(frame?.opcode, 0x8, 'a close frame');
      assert.deepEqual([...frame!.payload], [0x0b, 0xb8, 0x62, 0x79, 0x65], 'code 3000 and reason "bye"');
      s.endpoint.write(s.endpoint.build.close(3000));
      await sleep(50);
      s.endpoint.end();
      const event = await s.app.waitClosed();
      assert.deepEqual({ code: event.code, wasClean: event.wasClean }, { code: 3000, wasClean: true });
    },
  );
  clientCase(
    fuzz,
    '7.11.1',
    'ws.close() and the server never answers: the client closes TCP after its close timeout',
    async (s) => {
      s.app.ws.close(1000);
      await expectCloseFrame(s.endpoint, [1000]);
      assert.ok(
        await s.endpoint.waitTcpClosed(2000),
        'the client did not give up within its 500 ms close timeout (+1.5 s)',
      );
      const event = await s.app.waitClosed();
      assert.deepEqual({ code: event.code, wasClean: event.wasClean }, { code: 1006, wasClean: false });
    },
    { client: { closeTimeout: 500 } },
  );
  clientCase(
    fuzz,
    '7.12.1',
    'our close is echoed but we keep TCP open: the client closes it after its timeout, clean',
    async (s) => {
      s.endpoint.write(s.endpoint.build.close(1000));
      await expectCloseFrame(s.endpoint, [1000]);
      assert.ok(
        await s.endpoint.waitTcpClosed(2000),
        'the client did not close TCP after its 500 ms close timeout',
      );
      const event = await s.app.waitClosed();
      assert.deepEqual({ code: event.code, wasClean: event.wasClean }, { code: 1000, wasClean: true });
    },
    { client: { closeTimeout: 500 } },
  );
  clientCase(
    fuzz,
    '7.13.1',
    'the server drops TCP without a close: event 1006, not clean, nothing sent',
    async (s) => {
      s.endpoint.destroy();
      const event = await s.app.waitClosed();
      assert.deepEqual({ code: event.code, wasClean: event.wasClean }, { code: 1006, wasClean: false });
    },
  );
  clientCase(
    fuzz,
    '7.13.2',
    'the server half-closes (FIN) without a close frame: the client closes too, event 1006',
    async (s) => {
      s.endpoint.end();
      const event = await s.app.waitClosed();
      assert.deepEqual({ code: event.code, wasClean: event.wasClean }, { code: 1006, wasClean: false });
      const frames = await s.endpoint.framesWithin(50);
      assert.deepEqual(
        frames.filter(
          (f) =>
            f.opcode === 0x8 &&
            f.payload.length >= 2 &&
            [1005, 1006, 1015].includes((f.payload[0]! << 8) | f.payload[1]!),
        ),
        [],
        'never 1005/1006/1015 on the wire',
      );
    },
  );
});
