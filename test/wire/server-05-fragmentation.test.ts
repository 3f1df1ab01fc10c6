/**
 * Autobahn category 5 over TCP against `conduit echo`: fragmented messages are reassembled (RFC 6455
 * §5.4), control frames may come between fragments and are answered at once, fragmented control frames,
 * orphan continuations and a new message inside a fragmented one fail the connection with 1002.
 */

import { describe } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WireEndpoint } from './wire-harness.js';
import {
  expectEvents,
  expectEventsThenClose,
  expectFailure,
  OP,
  pong,
  randomBytes,
  serverCase,
  text,
  useEchoServer,
} from './wire-harness.js';

const echo = useEchoServer();

type Mode = 'one write' | 'frame by frame' | 'chops of 1 byte';
const MODES: Mode[] = ['one write', 'frame by frame', 'chops of 1 byte'];

async function send(ep: WireEndpoint, frames: Uint8Array[], mode: Mode): Promise<void> {
  if (mode === 'one write') {
    ep.write(...frames);
    return;
  }
  for (const frame of frames) {
    if (mode === 'chops of 1 byte') await ep.writeChunked(frame, 1);
    else ep.write(frame);
    await sleep(20);
  }
}

describe('5.1-5.2 fragmented control frames', () => {
  serverCase(echo, '5.1', 'ping in 2 fragments fails with 1002 (RFC 6455 §5.5)', async (ep) => {
    ep.write(ep.build.ping('fragment1', { fin: false }), ep.build.cont('fragment2'));
    await expectFailure(ep, [1002]);
  });
  serverCase(echo, '5.2', 'pong in 2 fragments fails with 1002 (RFC 6455 §5.5)', async (ep) => {
    ep.write(ep.build.pong('fragment1', { fin: false }), ep.build.cont('fragment2'));
    await expectFailure(ep, [1002]);
  });
});

describe('5.3-5.8 fragmented text, with and without a ping between fragments', () => {
  for (const [i, mode] of MODES.entries()) {
    serverCase(
      echo,
      `5.${3 + i}`,
      `text in 2 fragments, ${mode}: echoed whole (RFC 6455 §5.4)`,
      async (ep) => {
        await send(ep, [ep.build.text('fragment1', { fin: false }), ep.build.cont('fragment2')], mode);
        await expectEventsThenClose(ep, [text('fragment1fragment2')]);
      },
    );
  }
  for (const [i, mode] of MODES.entries()) {
    serverCase(
      echo,
      `5.${6 + i}`,
      `text in 2 fragments with a ping between, ${mode}: pong, then echo (RFC 6455 §5.4)`,
      async (ep) => {
        const frames = [
          ep.build.text('fragment1', { fin: false }),
          ep.build.ping('pongme!'),
          ep.build.cont('fragment2'),
        ];
        await send(ep, frames, mode);
        await expectEventsThenClose(ep, [pong('pongme!'), text('fragment1fragment2')]);
      },
    );
  }
});

describe('5.9-5.17 continuations with nothing to continue', () => {
  for (const [i, mode] of MODES.entries()) {
    serverCase(
      echo,
      `5.${9 + i}`,
      `continuation (FIN) with nothing to continue, then text, ${mode}: 1002 (RFC 6455 §5.4)`,
      async (ep) => {
        await send(ep, [ep.build.cont('non-continuation payload'), ep.build.text('Hello, world!')], mode);
        await expectFailure(ep, [1002]);
      },
    );
  }
  for (const [i, mode] of MODES.entries()) {
    serverCase(
      echo,
      `5.${12 + i}`,
      `continuation (no FIN) with nothing to continue, then text, ${mode}: 1002`,
      async (ep) => {
        await send(
          ep,
          [ep.build.cont('non-continuation payload', { fin: false }), ep.build.text('Hello, world!')],
          mode,
        );
        await expectFailure(ep, [1002]);
      },
    );
  }
  serverCase(
    echo,
    '5.15',
    'text in 2 fragments, then an orphan continuation, then text: echo, then 1002',
    async (ep) => {
      ep.write(
        ep.build.text('fragment1', { fin: false }),
        ep.build.cont('fragment2'),
        ep.build.cont('fragment3', { fin: false }),
        ep.build.text('fragment4'),
      );
      await expectEvents(ep, [text('fragment1fragment2')]);
      await expectFailure(ep, [1002]);
    },
  );
  for (const [id, fin] of [
    ['5.16', false],
    ['5.17', true],
  ] as const) {
    serverCase(
      echo,
      id,
      `orphan continuation (FIN=${fin}) then text in 2 fragments, twice: 1002`,
      async (ep) => {
        const round = [
          ep.build.cont('fragment1', { fin }),
          ep.build.text('fragment2', { fin: false }),
          ep.build.cont('fragment3'),
        ];
        ep.write(...round, ...round);
        await expectFailure(ep, [1002]);
      },
    );
  }
});

describe('5.18-5.20 new message inside a fragmented one; pings between many fragments', () => {
  serverCase(
    echo,
    '5.18',
    'text in 2 fragments, both with the text opcode: 1002 (RFC 6455 §5.4)',
    async (ep) => {
      ep.write(ep.build.text('fragment1', { fin: false }), ep.build.text('fragment2'));
      await expectFailure(ep, [1002]);
    },
  );
  for (const [id, chop] of [
    ['5.19', false],
    ['5.20', true],
  ] as const) {
    const how = chop ? 'chops of 1 byte' : 'whole frames';
    serverCase(
      echo,
      id,
      `text in 5 fragments, pings between, pauses, ${how}: each pong at once, then the echo`,
      async (ep) => {
        const write = (frame: Uint8Array): Promise<void> =>
          chop ? ep.writeChunked(frame, 1) : Promise.resolve(ep.write(frame));
        await write(ep.build.text('fragment1', { fin: false }));
        await write(ep.build.cont('fragment2', { fin: false }));
        await write(ep.build.ping('pongme 1!'));
        await expectEvents(ep, [pong('pongme 1!')], 1000);
        await sleep(200);
        await write(ep.build.cont('fragment3', { fin: false }));
        await write(ep.build.cont('fragment4', { fin: false }));
        await write(ep.build.ping('pongme 2!'));
        await expectEvents(ep, [pong('pongme 2!')], 1000);
        await sleep(200);
        await write(ep.build.cont('fragment5'));
        await expectEventsThenClose(ep, [text('fragment1fragment2fragment3fragment4fragment5')]);
      },
    );
  }
  serverCase(
    echo,
    '5.21',
    'binary in 100 fragments of every length form, pings between: all answered (beyond Autobahn)',
    async (ep) => {
      const payload = randomBytes(100 * 700, 521);
      const frames: Uint8Array[] = [];
      for (let i = 0; i < 100; i++) {
        const piece = payload.subarray(i * 700, (i + 1) * 700);
        frames.push(ep.build.raw({ opcode: i === 0 ? OP.BINARY : OP.CONT, payload: piece, fin: i === 99 }));
        if (i % 10 === 5) frames.push(ep.build.ping(`p${i}`));
      }
      ep.write(...frames);
      const pongs = Array.from({ length: 10 }, (_, k) => pong(`p${k * 10 + 5}`));
      await expectEventsThenClose(ep, [...pongs, { type: 'binary', payload }]);
    },
  );
});
