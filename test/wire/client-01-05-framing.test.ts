/**
 * Autobahn categories 1–5 in "fuzzing server" mode: our raw server sends crafted unmasked frames to the
 * product's client `WebSocket` (inside an app that echoes every message) and judges what the client
 * writes back: echoes with the same type and payload, masked (RFC 6455 §5.3); pongs for pings (§5.5.2);
 * a close with 1002 for RSV bits, reserved opcodes, bad fragmentation, oversized or fragmented control
 * frames and masked server frames (§5.1); and the TCP close left to the server.
 */

import { describe } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FuzzSession } from './wire-harness.js';
import {
  binary,
  clientCase,
  expectClientFailure,
  expectEvents,
  expectSilence,
  fromServer,
  joinBytes,
  OP,
  pong,
  RSV1,
  RSV2,
  RSV3,
  randomBytes,
  serverClosesCleanly,
  text,
  useFuzzServer,
} from './wire-harness.js';

const fuzz = useFuzzServer();

const LENGTHS = [0, 125, 126, 127, 128, 65535, 65536];

describe('1 framing: every length form is echoed', () => {
  for (const [i, n] of LENGTHS.entries()) {
    clientCase(
      fuzz,
      `1.1.${i + 1}`,
      `text of ${n} bytes: echoed, masked (RFC 6455 §5.2, §5.3)`,
      async (s) => {
        s.endpoint.write(s.endpoint.build.text('*'.repeat(n)));
        await expectEvents(s.endpoint, [text('*'.repeat(n))]);
        await serverClosesCleanly(s);
      },
    );
    clientCase(fuzz, `1.2.${i + 1}`, `binary of ${n} bytes: echoed, masked`, async (s) => {
      const payload = randomBytes(n, 120 + i);
      s.endpoint.write(s.endpoint.build.binary(payload));
      await expectEvents(s.endpoint, [binary(payload)]);
      await serverClosesCleanly(s);
    });
  }
  clientCase(fuzz, '1.1.8', 'text of 65536 bytes written in chops of 997: echoed', async (s) => {
    await s.endpoint.writeChunked(s.endpoint.build.text('*'.repeat(65536)), 997);
    await expectEvents(s.endpoint, [text('*'.repeat(65536))]);
    await serverClosesCleanly(s);
  });
  clientCase(fuzz, '1.3.1', 'binary of 2^20 bytes: echoed intact', async (s) => {
    const payload = randomBytes(1 << 20, 131);
    s.endpoint.write(s.endpoint.build.binary(payload));
    await expectEvents(s.endpoint, [binary(payload)], 5000);
    await serverClosesCleanly(s);
  });
  clientCase(fuzz, '1.3.2', 'a masked frame from the server fails with 1002 (RFC 6455 §5.1)', async (s) => {
    s.endpoint.write(s.endpoint.build.text('masked', { mask: true }));
    await expectClientFailure(s, [1002]);
  });
});

describe('2 pings and pongs', () => {
  const pings: [string, Uint8Array | string][] = [
    ['2.1', ''],
    ['2.2', 'Hello, world!'],
    ['2.3', Uint8Array.of(0, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0, 0xff)],
    ['2.4', randomBytes(125, 24)],
  ];
  for (const [id, payload] of pings) {
    clientCase(
      fuzz,
      id,
      `ping of ${payload.length} bytes: pong with the same payload (RFC 6455 §5.5.2)`,
      async (s) => {
        s.endpoint.write(s.endpoint.build.ping(payload));
        await expectEvents(s.endpoint, [pong(payload)]);
        await serverClosesCleanly(s);
      },
    );
  }
  clientCase(fuzz, '2.5', 'ping of 126 bytes fails with 1002 (RFC 6455 §5.5)', async (s) => {
    s.endpoint.write(s.endpoint.build.ping(randomBytes(126, 25)));
    await expectClientFailure(s, [1002]);
  });
  clientCase(fuzz, '2.6', 'ping of 125 bytes written in chops of 1 byte: pong', async (s) => {
    const payload = randomBytes(125, 26);
    await s.endpoint.writeChunked(s.endpoint.build.ping(payload), 1, 1);
    await expectEvents(s.endpoint, [pong(payload)]);
    await serverClosesCleanly(s);
  });
  clientCase(fuzz, '2.7-2.9', 'unsolicited pongs are ignored; a following ping is answered', async (s) => {
    s.endpoint.write(
      s.endpoint.build.pong(),
      s.endpoint.build.pong('unsolicited'),
      s.endpoint.build.ping('ping payload'),
    );
    await expectEvents(s.endpoint, [pong('ping payload')]);
    await expectSilence(s.endpoint, 50, 'after the pong');
    await serverClosesCleanly(s);
  });
  clientCase(fuzz, '2.10', '10 pings in one burst: 10 pongs in order', async (s) => {
    const payloads = Array.from({ length: 10 }, (_, i) => `payload-${i}`);
    s.endpoint.write(...payloads.map((p) => s.endpoint.build.ping(p)));
    await expectEvents(
      s.endpoint,
      payloads.map((p) => pong(p)),
    );
    await serverClosesCleanly(s);
  });
});

describe('3-4 reserved bits and opcodes fail with 1002 (RFC 6455 §5.2)', () => {
  const rsvCases: [string, number, number][] = [
    ['3.1', OP.TEXT, RSV2],
    ['3.2', OP.TEXT, RSV3],
    ['3.3', OP.TEXT, RSV2 | RSV3],
    ['3.5', OP.BINARY, RSV1 | RSV3],
    ['3.6', OP.PING, RSV2 | RSV3],
    ['3.7', OP.CLOSE, RSV1 | RSV2 | RSV3],
  ];
  for (const [id, opcode, rsv] of rsvCases) {
    clientCase(
      fuzz,
      id,
      `opcode ${opcode} with RSV 0x${rsv.toString(16)} after a text: echo, then 1002`,
      async (s) => {
        s.endpoint.write(
          s.endpoint.build.text('Hello, world!'),
          s.endpoint.build.raw({ opcode, payload: '', rsv }),
        );
        await expectEvents(s.endpoint, [text('Hello, world!')]);
        await expectClientFailure(s, [1002]);
      },
    );
  }
  clientCase(fuzz, '3.8', 'RSV1 without permessage-deflate negotiated: 1002 (RFC 7692 §6)', async (s) => {
    s.endpoint.write(s.endpoint.build.text('Hello, world!', { rsv: RSV1 }));
    await expectClientFailure(s, [1002]);
  });
  for (const opcode of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    const id = opcode < 8 ? `4.1.${opcode - 2}` : `4.2.${opcode - 10}`;
    clientCase(fuzz, id, `reserved opcode ${opcode} after a text: echo, then 1002`, async (s) => {
      s.endpoint.write(
        s.endpoint.build.text('Hello, world!'),
        s.endpoint.build.raw({ opcode, payload: 'reserved' }),
        s.endpoint.build.ping(),
      );
      await expectEvents(s.endpoint, [text('Hello, world!')]);
      await expectClientFailure(s, [1002]);
    });
  }
});

async function sendSlowly(s: FuzzSession, frames: Uint8Array[]): Promise<void> {
  for (const frame of frames) {
    s.endpoint.write(frame);
    await sleep(20);
  }
}

describe('5 fragmentation (RFC 6455 §5.4)', () => {
  clientCase(fuzz, '5.1', 'fragmented ping: 1002', async (s) => {
    s.endpoint.write(s.endpoint.build.ping('fragment1', { fin: false }), s.endpoint.build.cont('fragment2'));
    await expectClientFailure(s, [1002]);
  });
  clientCase(fuzz, '5.2', 'fragmented pong: 1002', async (s) => {
    s.endpoint.write(s.endpoint.build.pong('fragment1', { fin: false }), s.endpoint.build.cont('fragment2'));
    await expectClientFailure(s, [1002]);
  });
  clientCase(fuzz, '5.3-5.5', 'text in 2 fragments, sent frame by frame: echoed whole', async (s) => {
    await sendSlowly(s, [
      s.endpoint.build.text('fragment1', { fin: false }),
      s.endpoint.build.cont('fragment2'),
    ]);
    await expectEvents(s.endpoint, [text('fragment1fragment2')]);
    await serverClosesCleanly(s);
  });
  clientCase(fuzz, '5.6-5.8', 'text in 2 fragments with a ping between: pong, then echo', async (s) => {
    const b = s.endpoint.build;
    await sendSlowly(s, [b.text('fragment1', { fin: false }), b.ping('pongme!'), b.cont('fragment2')]);
    await expectEvents(s.endpoint, [pong('pongme!'), text('fragment1fragment2')]);
    await serverClosesCleanly(s);
  });
  clientCase(fuzz, '5.9', 'continuation (FIN) with nothing to continue: 1002', async (s) => {
    s.endpoint.write(
      s.endpoint.build.cont('non-continuation payload'),
      s.endpoint.build.text('Hello, world!'),
    );
    await expectClientFailure(s, [1002]);
  });
  clientCase(fuzz, '5.12', 'continuation (no FIN) with nothing to continue: 1002', async (s) => {
    s.endpoint.write(
      s.endpoint.build.cont('non-continuation payload', { fin: false }),
      s.endpoint.build.text('Hello, world!'),
    );
    await expectClientFailure(s, [1002]);
  });
  clientCase(fuzz, '5.15', 'text in 2 fragments, then an orphan continuation: echo, then 1002', async (s) => {
    const b = s.endpoint.build;
    s.endpoint.write(
      b.text('fragment1', { fin: false }),
      b.cont('fragment2'),
      b.cont('fragment3', { fin: false }),
      b.text('fragment4'),
    );
    await expectEvents(s.endpoint, [text('fragment1fragment2')]);
    await expectClientFailure(s, [1002]);
  });
  clientCase(fuzz, '5.18', 'text in 2 fragments, both with the text opcode: 1002', async (s) => {
    s.endpoint.write(s.endpoint.build.text('fragment1', { fin: false }), s.endpoint.build.text('fragment2'));
    await expectClientFailure(s, [1002]);
  });
  clientCase(
    fuzz,
    '5.19',
    'text in 5 fragments with pings and pauses between: each pong at once, then the echo',
    async (s) => {
      const b = s.endpoint.build;
      s.endpoint.write(
        b.text('fragment1', { fin: false }),
        b.cont('fragment2', { fin: false }),
        b.ping('pongme 1!'),
      );
      await expectEvents(s.endpoint, [pong('pongme 1!')], 1000);
      await sleep(200);
      s.endpoint.write(
        b.cont('fragment3', { fin: false }),
        b.cont('fragment4', { fin: false }),
        b.ping('pongme 2!'),
      );
      await expectEvents(s.endpoint, [pong('pongme 2!')], 1000);
      await sleep(200);
      s.endpoint.write(b.cont('fragment5'));
      await expectEvents(s.endpoint, [text('fragment1fragment2fragment3fragment4fragment5')]);
      await serverClosesCleanly(s);
    },
  );
});

describe('1.4 frames in the same TCP write as the 101 (RFC 6455 §4.1)', () => {
  clientCase(
    fuzz,
    '1.4.1',
    'a text frame and a ping right behind the 101 are handled after open: echo and pong',
    async (s) => {
      await expectEvents(s.endpoint, [text('early bird'), pong('early ping')]);
      await serverClosesCleanly(s);
    },
    { early: joinBytes([fromServer.text('early bird'), fromServer.ping('early ping')]) },
  );
});
