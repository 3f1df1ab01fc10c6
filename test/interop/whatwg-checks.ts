/**
 * The checks of the WHATWG scenarios (whatwg-scenarios.ts), shared by every peer that runs them
 * (Chromium, undici, Conduit's client behind nginx): each result is compared with what it must be
 * and with what the Conduit server logged for the same connection.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { type InteropServer, sha256 } from './conduit-peer.js';
import {
  COMPRESSIBLE_TEXT,
  FRAGMENTED_BINARY_SIZE,
  LARGE_SIZE,
  largeText,
  patterned,
  REPEATED_BLOCK_SIZE,
  REPEATED_COUNT,
  SCENARIOS,
  type ScenarioName,
  type ScenarioResult,
  UNICODE_TEXT,
} from './whatwg-scenarios.js';

/**
 * `deflate`: permessage-deflate is negotiated with the server's defaults (no context takeover either
 * way); `takeover`: it is negotiated with context takeover allowed both ways; `plain`: it is not.
 */
export type Mode = 'deflate' | 'takeover' | 'plain';
export const MODES: readonly Mode[] = ['deflate', 'takeover', 'plain'];

/** A client that runs the WHATWG scenarios. */
export interface WhatwgPeer {
  /** Runs one scenario on the connection to `/<mode>?case=<name>`. */
  run(mode: Mode, name: ScenarioName): Promise<ScenarioResult>;
  /** The server that accepts `/<mode>` connections. */
  server(mode: Mode): InteropServer;
  /** The client compresses what it sends when permessage-deflate is negotiated (RFC 7692 allows not to). */
  compressesSends: boolean;
}

interface Check {
  mode: Mode;
  result: ScenarioResult;
  server: InteropServer;
  target: string;
  compressesSends: boolean;
}

const EXTENSIONS: Record<Mode, RegExp> = {
  deflate: /^permessage-deflate\b(?=.*; server_no_context_takeover)(?=.*; client_no_context_takeover)/,
  takeover: /^permessage-deflate(?!.*no_context_takeover)/,
  plain: /^$/,
};

async function checkText({ mode, result, server, target }: Check): Promise<void> {
  assert.deepEqual(result.echoes, [UNICODE_TEXT, '']);
  assert.equal(result.protocol, 'chat');
  assert.match(String(result.extensions), EXTENSIONS[mode]);
  const record = await server.connection(target);
  assert.equal(record.protocol, 'chat');
  assert.equal(record.extensions, result.extensions);
  assert.deepEqual(
    record.messages.map((m) => [m.isBinary, m.sha256]),
    [
      [false, sha256(UNICODE_TEXT)],
      [false, sha256('')],
    ],
  );
}

async function checkBinary({ result, server, target }: Check): Promise<void> {
  const view = [...new Uint8Array(new Uint16Array([0x0102, 0x0304]).buffer)];
  const blob = [9, 8, 7, ...Buffer.from('blob')];
  assert.deepEqual(result.arrayBuffer, { kind: 'ArrayBuffer', bytes: [0, 1, 2, 253, 254, 255] });
  assert.deepEqual(result.view, { kind: 'ArrayBuffer', bytes: view });
  assert.deepEqual(result.blob, { kind: 'Blob', bytes: blob });
  const record = await server.connection(target);
  assert.deepEqual(
    record.messages.map((m) => [m.isBinary, m.size]),
    [
      [true, 6],
      [true, 4],
      [true, blob.length],
    ],
  );
}

async function checkLarge({ result, server, target }: Check): Promise<void> {
  const binary = sha256(patterned(LARGE_SIZE));
  assert.deepEqual(result, {
    binaryLength: LARGE_SIZE,
    binarySha256: binary,
    textEqual: true,
    textLength: largeText(LARGE_SIZE).length,
  });
  const record = await server.connection(target);
  assert.deepEqual(
    record.messages.map((m) => [m.isBinary, m.sha256]),
    [
      [true, binary],
      [false, sha256(largeText(LARGE_SIZE))],
    ],
  );
}

async function checkFragmented({ result }: Check): Promise<void> {
  assert.deepEqual(result, {
    textEqual: true,
    binaryLength: FRAGMENTED_BINARY_SIZE,
    binarySha256: sha256(patterned(FRAGMENTED_BINARY_SIZE)),
  });
}

async function checkCompression({ mode, result, server, target, compressesSends }: Check): Promise<void> {
  assert.equal(result.equal, true);
  assert.match(String(result.extensions), EXTENSIONS[mode]);
  const record = await server.connection(target);
  const closed = await server.closed(target);
  const size = COMPRESSIBLE_TEXT.length;
  const [sent] = record.tap.messages();
  if (mode === 'plain') {
    assert.ok(closed.bytesWritten > size && closed.bytesRead > size);
    assert.equal(sent?.rsv1, false);
    return;
  }
  assert.equal(record.extensions, result.extensions);
  // The server compresses its echo: far fewer bytes than the 210 kB message went out.
  assert.ok(closed.bytesWritten < size / 10, `server wrote ${closed.bytesWritten} bytes`);
  if (compressesSends) {
    assert.equal(sent?.rsv1, true, 'RSV1 of the compressed message (RFC 7692 §6)');
    assert.ok(closed.bytesRead < size / 10, `server read ${closed.bytesRead} bytes`);
  } else {
    assert.equal(sent?.rsv1, false);
  }
}

/** Payload bytes each message took on the wire, from the frame headers. */
function wireSizes(frames: { frames: { length: number }[] }[]): number[] {
  return frames.map((message) => message.frames.reduce((sum, frame) => sum + frame.length, 0));
}

async function checkRepeated({ mode, result, server, target, compressesSends }: Check): Promise<void> {
  assert.deepEqual(result, { extensions: result.extensions, equal: true });
  assert.match(String(result.extensions), EXTENSIONS[mode]);
  const record = await server.connection(target);
  const { bytesWritten } = await server.closed(target);
  const total = REPEATED_COUNT * REPEATED_BLOCK_SIZE;
  const sent = wireSizes(record.tap.messages());
  assert.equal(sent.length, REPEATED_COUNT);
  if (mode === 'plain') {
    assert.ok(bytesWritten > total, `server wrote ${bytesWritten}`);
    assert.ok(sent.every((size) => size > REPEATED_BLOCK_SIZE));
  } else if (mode === 'deflate') {
    // Each message compressed on its own: about 3/4 of its size, every time.
    assert.ok(bytesWritten > total / 2 && bytesWritten < total, `server wrote ${bytesWritten}`);
    if (compressesSends)
      assert.ok(
        sent.every((size) => size > REPEATED_BLOCK_SIZE / 2),
        `sent ${sent}`,
      );
  } else {
    // RFC 7692 §7.1.1: with context takeover, a repeat refers back to the previous message.
    assert.ok(bytesWritten < 2 * REPEATED_BLOCK_SIZE, `server wrote ${bytesWritten}`);
    if (compressesSends)
      assert.ok(
        sent.slice(1).every((size) => size < 100),
        `sent ${sent}`,
      );
  }
}

async function checkBroadcast({ result, server, target }: Check): Promise<void> {
  assert.deepEqual(result, { equal: [true, true, true, true] });
  const closed = await server.closed(target);
  assert.equal(closed.code, 1005, 'the connection ended with our plain close, not a protocol error');
}

async function checkPing({ result, server, target }: Check): Promise<void> {
  assert.deepEqual(result, { message: 'pong:interop' });
  const record = await server.connection(target);
  assert.deepEqual(record.pongs, ['interop']);
  // RFC 6455 §5.5.3: the pong carries the ping's payload, masked like every client frame.
  assert.equal(record.tap.frames.filter((f) => f.opcode === 0xa).length, 1);
}

async function checkClientClose({ result, server, target }: Check): Promise<void> {
  const close = result.close as { code: number; wasClean: boolean };
  // RFC 6455 §5.5.1: the answering close frame echoes the status code.
  assert.equal(close.code, 4001);
  assert.equal(close.wasClean, true);
  const seen = await server.closed(target);
  assert.deepEqual([seen.code, seen.reason], [4001, 'client bye ✓']);
}

async function checkServerClose({ result, server, target }: Check): Promise<void> {
  assert.deepEqual(result.close, { code: 4002, reason: 'server bye ✓', wasClean: true });
  assert.equal((await server.closed(target)).code, 4002);
}

const CHECKS: Record<ScenarioName, (check: Check) => Promise<void>> = {
  text: checkText,
  binary: checkBinary,
  large: checkLarge,
  fragmented: checkFragmented,
  compression: checkCompression,
  repeated: checkRepeated,
  broadcast: checkBroadcast,
  ping: checkPing,
  'client-close': checkClientClose,
  'server-close': checkServerClose,
};

const TITLES: Record<ScenarioName, string> = {
  text: 'exchanges text and agrees on the subprotocol',
  binary: 'exchanges binary messages: ArrayBuffer, view and Blob',
  large: 'round-trips 1 MB binary and text messages',
  fragmented: 'reassembles fragmented text and binary messages from the server',
  compression: 'negotiates permessage-deflate when the server enables it, and compresses',
  repeated: 'shares the compression window across messages only with context takeover',
  broadcast: 'receives a broadcast between compressed messages of its own',
  ping: "answers the server's ping with a pong of the same payload",
  'client-close': 'closes from the client with a code and reason',
  'server-close': 'reports the close code and reason of the server',
};

/** Registers one test per scenario (each run in every mode) inside the caller's `describe`. */
export function whatwgTests(peer: () => WhatwgPeer): void {
  for (const name of SCENARIOS) {
    it(TITLES[name], async () => {
      for (const mode of MODES) {
        const { run, server, compressesSends } = peer();
        const result = await run(mode, name);
        assert.equal(result.error, undefined, `${mode}/${name}: ${result.error}`);
        const target = `/${mode}?case=${name}`;
        await CHECKS[name]({ mode, result, server: server(mode), target, compressesSends });
        const record = await server(mode).connection(target);
        assert.ok(
          record.tap.frames.every((f) => f.masked),
          'every client frame is masked (RFC 6455 §5.3)',
        );
      }
    });
  }
}
