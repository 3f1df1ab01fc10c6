/**
 * Autobahn category 13: permessage-deflate with every combination of context takeover and window bits
 * (RFC 7692 §7.1). Each case negotiates through the header syntax, round-trips messages both ways, and
 * re-inflates what each side sent with node:zlib limited to the negotiated window and takeover, which
 * fails if a sender reached further back than it agreed to.
 */
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { describe, it } from 'node:test';
import type { PerMessageDeflateOptions } from '../../src/protocol/permessage-deflate.js';
import {
  concat,
  inflateMessages,
  negotiateDeflate,
  OP,
  Peer,
  RSV1,
  randomBytes,
  utf8,
  wireMessages,
} from './harness.js';

interface Mode {
  name: string;
  client: PerMessageDeflateOptions;
  server: PerMessageDeflateOptions;
  /** Which side may keep its compression context between messages. */
  clientTakeover: boolean;
  serverTakeover: boolean;
}

const MODES: Mode[] = [
  {
    name: 'context takeover both ways',
    client: {},
    server: { serverNoContextTakeover: false, clientNoContextTakeover: false },
    clientTakeover: true,
    serverTakeover: true,
  },
  {
    name: 'no context takeover both ways',
    client: { serverNoContextTakeover: true, clientNoContextTakeover: true },
    server: {},
    clientTakeover: false,
    serverTakeover: false,
  },
  {
    name: 'client_no_context_takeover only',
    client: { clientNoContextTakeover: true },
    server: { serverNoContextTakeover: false, clientNoContextTakeover: false },
    clientTakeover: false,
    serverTakeover: true,
  },
  {
    name: 'server_no_context_takeover only',
    client: { serverNoContextTakeover: true },
    server: { serverNoContextTakeover: false, clientNoContextTakeover: false },
    clientTakeover: true,
    serverTakeover: false,
  },
];

/**
 * Messages that tempt a compressor to break its agreement: repeats at distances of 300 B to 20 KB (past
 * small windows) and whole messages repeated (which only context takeover may refer to).
 */
function temptingMessages(seed: number): Uint8Array[] {
  const messages: Uint8Array[] = [];
  for (const distance of [300, 700, 1500, 5000, 20_000]) {
    const block = randomBytes(distance, seed + distance);
    messages.push(concat(block, block, block));
  }
  const json = utf8(Array.from({ length: 200 }, (_, i) => `{"n":${i},"v":"value-${i % 7}"}`).join(','));
  messages.push(json, json, json.subarray(0, 1000), json);
  messages.push(new Uint8Array(0), utf8('x'), randomBytes(4000, seed));
  return messages;
}

/** Sends the messages one way and checks the receiver and an independent zlib decoder agree. */
function roundTrip(
  from: Peer,
  to: Peer,
  messages: Uint8Array[],
  windowBits: number,
  takeover: boolean,
): void {
  // Valid UTF-8 goes out as text on every other message, so both opcodes are compressed.
  messages.forEach((m, i) => {
    from.protocol.send(m, { binary: i % 2 === 0 || !isUtf8(m), fragmentSize: i % 3 === 0 ? 999 : 0 });
  });
  from.forward(to, 'random', windowBits);
  assert.deepEqual(to.errors, []);
  assert.deepEqual(
    to.messages.map((m) => m.data),
    messages,
  );
  const wire = wireMessages(from.written());
  const compressed = wire.filter((m) => m.rsv === RSV1);
  assert.ok(compressed.length >= 3, `only ${compressed.length} messages were compressed`);
  assert.ok(wire.every((m) => m.rsv === 0 || m.rsv === RSV1));
  const expected = wire.map((m, i) => (m.rsv === RSV1 ? messages[i]! : null)).filter((m) => m !== null);
  const inflated = inflateMessages(
    compressed.map((m) => m.payload),
    windowBits,
    takeover,
  );
  assert.deepEqual(inflated, takeover ? [concat(...expected)] : expected);
}

function paramsFor(bits: number): PerMessageDeflateOptions {
  return { serverMaxWindowBits: bits, clientMaxWindowBits: bits, threshold: 0 };
}

describe('13 permessage-deflate parameters', () => {
  MODES.forEach((mode, m) => {
    describe(`13.${m + 1} ${mode.name}`, () => {
      for (let bits = 9; bits <= 15; bits++) {
        it(`13.${m + 1}.${bits - 8} window bits ${bits}: negotiated, both directions round-trip within the agreement (RFC 7692 §7.1)`, () => {
          const pair = negotiateDeflate(
            { ...mode.client, ...paramsFor(bits) },
            { ...mode.server, threshold: 0 },
          );
          assert.equal(pair.response.server_max_window_bits, String(bits));
          assert.equal(pair.response.client_max_window_bits, String(bits));
          assert.equal(pair.response.server_no_context_takeover === true, !mode.serverTakeover);
          assert.equal(pair.response.client_no_context_takeover === true, !mode.clientTakeover);
          const client = new Peer('client', { extensions: [pair.client] });
          const server = new Peer('server', { extensions: [pair.server] });
          roundTrip(client, server, temptingMessages(bits), bits, mode.clientTakeover);
          roundTrip(server, client, temptingMessages(bits + 100), bits, mode.serverTakeover);
        });
      }
    });
  });

  describe('13.5 asymmetric window bits', () => {
    const pairs: [number, number][] = [
      [9, 15],
      [15, 9],
      [10, 12],
      [12, 10],
    ];
    pairs.forEach(([clientBits, serverBits], i) => {
      it(`13.5.${i + 1} client_max_window_bits=${clientBits}, server_max_window_bits=${serverBits} (RFC 7692 §7.1.2)`, () => {
        const options = { clientMaxWindowBits: clientBits, serverMaxWindowBits: serverBits, threshold: 0 };
        const pair = negotiateDeflate(options, {
          serverNoContextTakeover: false,
          clientNoContextTakeover: false,
          threshold: 0,
        });
        const client = new Peer('client', { extensions: [pair.client] });
        const server = new Peer('server', { extensions: [pair.server] });
        roundTrip(client, server, temptingMessages(i), clientBits, true);
        roundTrip(server, client, temptingMessages(i + 50), serverBits, true);
      });
    });
  });

  it('13.6.1 window bits 8 (zlib cannot honour it): messages still round-trip (RFC 7692 §7.1.2)', () => {
    const pair = negotiateDeflate(paramsFor(8), { threshold: 0 });
    const client = new Peer('client', { extensions: [pair.client] });
    const server = new Peer('server', { extensions: [pair.server] });
    const messages = temptingMessages(8);
    for (const message of messages) client.protocol.send(message);
    client.forward(server, 'random');
    assert.deepEqual(
      server.messages.map((m) => m.data),
      messages,
    );
    // Whatever went out compressed must inflate within a 256-byte window.
    const compressed = wireMessages(client.written()).filter((m) => m.rsv === RSV1);
    for (const message of compressed) assert.doesNotThrow(() => inflateMessages([message.payload], 8, false));
  });

  it('13.6.2 a server that forbids client takeover keeps its promise under default options (RFC 7692 §7.1.1.2)', () => {
    const pair = negotiateDeflate({ threshold: 0 }, { threshold: 0 });
    assert.equal(pair.response.client_no_context_takeover, true);
    assert.equal(pair.response.server_no_context_takeover, true);
    const client = new Peer('client', { extensions: [pair.client] });
    const server = new Peer('server', { extensions: [pair.server] });
    roundTrip(client, server, temptingMessages(3), 15, false);
    roundTrip(server, client, temptingMessages(4), 15, false);
    assert.equal(server.written().filter((f) => f.opcode === OP.CLOSE).length, 0);
  });
});
