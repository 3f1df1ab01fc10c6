/**
 * Property: whatever sequence of messages and pings one role sends — random unicode text, binary of
 * any size (0 to past 65535), any fragmentation — the other role receives exactly that, in order, under
 * any chunking of the byte stream, with and without permessage-deflate (RFC 6455 §5, RFC 7692 §7.2).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Extension } from '../../src/protocol/extension.js';
import { type DeflatePair, negotiateDeflate, Peer, randomBytes, utf8 } from './harness.js';

type Action =
  | { kind: 'text'; text: string; fragmentSize: number }
  | { kind: 'binary'; size: number; seed: number; fragmentSize: number }
  | { kind: 'ping'; payload: Uint8Array };

const fragmentSize = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 1, max: 16 }),
  fc.integer({ min: 17, max: 70_000 }),
);

const textAction = fc.record({
  kind: fc.constant('text' as const),
  text: fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
    // Repeated to pass the 16-bit length form.
    {
      weight: 1,
      arbitrary: fc
        .string({ unit: 'binary', minLength: 1, maxLength: 8 })
        .map((s) => s.repeat(Math.ceil(70_000 / s.length))),
    },
  ),
  fragmentSize,
});

const binaryAction = fc.record({
  kind: fc.constant('binary' as const),
  size: fc.oneof(
    fc.integer({ min: 0, max: 300 }),
    fc.constantFrom(0, 125, 126, 127, 65535, 65536),
    fc.integer({ min: 65537, max: 150_000 }),
  ),
  seed: fc.nat(),
  fragmentSize,
});

const pingAction = fc.record({
  kind: fc.constant('ping' as const),
  payload: fc.uint8Array({ maxLength: 125 }),
});

const actions = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: textAction },
    { weight: 3, arbitrary: binaryAction },
    { weight: 1, arbitrary: pingAction },
  ),
  {
    maxLength: 12,
  },
);

/** How the byte stream is cut: random sizes from a seed, a fixed size, or one byte at a time. */
const chunking = fc.oneof(
  fc.record({ seed: fc.nat(), size: fc.constant('random' as const) }),
  fc.record({ seed: fc.constant(0), size: fc.integer({ min: 1, max: 70_000 }) }),
);

const deflateParams = fc.record({
  takeover: fc.boolean(),
  clientBits: fc.integer({ min: 9, max: 15 }),
  serverBits: fc.integer({ min: 9, max: 15 }),
  threshold: fc.constantFrom(0, 16, 1024),
});

function negotiate(params: {
  takeover: boolean;
  clientBits: number;
  serverBits: number;
  threshold: number;
}): DeflatePair {
  const noTakeover = !params.takeover;
  return negotiateDeflate(
    {
      clientMaxWindowBits: params.clientBits,
      serverMaxWindowBits: params.serverBits,
      threshold: params.threshold,
      clientNoContextTakeover: noTakeover,
    },
    { serverNoContextTakeover: noTakeover, clientNoContextTakeover: noTakeover, threshold: params.threshold },
  );
}

/** What the receiver should report for an action, as comparable values. */
function expectedEvent(action: Action): unknown {
  if (action.kind === 'ping') return { kind: 'ping', payload: action.payload };
  if (action.kind === 'text') return { kind: 'message', data: utf8(action.text), isBinary: false };
  return { kind: 'message', data: randomBytes(action.size, action.seed), isBinary: true };
}

/** The fragment size to use: at most ~2000 fragments per message keeps a run fast. */
function boundedFragmentSize(requested: number, length: number): number {
  return requested === 0 ? 0 : Math.max(requested, Math.ceil(length / 2000));
}

function perform(sender: Peer, action: Action): void {
  if (action.kind === 'ping') {
    sender.protocol.ping(action.payload);
    return;
  }
  const data = action.kind === 'text' ? utf8(action.text) : randomBytes(action.size, action.seed);
  const fragmentSize = boundedFragmentSize(action.fragmentSize, data.length);
  // Text goes in as a string, so the sender's own encoding is part of what is checked.
  if (action.kind === 'text') sender.protocol.send(action.text, { fragmentSize });
  else sender.protocol.send(data, { fragmentSize });
}

function runRoundTrip(
  senderRole: 'client' | 'server',
  list: Action[],
  cut: { seed: number; size: 'random' | number },
  pair?: DeflatePair,
): void {
  const ext = (role: 'client' | 'server'): Extension[] =>
    pair ? [role === 'client' ? pair.client : pair.server] : [];
  const receiverRole = senderRole === 'client' ? 'server' : 'client';
  const sender = new Peer(senderRole, { extensions: ext(senderRole) });
  const receiver = new Peer(receiverRole, { extensions: ext(receiverRole) });
  for (const action of list) perform(sender, action);
  // At most ~20000 receive() calls per run, whatever the fixed chunk size.
  const total = sender.writes.reduce((sum, w) => sum + w.length, 0);
  const size = cut.size === 'random' ? cut.size : Math.max(cut.size, Math.ceil(total / 20_000));
  sender.forward(receiver, size, cut.seed);
  assert.deepEqual(receiver.events, list.map(expectedEvent));
  receiver.assertMessagesIntact();
  // Every ping was answered with its payload, and nothing else was written back.
  const pongs = receiver.written().map((f) => f.payload);
  assert.deepEqual(
    pongs,
    list.flatMap((a) => (a.kind === 'ping' ? [a.payload] : [])),
  );
}

describe('round trip properties', () => {
  for (const senderRole of ['client', 'server'] as const) {
    const to = senderRole === 'client' ? 'server' : 'client';

    it(`a ${senderRole} → ${to} stream of messages and pings arrives identically under any chunking (RFC 6455 §5.4)`, () => {
      fc.assert(
        fc.property(actions, chunking, (list, cut) => runRoundTrip(senderRole, list, cut)),
        { numRuns: 150 },
      );
    });

    it(`the same with permessage-deflate, any takeover and window bits (RFC 7692 §7.2)`, () => {
      fc.assert(
        fc.property(actions, chunking, deflateParams, (list, cut, params) =>
          runRoundTrip(senderRole, list, cut, negotiate(params)),
        ),
        { numRuns: 100 },
      );
    });
  }
});
