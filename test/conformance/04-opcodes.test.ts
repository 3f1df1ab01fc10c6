/**
 * Autobahn category 4: reserved opcodes. Data opcodes 3–7 (4.1) and control opcodes 11–15 (4.2) are
 * reserved; receiving one fails the connection with 1002 (RFC 6455 §5.2).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertFailed, fromClient, fromServer, OP, Peer } from './harness.js';

function reservedOpcodeCases(group: string, opcodes: number[]): void {
  describe(`${group} reserved ${group === '4.1' ? 'data' : 'control'} opcodes`, () => {
    let n = 0;
    for (const opcode of opcodes) {
      n++;
      it(`${group}.${n} opcode ${opcode} without payload → 1002 (RFC 6455 §5.2: reserved opcode)`, () => {
        const peer = new Peer('server').feed(fromClient.raw({ opcode }));
        assertFailed(peer, 1002, 'ERR_RESERVED_OPCODE');
      });
      n++;
      it(`${group}.${n} text, opcode ${opcode} with payload, ping → text only, 1002 (RFC 6455 §5.2)`, () => {
        const frames = [
          fromClient.text('Hello, world!'),
          fromClient.raw({ opcode, payload: 'reserved' }),
          fromClient.ping(),
        ];
        const peer = new Peer('server').feed(frames);
        assert.deepEqual(peer.texts, ['Hello, world!']);
        assert.equal(peer.writtenOf(OP.PONG).length, 0);
        assertFailed(peer, 1002, 'ERR_RESERVED_OPCODE');
      });
      n++;
      it(`${group}.${n} the same, chopped into 1-byte chunks (RFC 6455 §5.2)`, () => {
        const frames = [
          fromClient.text('Hello, world!'),
          fromClient.raw({ opcode, payload: 'reserved' }),
          fromClient.ping(),
        ];
        const peer = new Peer('server').feed(frames, 1);
        assert.deepEqual(peer.texts, ['Hello, world!']);
        assertFailed(peer, 1002, 'ERR_RESERVED_OPCODE');
      });
      n++;
      it(`${group}.${n} opcode ${opcode} from a server to a client → 1002 (RFC 6455 §5.2)`, () => {
        const peer = new Peer('client').feed([
          fromServer.raw({ opcode, payload: 'x' }),
          fromServer.text('after'),
        ]);
        assert.deepEqual(peer.messages, []);
        assertFailed(peer, 1002, 'ERR_RESERVED_OPCODE');
      });
    }
  });
}

reservedOpcodeCases('4.1', [3, 4, 5, 6, 7]);
reservedOpcodeCases('4.2', [11, 12, 13, 14, 15]);

describe('4.3 reserved opcodes inside a fragmented message', () => {
  it('4.3.1 a reserved data opcode between fragments → 1002, no message (RFC 6455 §5.2, §5.4)', () => {
    const frames = [fromClient.text('frag', { fin: false }), fromClient.raw({ opcode: 3, payload: 'x' })];
    const peer = new Peer('server').feed(frames);
    assert.deepEqual(peer.messages, []);
    assertFailed(peer, 1002, 'ERR_RESERVED_OPCODE');
  });

  it('4.3.2 a reserved control opcode between fragments → 1002, no message (RFC 6455 §5.2, §5.4)', () => {
    const frames = [
      fromClient.text('frag', { fin: false }),
      fromClient.raw({ opcode: 11 }),
      fromClient.cont('ment'),
    ];
    const peer = new Peer('server').feed(frames);
    assert.deepEqual(peer.messages, []);
    assertFailed(peer, 1002, 'ERR_RESERVED_OPCODE');
  });
});
