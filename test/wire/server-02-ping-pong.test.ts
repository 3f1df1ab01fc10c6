/**
 * Autobahn category 2 over TCP against `conduit echo`: every ping is answered by a pong with the same
 * payload (RFC 6455 §5.5.2, §5.5.3), unsolicited pongs are ignored, a ping over 125 bytes fails the
 * connection with 1002 (§5.5).
 */

import { describe } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  expectCleanClose,
  expectEvents,
  expectEventsThenClose,
  expectFailure,
  expectSilence,
  hex,
  pong,
  randomBytes,
  serverCase,
  text,
  useEchoServer,
} from './wire-harness.js';

const echo = useEchoServer();

describe('2 pings and pongs', () => {
  for (const [id, title, payload] of [
    ['2.1', 'ping without payload: pong without payload (RFC 6455 §5.5.2)', ''],
    ['2.2', 'ping with a small text payload: pong with the same payload', 'Hello, world!'],
    ['2.3', 'ping with a small binary payload: pong with the same payload', hex('00 ff fe fd fc fb 00 ff')],
    [
      '2.4',
      'ping with 125 bytes of binary payload: pong with the same (RFC 6455 §5.5)',
      randomBytes(125, 24),
    ],
  ] as const) {
    serverCase(echo, id, title, async (ep) => {
      ep.write(ep.build.ping(payload));
      await expectEventsThenClose(ep, [pong(payload)]);
    });
  }

  serverCase(echo, '2.5', 'ping with 126 bytes of payload fails with 1002 (RFC 6455 §5.5)', async (ep) => {
    ep.write(ep.build.ping(randomBytes(126, 25)));
    await expectFailure(ep, [1002]);
  });

  serverCase(
    echo,
    '2.6',
    'ping with 125 bytes written in chops of 1 byte: pong with the same payload',
    async (ep) => {
      const payload = randomBytes(125, 26);
      await ep.writeChunked(ep.build.ping(payload), 1, 1);
      await expectEventsThenClose(ep, [pong(payload)]);
    },
  );

  serverCase(echo, '2.7', 'an unsolicited pong without payload is ignored (RFC 6455 §5.5.3)', async (ep) => {
    ep.write(ep.build.pong());
    await expectSilence(ep, 100, 'after an unsolicited pong');
    await expectCleanClose(ep);
  });

  serverCase(echo, '2.8', 'an unsolicited pong with payload is ignored (RFC 6455 §5.5.3)', async (ep) => {
    ep.write(ep.build.pong('unsolicited pong payload'));
    await expectSilence(ep, 100, 'after an unsolicited pong');
    await expectCleanClose(ep);
  });

  serverCase(echo, '2.9', 'an unsolicited pong, then a ping: only the ping is answered', async (ep) => {
    ep.write(ep.build.pong('unsolicited pong payload'), ep.build.ping('ping payload'));
    await expectEvents(ep, [pong('ping payload')]);
    await expectSilence(ep, 50, 'after the pong');
    await expectCleanClose(ep);
  });

  serverCase(
    echo,
    '2.10',
    '10 pings in one burst: 10 pongs, in order, with the same payloads',
    async (ep) => {
      const payloads = Array.from({ length: 10 }, (_, i) => `payload-${i}`);
      ep.write(...payloads.map((p) => ep.build.ping(p)));
      await expectEventsThenClose(
        ep,
        payloads.map((p) => pong(p)),
      );
    },
  );

  serverCase(
    echo,
    '2.11',
    '10 pings, one every 10 ms, each written in chops of 1 byte: 10 pongs in order',
    async (ep) => {
      const payloads = Array.from({ length: 10 }, (_, i) => `payload-${i}`);
      for (const payload of payloads) {
        await ep.writeChunked(ep.build.ping(payload), 1);
        await sleep(10);
      }
      await expectEventsThenClose(
        ep,
        payloads.map((p) => pong(p)),
      );
    },
  );

  serverCase(
    echo,
    '2.12',
    'pings between text messages: echoes and pongs in order (beyond Autobahn)',
    async (ep) => {
      ep.write(ep.build.text('one'), ep.build.ping('p1'), ep.build.text('two'), ep.build.ping('p2'));
      await expectEventsThenClose(ep, [text('one'), pong('p1'), text('two'), pong('p2')]);
    },
  );

  serverCase(echo, '2.13', 'a masked pong over 125 bytes fails with 1002 too (RFC 6455 §5.5)', async (ep) => {
    ep.write(ep.build.pong(randomBytes(126, 27)));
    await expectFailure(ep, [1002]);
  });
});
