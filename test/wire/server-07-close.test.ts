/**
 * Autobahn category 7 over TCP against `conduit echo`: the closing handshake (RFC 6455 §5.5.1, §7).
 * A valid close is echoed with its status code and the server then closes TCP (§7.1.1); nothing is
 * processed after the close; malformed close payloads, codes a peer may not send (§7.4) and reasons
 * that are not UTF-8 fail the connection (1002, 1007).
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import {
  assertNoViolations,
  binary,
  expectCleanClose,
  expectCloseFrame,
  expectEvents,
  expectFailure,
  hex,
  INVALID_CLOSE_CODES,
  randomBytes,
  serverCase,
  TCP_CLOSE_MS,
  text,
  useEchoServer,
  VALID_CLOSE_CODES,
  type WireEndpoint,
} from './wire-harness.js';

const echo = useEchoServer();

/** Our close went out first: the server must echo one of `codes`, send nothing else, and close TCP. */
async function expectEchoThenTcpClose(ep: WireEndpoint, codes: number[]): Promise<void> {
  await expectCloseFrame(ep, codes);
  assert.ok(await ep.waitTcpClosed(TCP_CLOSE_MS), `the server did not close TCP within ${TCP_CLOSE_MS} ms`);
  const extra = await ep.framesWithin(50);
  assert.deepEqual(
    extra.map((f) => f.opcode),
    [],
    'nothing after the close frame (RFC 6455 §5.5.1)',
  );
  assertNoViolations(ep);
}

describe('7.1 basic closing handshake', () => {
  serverCase(
    echo,
    '7.1.1',
    'text message, then close 1000: echo, then close 1000 echoed, then TCP closed',
    async (ep) => {
      ep.write(ep.build.text('Hello World!'));
      await expectEvents(ep, [text('Hello World!')]);
      await expectCleanClose(ep, 1000);
    },
  );
  serverCase(echo, '7.1.2', 'two close frames: one close echoed, TCP closed', async (ep) => {
    ep.write(ep.build.close(1000), ep.build.close(1000));
    await expectEchoThenTcpClose(ep, [1000]);
  });
  serverCase(echo, '7.1.3', 'close, then ping: no pong (RFC 6455 §5.5.1)', async (ep) => {
    ep.write(ep.build.close(1000), ep.build.ping('Hello World!'));
    await expectEchoThenTcpClose(ep, [1000]);
  });
  serverCase(echo, '7.1.4', 'close, then text: not echoed (RFC 6455 §5.5.1)', async (ep) => {
    ep.write(ep.build.close(1000), ep.build.text('Hello World!'));
    await expectEchoThenTcpClose(ep, [1000]);
  });
  serverCase(echo, '7.1.5', 'first fragment, close, last fragment: only the close echoed', async (ep) => {
    ep.write(ep.build.text('fragment1', { fin: false }), ep.build.close(1000), ep.build.cont('fragment2'));
    await expectEchoThenTcpClose(ep, [1000]);
  });
  serverCase(
    echo,
    '7.1.6',
    '256 KiB binary, close, ping in one write: echo, close echoed, no pong',
    async (ep) => {
      const big = randomBytes(256 * 1024, 716);
      ep.write(ep.build.binary(big), ep.build.close(1000), ep.build.ping('Hello World!'));
      await expectEvents(ep, [binary(big)]);
      await expectEchoThenTcpClose(ep, [1000]);
    },
  );
  serverCase(echo, '7.1.7', 'close written in chops of 1 byte: echoed, TCP closed', async (ep) => {
    await ep.writeChunked(ep.build.close(1000, 'bye'), 1, 5);
    await expectEchoThenTcpClose(ep, [1000]);
  });
});

describe('7.3 close frame payloads', () => {
  serverCase(
    echo,
    '7.3.1',
    'close without payload: answered with an empty close (or 1000), TCP closed',
    async (ep) => {
      ep.write(ep.build.close());
      await expectEchoThenTcpClose(ep, [1005, 1000]);
    },
  );
  serverCase(echo, '7.3.2', 'close with a 1-byte payload fails with 1002 (RFC 6455 §5.5.1)', async (ep) => {
    ep.write(ep.build.raw({ opcode: 0x8, payload: hex('03') }));
    await expectFailure(ep, [1002]);
  });
  serverCase(echo, '7.3.3', 'close 1000 without reason: 1000 echoed', async (ep) => {
    await expectCleanClose(ep, 1000);
  });
  serverCase(echo, '7.3.4', 'close 1000 with reason "Hello World!": 1000 echoed', async (ep) => {
    ep.write(ep.build.close(1000, 'Hello World!'));
    await expectEchoThenTcpClose(ep, [1000]);
  });
  serverCase(echo, '7.3.5', 'close 1000 with a 123-byte reason (payload 125): 1000 echoed', async (ep) => {
    ep.write(ep.build.close(1000, '*'.repeat(123)));
    await expectEchoThenTcpClose(ep, [1000]);
  });
  serverCase(
    echo,
    '7.3.6',
    'close 1000 with a 124-byte reason (payload 126) fails with 1002 (RFC 6455 §5.5)',
    async (ep) => {
      ep.write(ep.build.close(1000, '*'.repeat(124)));
      await expectFailure(ep, [1002]);
    },
  );
  serverCase(
    echo,
    '7.5.1',
    'close 1000 with a reason that is not UTF-8 fails with 1007 (RFC 6455 §5.5.1, §8.1)',
    async (ep) => {
      ep.write(ep.build.close(1000, hex('ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80 65 64 69 74 65 64')));
      await expectFailure(ep, [1007]);
    },
  );
  serverCase(
    echo,
    '7.5.2',
    'close 1000 with a reason ending inside a character fails with 1007',
    async (ep) => {
      ep.write(ep.build.close(1000, hex('48 69 e2 82')));
      await expectFailure(ep, [1007]);
    },
  );
});

describe('7.7 valid close codes are echoed', () => {
  for (const [i, code] of VALID_CLOSE_CODES.entries()) {
    serverCase(
      echo,
      `7.7.${i + 1}`,
      `close ${code}: ${code} echoed, TCP closed (RFC 6455 §5.5.1, §7.4)`,
      async (ep) => {
        ep.write(ep.build.close(code));
        await expectEchoThenTcpClose(ep, [code]);
      },
    );
  }
});

describe('7.9 invalid close codes fail with 1002', () => {
  for (const [i, code] of INVALID_CLOSE_CODES.entries()) {
    serverCase(echo, `7.9.${i + 1}`, `close ${code}: 1002 (RFC 6455 §7.4)`, async (ep) => {
      ep.write(ep.build.close(code));
      await expectFailure(ep, [1002]);
    });
  }
});
