/**
 * Conduit's WebSocketServer against the python-websockets client (Debian package python3-websockets):
 * fixtures/python_client.py runs every scenario with permessage-deflate offered and without, and
 * prints a JSON report; the test checks it against what the server logged, frame headers included.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ClosedRecord, type ConnectionRecord, InteropServer, sha256, TAKEOVER } from './conduit-peer.js';
import { ChildProcesses, fixture, lastJsonLine, pythonPeer } from './helpers.js';
import {
  COMPRESSIBLE_TEXT,
  FRAGMENTED_BINARY_SIZE,
  LARGE_SIZE,
  patterned,
  UNICODE_TEXT,
} from './whatwg-scenarios.js';

type Result = Record<string, unknown> & { error?: string };
type Report = {
  version: string;
  modes: Record<Mode, Record<string, Result>>;
  windows: Record<WindowCase, Result>;
};
type WindowCase = 'default' | 'w12-10' | 'w9';
/** Size of each message of the window cases: `<i> ` and twice a 2000-character block. */
const WINDOW_MESSAGE_SIZE = 4002;
const WINDOW_MESSAGES = 5;
type Mode = 'deflate' | 'plain';
const MODES: Mode[] = ['deflate', 'plain'];

const { python, skip } = pythonPeer();

describe('WebSocketServer against the python-websockets client', { skip }, () => {
  const children = new ChildProcesses();
  let server: InteropServer;
  let takeover: InteropServer;
  let report: Report;

  before(async () => {
    server = await InteropServer.start({ perMessageDeflate: true });
    takeover = await InteropServer.start({ perMessageDeflate: TAKEOVER });
    const bases = [server, takeover].map((s) => `ws://127.0.0.1:${s.port}`);
    const run = await children.run(python!, [fixture('python_client.py'), ...bases], 120_000);
    assert.equal(run.code, 0, `python client failed: ${run.stderr}`);
    report = lastJsonLine<Report>(run.stdout);
  });
  after(async () => {
    await children.stopAll();
    await server?.stop();
    await takeover?.stop();
  });

  /** The scenario's result (failing on a reported error) and the server's record of its connection. */
  async function scenario(mode: Mode, name: string): Promise<[Result, ConnectionRecord]> {
    const result = report.modes[mode][name]!;
    assert.equal(result.error, undefined, `${mode}/${name}: ${result.error}`);
    return [result, await server.connection(`/${mode}?case=${name}`)];
  }

  it('exchanges text and agrees on the subprotocol', async () => {
    for (const mode of MODES) {
      const [result, record] = await scenario(mode, 'text');
      assert.deepEqual(result.echoes, [UNICODE_TEXT, '']);
      assert.equal(result.subprotocol, 'chat');
      assert.equal(record.protocol, 'chat');
      assert.deepEqual(
        record.messages.map((m) => [m.isBinary, m.sha256]),
        [
          [false, sha256(UNICODE_TEXT)],
          [false, sha256('')],
        ],
      );
    }
  });

  it('exchanges binary messages with their type', async () => {
    for (const mode of MODES) {
      const [result, record] = await scenario(mode, 'binary');
      assert.deepEqual(result, { type: 'bytes', bytes: [0, 1, 2, 253, 254, 255] });
      assert.deepEqual(
        record.messages.map((m) => [m.isBinary, m.size]),
        [[true, 6]],
      );
    }
  });

  it('round-trips 1 MB binary and text messages', async () => {
    const expected = sha256(patterned(LARGE_SIZE));
    for (const mode of MODES) {
      const [result, record] = await scenario(mode, 'large');
      assert.equal(result.binaryType, 'bytes');
      assert.equal(result.binaryLength, LARGE_SIZE);
      assert.equal(result.binarySha256, expected);
      assert.equal(result.textEqual, true);
      assert.equal(record.messages[0]?.sha256, expected);
      assert.equal(record.messages[1]?.isBinary, false);
    }
  });

  it('reassembles fragmented messages in both directions', async () => {
    const binaryOfServer = sha256(patterned(FRAGMENTED_BINARY_SIZE));
    for (const mode of MODES) {
      const [result, record] = await scenario(mode, 'fragmented');
      assert.equal(result.echoedText, 'fragmented ✓ text');
      assert.equal(result.interleaved, 'interleaved with a ping');
      assert.equal(result.pongDuringMessage, true, 'the server answered a ping in the middle of a message');
      assert.equal(result.echoedBinarySha256, result.expectedBinarySha256);
      assert.equal(result.fromServerEqual, true);
      assert.equal(result.binaryFromServerLength, FRAGMENTED_BINARY_SIZE);
      assert.equal(result.binaryFromServerSha256, binaryOfServer);
      // On the wire: a text message of at least 3 frames, a binary one of at least 10 (RFC 6455 §5.4),
      // each frame masked (§5.3); only the first frame of a message has RSV1 (RFC 7692 §6.1).
      const [textOnWire, binaryOnWire] = record.tap.messages();
      assert.equal(textOnWire?.opcode, 1);
      assert.ok(textOnWire.frames.length >= 3, `${textOnWire.frames.length} text frames`);
      assert.equal(binaryOnWire?.opcode, 2);
      assert.ok(binaryOnWire.frames.length >= 10, `${binaryOnWire.frames.length} binary frames`);
      for (const message of [textOnWire, binaryOnWire]) {
        assert.deepEqual(
          message.frames.map((f) => [f.opcode !== 0, f.rsv1]),
          message.frames.map((_, i) => [i === 0, i === 0 && mode === 'deflate']),
        );
      }
      assert.ok(record.tap.frames.every((f) => f.masked));
      // The ping came between two frames of the third message.
      const opcodes = record.tap.frames.map((f) => f.opcode);
      const ping = opcodes.indexOf(0x9);
      assert.ok(ping > 0 && opcodes[ping - 1] !== 0x9 && opcodes[ping + 1] === 0x0, `${opcodes}`);
      assert.equal(record.tap.frames[ping - 1]?.fin, false);
      assert.deepEqual(record.pings, ['mid-message']);
      assert.equal(record.messages[2]?.sha256, sha256('interleaved with a ping'));
      assert.equal(record.messages[1]?.sha256, result.expectedBinarySha256);
    }
  });

  it('negotiates permessage-deflate when offered and really compresses; not when not offered', async () => {
    const [deflated, compressed] = await scenario('deflate', 'compression');
    assert.equal(deflated.equal, true);
    assert.match(String(deflated.extensions), /^permessage-deflate\b/);
    assert.match(compressed.extensions, /^permessage-deflate\b/);
    assert.ok(compressed.tap.dataFrames().every((f) => f.rsv1));
    const bytes = await server.closed('/deflate?case=compression');
    assert.ok(bytes.bytesRead < COMPRESSIBLE_TEXT.length / 10, `read ${bytes.bytesRead}`);
    assert.ok(bytes.bytesWritten < COMPRESSIBLE_TEXT.length / 10, `wrote ${bytes.bytesWritten}`);

    const [plainResult, plain] = await scenario('plain', 'compression');
    assert.equal(plainResult.equal, true);
    assert.equal(plainResult.extensions, null);
    assert.equal(plain.extensions, '');
    assert.ok(plain.tap.frames.every((f) => !f.rsv1));
    const plainBytes = await server.closed('/plain?case=compression');
    assert.ok(plainBytes.bytesRead > COMPRESSIBLE_TEXT.length);
    assert.ok(plainBytes.bytesWritten > COMPRESSIBLE_TEXT.length);
  });

  it('answers the client ping with a pong, and gets a pong for its own', async () => {
    for (const mode of MODES) {
      const [result, record] = await scenario(mode, 'ping');
      assert.deepEqual(result, { clientPingAnswered: true, message: 'pong:interop' });
      assert.deepEqual(record.pings, ['from python']);
      assert.deepEqual(record.pongs, ['interop']);
      assert.equal(record.tap.frames.filter((f) => f.opcode === 0x9).length, 1);
    }
  });

  it('closes with the code and reason of either side', async () => {
    for (const mode of MODES) {
      const [byClient] = await scenario(mode, 'client-close');
      const seen = await server.closed(`/${mode}?case=client-close`);
      assert.deepEqual([seen.code, seen.reason], [4001, 'client bye ✓']);
      // RFC 6455 §5.5.1: the answering close frame echoes the status code.
      assert.equal(byClient.code, 4001);

      const [byServer] = await scenario(mode, 'server-close');
      assert.deepEqual(byServer, { code: 4002, reason: 'server bye ✓', exception: 'ConnectionClosedError' });
      const seenByServer = await server.closed(`/${mode}?case=server-close`);
      assert.equal(seenByServer.code, 4002);
    }
  });

  /** A window case's result (failing on a reported error), its server record and its end. */
  async function windowCase(name: WindowCase): Promise<[Result, ConnectionRecord, ClosedRecord]> {
    const result = report.windows[name];
    assert.equal(result.error, undefined, `${name}: ${result.error}`);
    assert.equal(result.equal, true, `${name}: every echo is intact`);
    const target = `/takeover?case=${name}`;
    const record = await takeover.connection(target);
    assert.equal(record.extensions, result.extensions, 'both sides agree on the parameters');
    return [result, record, await takeover.closed(target)];
  }

  /** Payload bytes of each message python sent, from the frame headers. */
  const sentSizes = (record: ConnectionRecord) =>
    record.tap.messages().map((m) => m.frames.reduce((sum, f) => sum + f.length, 0));

  it('keeps the compression context across messages when neither side forbids it', async () => {
    const [result, record, closed] = await windowCase('default');
    assert.equal(result.extensions, 'permessage-deflate');
    // RFC 7692 §7.1.1: with context takeover, each repeat refers back to the previous message.
    assert.ok(
      sentSizes(record)
        .slice(1)
        .every((size) => size < 100),
      `python sent ${sentSizes(record)}`,
    );
    assert.ok(closed.bytesWritten < 2 * WINDOW_MESSAGE_SIZE, `server wrote ${closed.bytesWritten}`);
  });

  it('honours the window sizes python asks for (RFC 7692 §7.1.2)', async () => {
    const [wide, , wideClosed] = await windowCase('w12-10');
    assert.match(String(wide.extensions), /; server_max_window_bits=12\b/);
    assert.match(String(wide.extensions), /; client_max_window_bits=10\b/);
    // A 2^12 window still reaches the repeat 2000 bytes back.
    assert.ok(wideClosed.bytesWritten < 2 * WINDOW_MESSAGE_SIZE, `server wrote ${wideClosed.bytesWritten}`);

    // §7.1.2.1: the server must echo server_max_window_bits and compress within 2^9 bytes. Python
    // inflates with that window, so a farther back-reference would have failed the connection;
    // nothing repeats within 512 bytes, so the server's messages stay large.
    const [narrow, , narrowClosed] = await windowCase('w9');
    assert.match(String(narrow.extensions), /; server_max_window_bits=9\b/);
    assert.ok(
      narrowClosed.bytesWritten > WINDOW_MESSAGES * (WINDOW_MESSAGE_SIZE / 2),
      `server wrote ${narrowClosed.bytesWritten}`,
    );
    assert.equal(narrowClosed.code, 1000);
  });
});
