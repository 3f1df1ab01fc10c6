/**
 * Autobahn categories 3 (reserved bits) and 4 (reserved opcodes) over TCP against `conduit echo`,
 * connected without permessage-deflate so that no RSV bit is negotiated: a non-zero RSV bit or a
 * reserved opcode fails the connection with 1002 (RFC 6455 §5.2), after what came before it was handled.
 */
import { describe } from 'node:test';
import {
  expectEvents,
  expectFailure,
  OP,
  pong,
  RSV1,
  RSV2,
  RSV3,
  randomBytes,
  serverCase,
  text,
  useEchoServer,
} from './wire-harness.js';

const echo = useEchoServer();

describe('3 reserved bits (no extension negotiated)', () => {
  serverCase(echo, '3.1', 'text frame with RSV2 set fails with 1002 (RFC 6455 §5.2)', async (ep) => {
    ep.write(ep.build.text('Hello, world!', { rsv: RSV2 }));
    await expectFailure(ep, [1002]);
  });

  serverCase(echo, '3.2', 'text, then text with RSV3, then ping: first echoed, then 1002', async (ep) => {
    ep.write(ep.build.text('Hello, world!'), ep.build.text('Hello, world!', { rsv: RSV3 }), ep.build.ping());
    await expectEvents(ep, [text('Hello, world!')]);
    await expectFailure(ep, [1002]);
  });

  serverCase(echo, '3.3', 'as 3.2 but the frames are written one at a time', async (ep) => {
    ep.write(ep.build.text('Hello, world!'));
    await expectEvents(ep, [text('Hello, world!')]);
    ep.write(ep.build.text('Hello, world!', { rsv: RSV2 | RSV3 }));
    await expectFailure(ep, [1002]);
  });

  serverCase(echo, '3.4', 'as 3.2 with RSV1|RSV3 written in chops of 1 byte', async (ep) => {
    await ep.writeChunked(ep.build.text('Hello, world!'), 1);
    await expectEvents(ep, [text('Hello, world!')]);
    await ep.writeChunked(ep.build.text('Hello, world!', { rsv: RSV1 | RSV3 }), 1);
    await expectFailure(ep, [1002]);
  });

  serverCase(echo, '3.5', 'binary frame with RSV1|RSV3 fails with 1002', async (ep) => {
    ep.write(ep.build.binary(randomBytes(8, 35), { rsv: RSV1 | RSV3 }));
    await expectFailure(ep, [1002]);
  });

  serverCase(echo, '3.6', 'ping with RSV2|RSV3 fails with 1002', async (ep) => {
    ep.write(ep.build.ping('Hello, world!', { rsv: RSV2 | RSV3 }));
    await expectFailure(ep, [1002]);
  });

  serverCase(echo, '3.7', 'close with all RSV bits fails with 1002', async (ep) => {
    ep.write(ep.build.close(1000, '', { rsv: RSV1 | RSV2 | RSV3 }));
    await expectFailure(ep, [1002]);
  });

  serverCase(
    echo,
    '3.8',
    'text frame with RSV1 while permessage-deflate was not negotiated: 1002 (RFC 7692 §6)',
    async (ep) => {
      ep.write(ep.build.text('Hello, world!', { rsv: RSV1 }));
      await expectFailure(ep, [1002]);
    },
  );
});

describe('4 reserved opcodes', () => {
  for (const [i, opcode] of [3, 4, 5, 6, 7].entries()) {
    serverCase(
      echo,
      `4.1.${i + 1}`,
      `data opcode ${opcode}: text echoed first, then 1002 (RFC 6455 §5.2)`,
      async (ep) => {
        const payload = i % 2 === 0 ? new Uint8Array(0) : randomBytes(20, 40 + i);
        ep.write(ep.build.text('Hello, world!'), ep.build.raw({ opcode, payload }), ep.build.ping());
        await expectEvents(ep, [text('Hello, world!')]);
        await expectFailure(ep, [1002]);
      },
    );
  }

  for (const [i, opcode] of [0xb, 0xc, 0xd, 0xe, 0xf].entries()) {
    serverCase(
      echo,
      `4.2.${i + 1}`,
      `control opcode ${opcode}: text echoed first, then 1002 (RFC 6455 §5.2)`,
      async (ep) => {
        const payload = i % 2 === 0 ? new Uint8Array(0) : randomBytes(20, 50 + i);
        ep.write(ep.build.text('Hello, world!'), ep.build.raw({ opcode, payload }), ep.build.ping());
        await expectEvents(ep, [text('Hello, world!')]);
        await expectFailure(ep, [1002]);
      },
    );
  }

  serverCase(
    echo,
    '4.3.1',
    'ping, then opcode 0xb written one byte at a time: pong, then 1002',
    async (ep) => {
      ep.write(ep.build.ping('x'));
      await expectEvents(ep, [pong('x')]);
      await ep.writeChunked(ep.build.raw({ opcode: 0xb, payload: 'abc' }), 1);
      await expectFailure(ep, [1002]);
    },
  );

  serverCase(
    echo,
    '4.3.2',
    'a continuation frame with no message started fails with 1002 (RFC 6455 §5.4)',
    async (ep) => {
      ep.write(ep.build.raw({ opcode: OP.CONT, payload: 'orphan' }));
      await expectFailure(ep, [1002]);
    },
  );
});
